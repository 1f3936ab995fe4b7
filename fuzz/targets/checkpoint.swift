// Fuzz target `checkpoint`: an untrusted float checkpoint (`crnn-train fit` output, Training/Checkpoint)
// through Checkpoint(bytes:). Each input runs twice: as given, and followed by an `END ` section holding the
// FNV-1a checksum of the input (so mutated section lists reach the FCFG, META/OPTS JSON and tensor-table
// decoders). A checkpoint that decodes must re-encode to one that decodes with the same weights.
import Features
import Training

func decode(_ bytes: [UInt8]) {
    guard let c = try? Checkpoint(bytes: bytes) else { return }
    guard let again = try? Checkpoint(bytes: c.encoded()) else { preconditionFailure("re-encoded checkpoint does not decode") }
    precondition(again.weights.map(\.name) == c.weights.map(\.name) && again.weightBytes == c.weightBytes,
                 "round trip changed the weights")
    precondition(again.meta == c.meta, "round trip changed the metadata")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    decode(bytes)
    let sum = fnv1a(bytes)
    bytes += Array("END ".utf8) + [4, 0, 0, 0, 0, 0, 0, 0]
    for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: sum >> UInt32(8 * i))) }
    decode(bytes)
    return 0
}
