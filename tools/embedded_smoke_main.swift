// Embedded smoke test: runs the paper-shaped cnn-gru and cnn-lstm (LCG weights, as in the regression test)
// on ARM under QEMU and hands the logits to a C main (tools/embedded_smoke.sh). Embedded Swift, no imports.

/// Writes the 10 + 10 logits of cnn-gru and cnn-lstm on LCG input seed 1; returns 0, or 1 on a model error.
@_cdecl("crnn_smoke_logits")
public func crnnSmokeLogits(_ out: UnsafeMutablePointer<Int8>) -> Int32 {
    var g = LCG(state: 1)
    let input = (0..<(130 * 23)).map { _ in Int32(truncatingIfNeeded: g.next()) >> 14 }
    for (k, lstm) in [false, true].enumerated() {
        let bytes = buildPaperModel(lstm: lstm).encode()
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        defer { buf.deallocate() }
        for i in 0..<bytes.count { buf[i] = bytes[i] }
        let ok = runOne(UnsafeRawBufferPointer(buf), input, out + 10 * k)
        if !ok { return 1 }
    }
    return 0
}

func runOne(_ model: UnsafeRawBufferPointer, _ input: [Int32], _ out: UnsafeMutablePointer<Int8>) -> Bool {
    do {
        let it = try Interpreter(model: try ModelFile(bytes: model))
        try input.withUnsafeBufferPointer { (p) throws(ModelError) in try it.run(features: p) }
        for i in 0..<10 { out[i] = it.output[i] }
        return true
    } catch {
        return false
    }
}
