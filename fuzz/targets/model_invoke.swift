// Fuzz target `model_invoke`: many valid-but-unusual models through plan + invoke. Most inputs of the `model`
// target fail validation (0.5 % of its executions reach invoke), so this one starts from a valid fuzz model
// and lets the input patch it: byte 0 picks the model (GRU with frontend tables, LSTM, CNN); the rest is a list
// of 3-byte patches (u16 little-endian offset past the 64-byte header, modulo the file size; one byte value).
// The CRC is then recomputed. Patches to weights, biases, requantization, zero points and operator params
// mostly keep the file valid, so most executions validate, plan, prepare and invoke; patches to sizes and
// offsets exercise validation. The harness counts executions that reached invoke and prints it at exit.
import CRNNRuntime
#if canImport(Glibc)
import Glibc
#endif

let baseModels = [fuzzTinyModel(.gru, frontend: true), fuzzTinyModel(.lstm, frontend: false), fuzzTinyModel(.cnn, frontend: false)]
nonisolated(unsafe) var invokeCount = 0
nonisolated(unsafe) var registeredReport = false

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModelInvoke(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if !registeredReport {
        registeredReport = true
        atexit { fputs("model_invoke: \(invokeCount) invokes\n", stderr) }
    }
    guard size >= 1 else { return 0 }
    var bytes = baseModels[Int(data[0]) % baseModels.count]
    let body = bytes.count - ModelLayout.headerBytes
    var i = 1
    while i + 3 <= size {
        let offset = (Int(data[i]) | Int(data[i + 1]) << 8) % body
        bytes[ModelLayout.headerBytes + offset] = data[i + 2]
        i += 3
    }
    fixModelCRC(&bytes)
    bytes.withUnsafeBufferPointer { p in
        withAligned(p.baseAddress, p.count) { raw in
            guard let model = try? ModelFile(bytes: raw) else { return }
            if planAndInvoke(model) { invokeCount += 1 }
        }
    }
    return 0
}
