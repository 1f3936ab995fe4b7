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
            let plan = ArenaPlan(model: model)
            precondition(plan.arenaBytes >= plan.peakLiveBytes, "plan smaller than its peak")
            guard plan.arenaBytes <= 64 << 20, let it = try? Interpreter(model: model) else { return }
            if let features = it.featureInput {
                for k in 0..<features.count { features[k] = Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: k) &* 2_654_435_761) >> 12 }
                it.invoke()
            } else {
                let q = it.int8Tensor(it.quantizedInputTensor)
                for k in 0..<q.count { q[k] = Int8(truncatingIfNeeded: k &* 37) }
                it.invoke(from: it.quantizedInputTensor == model.inputTensor ? 0 : 1)
            }
            invokeCount += 1
            var probabilities = [Int16](repeating: 0, count: it.output.count)
            probabilities.withUnsafeMutableBufferPointer { it.probabilitiesQ15(into: $0) }
        }
    }
    return 0
}
