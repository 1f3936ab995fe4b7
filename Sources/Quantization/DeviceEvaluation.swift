// The whole device path measured from audio, by running CRNNRuntime exactly as `crnn-infer` does:
// decoded clip -> Int16 PCM (`pcm16(fromFloat:)`, the rule `crnn-train convert` writes WAVs with) -> segments
// (FeatureConfig.segmentCount, the last one zero-padded) -> SegmentClassifier with the fixed-point MFCC
// (FixedPointMFCCExtractor) and the int8 network -> Q15 probabilities -> ClipScores (the clip's genre).
// Beside it, on the same Int16 segments: the float MFCC (Features, input q / 32768) for the frontend's SNR, and
// the int8 network on that float MFCC (Q23.8) for the agreement that isolates the fixed-point frontend.
import AudioIO
import CRNNRuntime
import Features
import Foundation

/// One evaluated clip as the device classifies it (what `crnn-infer FILE.wav --json` prints for its WAV).
public struct DeviceTrack: Sendable, Equatable {
    public var trackID: String
    public var relativePath: String
    /// The true genre (label index).
    public var label: Int
    /// `ClipScores.top1`: argmax of the exact sums of the segment Q15 probabilities, ties to the lower index.
    public var predicted: Int
    /// `ClipScores.meanQ15(c)` for every class, model order.
    public var meanQ15: [Int32]
    /// Top-1 of each segment (argmax of the int8 logits, ties to the lower index).
    public var segmentTop1: [Int]
}

/// Device-path figures on an evaluation set's clips. Fractions are 0-1.
public struct DevicePathComparison: Sendable {
    public var segments: Int
    public var tracks: [DeviceTrack]
    /// Device top-1 vs the segment's label.
    public var segmentAccuracy: Double
    /// Device clip decision (ClipScores) vs the track's label.
    public var trackAccuracy: Double
    /// Device top-1 vs the FLOAT model's top-1 (float MFCC of the decoded audio + float network).
    public var agreementWithFloat: Double
    /// Device top-1 vs the int8 network's top-1 on the float MFCC of the same Int16 segment: the fixed-point
    /// frontend's effect on classification alone.
    public var agreementWithInt8OnFloatMFCC: Double
    /// Segment accuracy of the int8 network on the float MFCC of the Int16 segments.
    public var int8OnFloatMFCCSegmentAccuracy: Double
    /// Fixed vs float MFCC, per segment `10 log10(sum f^2 / sum (f - q)^2)` over all coefficients: minimum and
    /// mean over the segments (segments with no error at all are left out of both, and counted in `exactSegments`).
    public var mfccSNRMinDB: Double?
    public var mfccSNRMeanDB: Double?
    public var exactSegments: Int
    /// Largest |float - fixed| MFCC coefficient over all segments.
    public var mfccMaxAbsError: Double
    public var scope: String
}

public enum DeviceEvaluator {
    /// Runs the device path on every clip of `data` (its tracks' audio, found under `audioRoot` by the feature
    /// cache's relative paths). The cache must have been extracted from that audio with the checkpoint's
    /// configuration: each clip must give as many segments as the cache holds for it (else an error).
    /// `floatTop1` is the float model's top-1 per segment of `data` (in `data.segments` order), as
    /// `Evaluator.compare` computed it (`AccuracyComparison.floatTop1`), so both agreements use one float answer.
    public static func compare(model: QuantizedModel, data: SegmentSelection, floatTop1: [Int], audioRoot: String,
                               progress: ProgressBar? = nil) throws -> DevicePathComparison {
        precondition(floatTop1.count == data.segments.count, "one float top-1 per selected segment")
        let cache = data.cache, config = cache.config
        let bytes = AlignedModelBytes(model.bytes)
        let file = try ModelFile(bytes: bytes.raw)
        let classifier = try SegmentClassifier(interpreter: Interpreter(model: file),
                                               extractor: try FixedPointMFCCExtractor(model: file))
        let it = classifier.interpreter
        let k = classifier.classCount, L = classifier.segmentSamples
        let floatMFCC = try MFCCExtractor(config: config)
        var floatTopOf: [Int: Int] = [:]
        for (s, t) in zip(data.segments, floatTop1) { floatTopOf[s] = t }

        // The selected tracks, in cache order; every selection here holds whole tracks.
        let st = cache.segmentTracks
        var trackOrder: [Int] = []
        for s in data.segments where trackOrder.last != st[s] { trackOrder.append(st[s]) }
        let selected = Set(data.segments)

        var tracks: [DeviceTrack] = []
        var nSeg = 0, deviceRight = 0, agreeFloat = 0, agreeInt8 = 0, int8Right = 0
        var snrs: [Double] = [], exact = 0, maxAbs = 0.0
        var scores = ClipScores(classes: k)
        for t in trackOrder {
            let track = cache.tracks[t]
            let segs = Array(track.firstSegment ..< track.firstSegment + track.segmentCount)
            guard segs.allSatisfy({ selected.contains($0) }) else {
                throw QuantizationError("the device path evaluates whole clips, but only part of \(track.trackID)'s segments are selected")
            }
            let path = audioRoot + "/" + track.relativePath
            let audio: [Float]
            do { audio = try AudioDecoder.decodeMono(path: path, sampleRate: Int(config.sampleRate)) } catch {
                throw QuantizationError("device path: \(error.description)")
            }
            let pcm = pcm16(fromFloat: audio)
            let count = config.segmentCount(sampleCount: pcm.count)
            guard count == track.segmentCount else {
                throw QuantizationError("device path: \(path) gives \(count) segments, the evaluation features hold \(track.segmentCount) (was the audio changed after extraction?)")
            }
            scores.reset()
            var segmentTop1: [Int] = []
            for j in 0..<count {
                let start = j * L, n = min(L, pcm.count - start)
                let device = classifier.classifyDeviceSegment(j, of: pcm, into: &scores)
                segmentTop1.append(device)
                let fixed = Array(classifier.features)

                // The float MFCC of the same Int16 segment (zero-padded the same way), and the int8 net on it.
                var seg = [Int16](repeating: 0, count: L)
                for i in 0..<n { seg[i] = pcm[start + i] }
                let f = floatMFCC.mfcc(segment: floatAudio(fromPCM16: seg))
                let q = mfccQ8(f)
                try q.withUnsafeBufferPointer { try it.run(features: $0) }
                let int8Top = it.top1

                var signal = 0.0, noise = 0.0
                for (a, b) in zip(f, fixed) {
                    let x = Double(a), d = x - Double(b) / 256
                    signal += x * x; noise += d * d; maxAbs = max(maxAbs, abs(d))
                }
                if noise > 0 { snrs.append(10 * log10(signal / noise)) } else { exact += 1 }

                let truth = track.label
                nSeg += 1
                if device == truth { deviceRight += 1 }
                if int8Top == truth { int8Right += 1 }
                if device == floatTopOf[segs[j]] { agreeFloat += 1 }
                if device == int8Top { agreeInt8 += 1 }
            }
            tracks.append(DeviceTrack(trackID: track.trackID, relativePath: track.relativePath, label: track.label,
                                      predicted: scores.top1, meanQ15: (0..<k).map { scores.meanQ15($0) },
                                      segmentTop1: segmentTop1))
            progress?.advance(count)
        }
        let n = Double(max(1, nSeg))
        return DevicePathComparison(
            segments: nSeg, tracks: tracks, segmentAccuracy: Double(deviceRight) / n,
            trackAccuracy: Double(tracks.filter { $0.predicted == $0.label }.count) / Double(max(1, tracks.count)),
            agreementWithFloat: Double(agreeFloat) / n, agreementWithInt8OnFloatMFCC: Double(agreeInt8) / n,
            int8OnFloatMFCCSegmentAccuracy: Double(int8Right) / n,
            mfccSNRMinDB: snrs.min(), mfccSNRMeanDB: snrs.isEmpty ? nil : snrs.reduce(0, +) / Double(snrs.count),
            exactSegments: exact, mfccMaxAbsError: maxAbs, scope: data.scope)
    }
}

extension SegmentClassifier {
    /// The device path on segment `j` of a clip's 16-bit PCM: exactly SegmentClassifier's steps as crnn-infer
    /// takes them for a WAV file (the segment's samples, zero-padded when the last one is short, then the
    /// fixed-point MFCC and the int8 network). Adds the segment's probabilities to `scores`; returns its top-1.
    func classifyDeviceSegment(_ j: Int, of pcm: [Int16], into scores: inout ClipScores) -> Int {
        let start = j * segmentSamples, n = min(segmentSamples, pcm.count - start)
        for i in 0..<n { segment[i] = pcm[start + i] }
        scores.add(classifySegment(validSamples: n))
        return top1
    }
}
