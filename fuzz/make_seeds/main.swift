// Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from the project's own writers:
// ModelBuilder (model files, frontend tables), a small WAV writer below (PCM 8/16/24/32, float, stereo,
// EXTENSIBLE, RIFX), FeatureCache.encoded() and Checkpoint.encoded(). Deterministic: re-running it rewrites
// the same bytes. Run by `tools/fuzz.sh seeds` (builds it uninstrumented, then runs it from the repo root).
import CRNNRuntime
import Features
import Foundation
import Training

func write(_ target: String, _ name: String, _ bytes: [UInt8]) {
    let dir = "fuzz/corpus/\(target)"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: "\(dir)/\(name)", contents: Data(bytes))
    print("\(dir)/\(name): \(bytes.count) bytes")
}

/// Every seed must be accepted by its reader (a seed the reader refuses would only test the first check).
func checkModel(_ b: [UInt8]) -> [UInt8] {
    b.withUnsafeBufferPointer { p in withAligned(p.baseAddress, p.count) { raw in
        do { _ = try Interpreter(model: try ModelFile(bytes: raw)) } catch { fatalError("seed model invalid: \(error)") }
    } }
    return b
}
func checkWAV(_ b: [UInt8]) -> [UInt8] {
    b.withUnsafeBufferPointer { p in withAligned(p.baseAddress, p.count) { raw in
        do { _ = try WAVFile(bytes: raw) } catch { fatalError("seed WAV invalid: \(error)") }
    } }
    return b
}

// MARK: model, frontend_tables

write("model", "tiny-gru.crnn", checkModel(fuzzTinyModel(.gru, frontend: true)))
write("model", "tiny-lstm.crnn", checkModel(fuzzTinyModel(.lstm, frontend: false)))
write("model", "tiny-cnn.crnn", checkModel(fuzzTinyModel(.cnn, frontend: false)))
let withTables = fuzzTinyModel(.gru, frontend: true)
if let s = frontendSectionEntry(withTables) {
    let length = Int(withTables[s.entry + 8]) | Int(withTables[s.entry + 9]) << 8 | Int(withTables[s.entry + 10]) << 16
    write("frontend_tables", "tiny-gru.frontend", Array(withTables[s.offset..<(s.offset + length)]))
}

// MARK: model_invoke: [model 0 gru / 1 lstm / 2 cnn][3-byte patches: u16 offset after the header, value]

write("model_invoke", "gru.patch", [0])
write("model_invoke", "lstm.patch", [1])
write("model_invoke", "cnn-two-patches.patch", [2, 0x00, 0x09, 0x7F, 0x10, 0x08, 0x80])

// MARK: wav

func le(_ v: UInt32, _ n: Int, big: Bool = false) -> [UInt8] {
    let b = (0..<n).map { UInt8(truncatingIfNeeded: v >> UInt32(8 * $0)) }
    return big ? b.reversed() : b
}
/// A WAV file: `tag` 1 PCM / 3 float / 0xFFFE extensible over `sub`; samples given as raw channel-sample bytes.
func wav(tag: UInt16, sub: UInt16 = 1, channels: Int, bits: Int, rate: UInt32 = 8000, data: [UInt8], big: Bool = false,
         extraChunk: Bool = false) -> [UInt8] {
    let align = channels * bits / 8
    var fmt = le(UInt32(tag), 2, big: big) + le(UInt32(channels), 2, big: big) + le(rate, 4, big: big)
        + le(rate * UInt32(align), 4, big: big) + le(UInt32(align), 2, big: big) + le(UInt32(bits), 2, big: big)
    if tag == 0xFFFE {
        fmt += le(22, 2, big: big) + le(UInt32(bits), 2, big: big) + le(channels == 1 ? 4 : 3, 4, big: big)
        fmt += le(UInt32(sub), 4, big: big) + le(0, 2, big: big) + le(0x10, 2, big: big) + [0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
    }
    var body = Array("WAVE".utf8) + Array("fmt ".utf8) + le(UInt32(fmt.count), 4, big: big) + fmt
    if extraChunk { body += Array("LIST".utf8) + le(5, 4, big: big) + Array("INFOx".utf8) + [0] }
    body += Array("data".utf8) + le(UInt32(data.count), 4, big: big) + data
    if data.count % 2 == 1 { body.append(0) }
    return Array((big ? "RIFX" : "RIFF").utf8) + le(UInt32(body.count), 4, big: big) + body
}
let tone = (0..<24).map { i in Int32((sin(Double(i) * 0.7) * 30000).rounded()) }
write("wav", "pcm16-mono.wav", checkWAV(wav(tag: 1, channels: 1, bits: 16, data: tone.flatMap { le(UInt32(bitPattern: $0), 2) })))
write("wav", "pcm8-stereo-list.wav", checkWAV(wav(tag: 1, channels: 2, bits: 8, data: tone.map { UInt8(truncatingIfNeeded: ($0 >> 8) + 128) },
                                         extraChunk: true)))
write("wav", "pcm24-mono.wav", checkWAV(wav(tag: 1, channels: 1, bits: 24, data: tone.flatMap { le(UInt32(bitPattern: $0 << 8), 3) })))
write("wav", "pcm32-stereo.wav", checkWAV(wav(tag: 1, channels: 2, bits: 32, data: tone.flatMap { le(UInt32(bitPattern: $0 << 16), 4) })))
write("wav", "float32-mono.wav", checkWAV(wav(tag: 3, channels: 1, bits: 32, data: tone.flatMap { le((Float($0) / 32768).bitPattern, 4) })))
write("wav", "extensible-float.wav", checkWAV(wav(tag: 0xFFFE, sub: 3, channels: 1, bits: 32, data: tone.flatMap { le((Float($0) / 32768).bitPattern, 4) })))
write("wav", "extensible-pcm16-3ch.wav", checkWAV(wav(tag: 0xFFFE, sub: 1, channels: 3, bits: 16, data: tone.flatMap { le(UInt32(bitPattern: $0), 2) })))
write("wav", "rifx-pcm16.wav", checkWAV(wav(tag: 1, channels: 1, bits: 16, data: tone.flatMap { le(UInt32(bitPattern: $0), 2, big: true) }, big: true)))
var streaming = wav(tag: 1, channels: 1, bits: 16, data: tone.flatMap { le(UInt32(bitPattern: $0), 2) })
for i in 4..<8 { streaming[i] = 0xFF }
for i in 40..<44 { streaming[i] = 0xFF }  // RIFF and data sizes as the 0xFFFFFFFF "unknown length" placeholder
write("wav", "pcm16-unknown-length.wav", checkWAV(streaming))

// MARK: pcm_stream: [hop byte][8 chunk-size bytes][S16LE samples]

func stream(hop: UInt8, chunks: [UInt8], samples: Int, seed: UInt32) -> [UInt8] {
    var s = seed
    var out = [hop] + chunks
    for i in 0..<samples {
        s = s &* 1_664_525 &+ 1_013_904_223
        let v = Int32((sin(Double(i) * 0.05) * 12000).rounded()) + Int32(truncatingIfNeeded: s >> 20) - 2048
        out += le(UInt32(bitPattern: v), 2)
    }
    return out
}
write("pcm_stream", "hop1-odd-chunks.pcm", stream(hop: 0, chunks: [1, 0, 77, 3, 255, 9, 64, 2], samples: 1400, seed: 1))
write("pcm_stream", "hop3-big-chunks.pcm", stream(hop: 2, chunks: [255, 200, 128, 255, 31, 255, 100, 250], samples: 1800, seed: 2))
write("pcm_stream", "short.pcm", stream(hop: 7, chunks: [5, 5, 5, 5, 5, 5, 5, 5], samples: 1020, seed: 3))

// MARK: feature_file

let c = fuzzFeatureConfig
var values: [Float] = []
for i in 0..<(3 * c.valuesPerSegment) { values.append(Float(i % 17) * 0.5 - 4) }
let cache = FeatureCache(config: c, labels: ["blues", "jazz"],
                         tracks: [FeatureTrack(trackID: "blues.00000", relativePath: "blues/blues.00000.flac", label: 0, firstSegment: 0, segmentCount: 2),
                                  FeatureTrack(trackID: "jazz.00001", relativePath: "jazz/jazz.00001.wav", label: 1, firstSegment: 2, segmentCount: 1)],
                         values: values)
write("feature_file", "two-tracks.features", cache.encoded())
write("feature_file", "empty.features", FeatureCache(config: c, labels: ["x"], tracks: [], values: [], shardIndex: 2, shardCount: 3).encoded())

// MARK: checkpoint

let meta = CheckpointMeta(model: "cnn-gru", modelOptions: ["units": "4"], labels: ["blues", "jazz"], inputMean: [0.5, -1],
                          inputStd: [2, 3], split: "track", splitSeed: 7, fold: 1, trainTracks: ["blues.00000"],
                          validationTracks: ["jazz.00001"], testTracks: [], provenance: ["cmd": "fuzz seed"])
let weights = [NamedTensor(name: "conv2d/kernel", shape: [3, 3, 1, 2], values: (0..<18).map { Float($0) / 9 - 1 }),
               NamedTensor(name: "dense/bias", shape: [2], values: [0.25, -0.25])]
write("checkpoint", "weights-only.ckpt", Checkpoint(featureConfig: c, meta: meta, weights: weights).encoded())
let state = TrainingState(completedEpochs: 2, optimizerStep: 10, bestEpoch: 1, bestValidationLoss: 0.75, epochsSinceImprovement: 1,
                          history: [EpochRecord(epoch: 1, trainLoss: 1, trainAccuracy: 0.5, validationLoss: 0.75,
                                                validationAccuracy: 0.5, learningRate: 0.001, seconds: 1.5)],
                          rngState: 42, options: ["epochs": "3"])
write("checkpoint", "resumable.ckpt", Checkpoint(featureConfig: c, meta: CheckpointMeta(model: "cnn", labels: ["a"]),
                                                 weights: [weights[1]], state: state,
                                                 optimizer: [NamedTensor(name: "adam/m/dense/bias", shape: [2], values: [0, 1])]).encoded())
