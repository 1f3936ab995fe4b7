// Fuzz target `pcm_stream`: raw S16LE bytes, as `crnn-infer MODEL --stream` reads them from a pipe, through
// PCM16LEDecoder and StreamClassifier with the fuzz model (fuzzTinyModel(.gru), 1024-sample segments).
// Input layout: byte 0 chooses the hop (1...8 frames of 128 samples); bytes 1...8 are a cycle of chunk sizes
// (each byte b -> a read of b * 4 + (b & 3) bytes, 0 allowed); the rest is the PCM stream, cut into those
// chunks (odd sizes split samples across reads). Checks: every byte is decoded exactly once, windows are due
// exactly every hop after the first segment, probabilities are in 0...32767.
import CRNNRuntime

let streamModelBytes = fuzzTinyModel(.gru, frontend: true)
let streamModel: UnsafeMutableRawBufferPointer = {
    let b = UnsafeMutableRawBufferPointer.allocate(byteCount: streamModelBytes.count, alignment: 16)
    streamModelBytes.withUnsafeBytes { b.copyMemory(from: $0) }
    return b
}()
let streamClassifier: SegmentClassifier<FixedPointMFCCExtractor> = {
    do {
        let model = try ModelFile(bytes: UnsafeRawBufferPointer(streamModel))
        return try SegmentClassifier(interpreter: try Interpreter(model: model), extractor: try FixedPointMFCCExtractor(model: model))
    } catch { fatalError("the fuzz model must load: \(error)") }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPCMStream(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 9 else { return 0 }
    let hop = (1 + Int(data[0] % 8)) * Int(fuzzFeatureConfig.hopLength)
    let chunks = (1...8).map { Int(data[$0]) * 4 + Int(data[$0] & 3) }
    let stream = StreamClassifier(classifier: streamClassifier, hopSamples: hop)
    var decoder = PCM16LEDecoder()
    let samples = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 1024 + 1)
    defer { samples.deallocate() }
    var at = 9, k = 0, decoded: Int64 = 0
    while at < size {
        let n = min(chunks[k % 8], size - at)
        k += 1
        let count = decoder.decode(UnsafeRawBufferPointer(start: data + at, count: n), into: samples)
        at += n
        decoded += Int64(count)
        var used = 0
        while used < count {
            used += stream.append(UnsafeBufferPointer(rebasing: samples[used..<count]))
            if stream.windowDue {
                let p = stream.classifyWindow()
                for v in p { precondition(v >= 0, "negative probability") }
            }
        }
        if k > 100_000 { break }  // a zero-size chunk cycle cannot loop forever
    }
    precondition(stream.totalSamples == decoded, "samples lost or duplicated")
    precondition(decoded == Int64((at - 9) / 2), "decoder count differs from bytes / 2")
    let segment = Int64(fuzzFeatureConfig.segmentSamples)
    let expectedWindows = decoded < segment ? 0 : 1 + (decoded - segment) / Int64(hop)
    precondition(stream.windowCount == expectedWindows, "windows not due exactly every hop")
    _ = stream.finish()
    precondition(stream.unclassifiedSamples >= 0)
    return 0
}
