// Embedded smoke test: runs the paper-shaped cnn-gru and cnn-lstm (Tests/TestSupport/PaperTestModel.swift, the
// regression model) on ARM under QEMU and hands the logits to a C main (tools/embedded/smoke.c, run by
// tools/embedded_smoke.sh). Embedded Swift, compiled with the runtime sources as one module; no imports.

/// Writes the 10 + 10 logits of cnn-gru and cnn-lstm on `paperModelInput()`; returns 0 when they equal
/// `paperModelExpectedLogits`, 1 on a model error, 2 when they differ.
@_cdecl("crnn_smoke_logits")
public func crnnSmokeLogits(_ out: UnsafeMutablePointer<Int8>) -> Int32 {
    let input = paperModelInput()
    var same = true
    for (k, lstm) in [false, true].enumerated() {
        let bytes = buildPaperModel(lstm: lstm).encode()
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        defer { buf.deallocate() }
        for i in 0..<bytes.count { buf[i] = bytes[i] }
        let ok = runOne(UnsafeRawBufferPointer(buf), input, out + 10 * k)
        if !ok { return 1 }
        for i in 0..<10 where out[10 * k + i] != paperModelExpectedLogits[k][i] { same = false }
    }
    return same ? 0 : 2
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
