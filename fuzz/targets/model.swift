// Fuzz target `model`: an untrusted int8 model file through everything crnn-infer does with it before audio:
// ModelFile validation, the label and frontend-table accessors, ArenaPlan, Interpreter (prepare steps), then one
// invoke on a fixed input and the Q15 softmax. Each input runs twice: as given (so the CRC check itself is
// fuzzed) and with its CRC32 field recomputed (so mutations reach the section, tensor and operator checks).
import CRNNRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Harness limit, not a runtime rule: models whose planned arena exceeds this are validated and planned
/// but not run (a valid file may legitimately declare large activations; running them only costs time).
let maxArenaBytes = 64 << 20

/// Executions that reached `invoke`, printed at exit (libFuzzer's `-runs=N` ends with exit()).
nonisolated(unsafe) var invokeCount = 0
nonisolated(unsafe) var registeredReport = false

func exercise(_ bytes: [UInt8]) {
    bytes.withUnsafeBufferPointer { p in
        withAligned(p.baseAddress, p.count) { raw in
            guard let model = try? ModelFile(bytes: raw) else { return }
            for i in 0..<model.labelCount { _ = model.label(i).count }
            _ = model.frontendTables()
            if planAndInvoke(model, maxArenaBytes: maxArenaBytes) { invokeCount += 1 }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if !registeredReport {
        registeredReport = true
        atexit { fputs("model: \(invokeCount) invokes\n", stderr) }
    }
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    exercise(bytes)
    fixModelCRC(&bytes)
    exercise(bytes)
    return 0
}
