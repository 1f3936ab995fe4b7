// Fuzz target `feature_file`: an untrusted feature file (`crnn-train features` output, Features/FeatureCache)
// through FeatureCache(bytes:). Each input runs twice: as given (the checksum check is fuzzed) and with its
// last 4 bytes replaced by the FNV-1a checksum of the rest (so mutations reach the header and table checks).
// A file that decodes must re-encode to a file that decodes to the same segment labels and tracks.
import Features

func decode(_ bytes: [UInt8]) {
    guard let cache = try? FeatureCache(bytes: bytes) else { return }
    let labels = cache.segmentLabels, tracks = cache.segmentTracks
    precondition(labels.count == cache.segmentCount && tracks.count == cache.segmentCount)
    guard let again = try? FeatureCache(bytes: cache.encoded()) else { preconditionFailure("re-encoded file does not decode") }
    precondition(again.segmentLabels == labels && again.tracks.count == cache.tracks.count, "round trip changed the file")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFeatureFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    decode(bytes)
    if bytes.count >= 4 {
        bytes.removeLast(4)
        let sum = fnv1a(bytes)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: sum >> UInt32(8 * i))) }
        decode(bytes)
    }
    return 0
}
