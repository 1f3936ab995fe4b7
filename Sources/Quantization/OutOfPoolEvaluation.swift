// Out-of-pool evaluation (docs/out-of-pool.md): a checkpoint (and optionally its int8 model) on audio it has not
// seen in kind: its held-out tracks degraded (AudioIO's `Degradation`), and other folders (other artists).
// Float path: float MFCC (Features) + float network (Training), clip = argmax of the summed segment probabilities,
// as `crnn-train eval`. Device path: the int8 model run by CRNNRuntime from Int16 PCM exactly as crnn-infer
// (and `DeviceEvaluator`) does: fixed-point MFCC + int8 network, clip = `ClipScores.top1`.
// Both paths see the same audio: each (degraded) clip is rounded to 16-bit PCM first, as a WAV copy would be.
import AudioIO
import CRNNRuntime
import Features
import Foundation
import Training

/// One clip to evaluate: mono float audio at the checkpoint's sample rate and its label (checkpoint order).
public struct OutOfPoolClip: Sendable {
    public var trackID: String
    public var label: Int
    public var audio: [Float]
    public init(trackID: String, label: Int, audio: [Float]) {
        self.trackID = trackID; self.label = label; self.audio = audio
    }
}

/// One row of the out-of-pool table. Fractions 0-1; device keys are nil without an int8 model.
public struct OutOfPoolRow: Codable, Sendable, Equatable {
    /// `clean`, a `Degradation` name (`resample-16k`, ...) or an extra folder's name (`gtzan-extra`).
    public var condition: String
    /// `held-out` (the checkpoint's validation + test tracks, clean), `degraded` (the same tracks degraded) or
    /// `other-folder` (tracks of another folder the model was not trained on).
    public var kind: String
    public var tracks: Int
    public var segments: Int
    public var floatTrackAccuracy: Double
    public var floatSegmentAccuracy: Double
    public var deviceTrackAccuracy: Double?
    public var deviceSegmentAccuracy: Double?
    /// Device top-1 == float top-1, per segment.
    public var deviceAgreement: Double?
    /// Track recall per genre present in the row (float path), genre name -> fraction.
    public var floatRecall: [String: Double]
    public var deviceRecall: [String: Double]?
    /// Per track: its label and each path's genre and confidence (for calibrating the `uncertain` threshold).
    /// nil in tables written before it existed.
    public var trackResults: [OutOfPoolTrackResult]?

    enum CodingKeys: String, CodingKey {
        case condition, kind, tracks, segments, trackResults = "track_results"
        case floatTrackAccuracy = "float_track_accuracy", floatSegmentAccuracy = "float_segment_accuracy"
        case deviceTrackAccuracy = "device_track_accuracy", deviceSegmentAccuracy = "device_segment_accuracy"
        case deviceAgreement = "device_agreement", floatRecall = "float_recall", deviceRecall = "device_recall"
    }

    public func encode(to encoder: Encoder) throws {
        // Explicit nulls for the device keys, so every table has the same keys.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(condition, forKey: .condition); try c.encode(kind, forKey: .kind)
        try c.encode(tracks, forKey: .tracks); try c.encode(segments, forKey: .segments)
        try c.encode(floatTrackAccuracy, forKey: .floatTrackAccuracy)
        try c.encode(floatSegmentAccuracy, forKey: .floatSegmentAccuracy)
        try c.encode(deviceTrackAccuracy, forKey: .deviceTrackAccuracy)
        try c.encode(deviceSegmentAccuracy, forKey: .deviceSegmentAccuracy)
        try c.encode(deviceAgreement, forKey: .deviceAgreement)
        try c.encode(floatRecall, forKey: .floatRecall)
        try c.encode(deviceRecall, forKey: .deviceRecall)
        try c.encodeIfPresent(trackResults, forKey: .trackResults)
    }
}

/// One track of a row: label and genre (checkpoint order), and the confidence of the decision: the genre's mean
/// segment probability and its lead over the runner-up (0-1; the device's are its Q15 figures / 32768).
public struct OutOfPoolTrackResult: Codable, Sendable, Equatable {
    public var trackID: String
    public var label: Int
    public var floatGenre: Int
    public var floatConfidence: Double
    public var floatMargin: Double
    public var deviceGenre: Int?
    public var deviceConfidence: Double?
    public var deviceMargin: Double?

    enum CodingKeys: String, CodingKey {
        case trackID = "track_id", label, floatGenre = "float_genre", floatConfidence = "float_confidence"
        case floatMargin = "float_margin", deviceGenre = "device_genre", deviceConfidence = "device_confidence"
        case deviceMargin = "device_margin"
    }
}

/// The whole table of one evaluation run.
public struct OutOfPoolTable: Codable, Sendable, Equatable {
    public var model: String
    public var checkpoint: String
    public var int8Model: String?
    /// The checkpoint's input representation (`standardised` or `raw`), from its stored normalisation.
    public var input: String
    public var heldOutTracks: [String]
    public var degradationSeed: UInt64
    public var rows: [OutOfPoolRow]

    enum CodingKeys: String, CodingKey {
        case model, checkpoint, input, rows
        case int8Model = "int8_model", heldOutTracks = "held_out_tracks", degradationSeed = "degradation_seed"
    }

    public init(model: String, checkpoint: String, int8Model: String?, input: String, heldOutTracks: [String],
                degradationSeed: UInt64, rows: [OutOfPoolRow]) {
        self.model = model; self.checkpoint = checkpoint; self.int8Model = int8Model; self.input = input
        self.heldOutTracks = heldOutTracks; self.degradationSeed = degradationSeed; self.rows = rows
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model); try c.encode(checkpoint, forKey: .checkpoint)
        try c.encode(int8Model, forKey: .int8Model); try c.encode(input, forKey: .input)
        try c.encode(heldOutTracks, forKey: .heldOutTracks); try c.encode(degradationSeed, forKey: .degradationSeed)
        try c.encode(rows, forKey: .rows)
    }

    public func json() -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? e.encode(self)) ?? Data()
    }

    public static func decode(_ data: Data) throws -> OutOfPoolTable { try JSONDecoder().decode(OutOfPoolTable.self, from: data) }

    public func markdown() -> String {
        let device = rows.contains { $0.deviceTrackAccuracy != nil }
        var s = "| condition | tracks | segments | float track | float segment |"
        s += device ? " device track | device segment | device = float |" : ""
        s += " recall (float) |\n|---|---:|---:|---:|---:|" + (device ? "---:|---:|---:|" : "") + "---|\n"
        for r in rows {
            s += "| \(r.condition) | \(r.tracks) | \(r.segments) | \(pct(r.floatTrackAccuracy)) | \(pct(r.floatSegmentAccuracy)) |"
            if device { s += " \(pct(r.deviceTrackAccuracy)) | \(pct(r.deviceSegmentAccuracy)) | \(pct(r.deviceAgreement)) |" }
            let recall = r.kind == "other-folder" || r.floatRecall.count <= 3
                ? r.floatRecall.keys.sorted().map { "\($0) \(pct(r.floatRecall[$0]))" }.joined(separator: ", ") : ""
            s += " \(recall) |\n"
        }
        return s
    }

    /// Mean ± sample standard deviation per condition over several runs (e.g. seeds), in percent; conditions
    /// in the first table's order, each averaged over the tables that have it.
    public static func summaryMarkdown(_ tables: [OutOfPoolTable]) -> String {
        guard let first = tables.first else { return "" }
        let device = tables.contains { $0.rows.contains { $0.deviceTrackAccuracy != nil } }
        func ms(_ xs: [Double]) -> String {
            guard !xs.isEmpty else { return "-" }
            let (m, sd) = meanAndStd(xs)
            return String(format: "%.1f ± %.1f", 100 * m, 100 * sd)
        }
        var s = "| condition | runs | float track % | float segment % |"
        s += device ? " device track % | device segment % | device = float % |" : ""
        s += " recall (float) % |\n|---|---:|---:|---:|" + (device ? "---:|---:|---:|" : "") + "---|\n"
        for name in first.rows.map(\.condition) {
            let rs = tables.compactMap { $0.rows.first { $0.condition == name } }
            s += "| \(name) | \(rs.count) | \(ms(rs.map(\.floatTrackAccuracy))) | \(ms(rs.map(\.floatSegmentAccuracy))) |"
            if device {
                s += " \(ms(rs.compactMap(\.deviceTrackAccuracy))) | \(ms(rs.compactMap(\.deviceSegmentAccuracy))) | \(ms(rs.compactMap(\.deviceAgreement))) |"
            }
            var recall = ""
            if rs.first?.kind == "other-folder" {
                let genres = Set(rs.flatMap { $0.floatRecall.keys }).sorted()
                recall = genres.map { g in "\(g) \(ms(rs.compactMap { $0.floatRecall[g] }))" }.joined(separator: ", ")
            }
            s += " \(recall) |\n"
        }
        return s
    }
}

private func pct(_ x: Double?) -> String { x.map { String(format: "%.1f %%", 100 * $0) } ?? "-" }

/// Evaluates one checkpoint (and optionally its int8 model) on sets of clips.
public final class OutOfPoolEvaluator {
    public let checkpoint: Checkpoint
    public let floatModel: FloatModel
    let extractor: MFCCExtractor
    let modelBytes: AlignedModelBytes?
    let classifier: SegmentClassifier<FixedPointMFCCExtractor>?

    /// `int8` is a model file's bytes (written by crnn-quantize for this checkpoint), or nil for the float path only.
    public init(checkpoint: Checkpoint, int8: [UInt8]?) throws {
        self.checkpoint = checkpoint
        floatModel = try FloatModel(checkpoint)
        extractor = try MFCCExtractor(config: checkpoint.featureConfig)
        if let b = int8 {
            let aligned = AlignedModelBytes(b)
            let file: ModelFile
            do { file = try ModelFile(bytes: aligned.raw) } catch { throw QuantizationError("int8 model: \(error.message)") }
            guard file.featureConfig == checkpoint.featureConfig else {
                throw QuantizationError("the int8 model's feature configuration differs from the checkpoint's")
            }
            let cl: SegmentClassifier<FixedPointMFCCExtractor>
            do {
                cl = try SegmentClassifier(interpreter: Interpreter(model: file), extractor: try FixedPointMFCCExtractor(model: file))
            } catch { throw QuantizationError("int8 model: \(error.message)") }
            guard cl.classCount == checkpoint.meta.labels.count else {
                throw QuantizationError("the int8 model has \(cl.classCount) classes, the checkpoint \(checkpoint.meta.labels.count)")
            }
            classifier = cl
            modelBytes = aligned
        } else {
            modelBytes = nil
            classifier = nil
        }
    }

    /// Evaluates `count` clips produced by `clip(i)` (one at a time, so that large folders need not fit in memory).
    /// Clips shorter than one segment are skipped.
    public func evaluate(condition: String, kind: String, count: Int, clip: (Int) throws -> OutOfPoolClip,
                         progress: ProgressBar? = nil) throws -> OutOfPoolRow {
        let config = checkpoint.featureConfig, labels = checkpoint.meta.labels, k = labels.count
        var segTruth: [Int] = [], segFloat: [Int] = [], segDevice: [Int] = []
        var trackTruth: [Int] = [], trackFloat: [Int] = [], trackDevice: [Int] = []
        var scores = ClipScores(classes: k)
        var results: [OutOfPoolTrackResult] = []
        for i in 0..<count {
            let c = try clip(i)
            // The clip as a 16-bit copy would hold it: both paths see exactly these samples.
            let pcm = pcm16(fromFloat: c.audio)
            let audio = floatAudio(fromPCM16: pcm)
            let n = config.segmentCount(sampleCount: audio.count)
            guard n > 0 else { continue }
            var values: [Float] = []
            values.reserveCapacity(n * config.valuesPerSegment)
            for j in 0..<n { values += extractor.mfcc(segment: DatasetExtractor.segment(j, of: audio, config: config)) }
            let cache = FeatureCache(config: config, labels: labels,
                                     tracks: [FeatureTrack(trackID: c.trackID, relativePath: c.trackID, label: c.label,
                                                           firstSegment: 0, segmentCount: n)], values: values)
            let probs = floatModel.model.predict(BatchMaker(cache: cache, normalization: floatModel.normalization)
                .batch(0..<n)).data
            let top = argmaxRows(probs, classCount: k)
            var sums = [Double](repeating: 0, count: k)
            for s in 0..<n { for j in 0..<k { sums[j] += Double(probs[s * k + j]) } }
            let floatGenre = sums.indices.max { sums[$0] < sums[$1] }!
            trackFloat.append(floatGenre)
            let ranked = sums.sorted(by: >)
            var result = OutOfPoolTrackResult(trackID: c.trackID, label: c.label, floatGenre: floatGenre,
                                              floatConfidence: ranked[0] / Double(n),
                                              floatMargin: (ranked[0] - (k > 1 ? ranked[1] : 0)) / Double(n))
            trackTruth.append(c.label)
            segTruth += [Int](repeating: c.label, count: n)
            segFloat += top

            if let cl = classifier {
                scores.reset()
                for j in 0..<n { segDevice.append(cl.classifyDeviceSegment(j, of: pcm, into: &scores)) }
                trackDevice.append(scores.top1)
                let conf = ClipConfidence(scores)
                result.deviceGenre = conf.top1
                result.deviceConfidence = Double(conf.probabilityQ15) / 32768
                result.deviceMargin = Double(conf.marginQ15) / 32768
            }
            results.append(result)
            progress?.advance(n)
        }
        func frac(_ a: [Int], _ b: [Int]) -> Double {
            a.isEmpty ? 0 : Double(zip(a, b).filter { $0 == $1 }.count) / Double(a.count)
        }
        func recall(_ pred: [Int]) -> [String: Double] {
            var r: [String: Double] = [:]
            for g in Set(trackTruth) {
                let idx = trackTruth.indices.filter { trackTruth[$0] == g }
                r[labels[g]] = Double(idx.filter { pred[$0] == g }.count) / Double(idx.count)
            }
            return r
        }
        let dev = classifier != nil
        return OutOfPoolRow(
            condition: condition, kind: kind, tracks: trackTruth.count, segments: segTruth.count,
            floatTrackAccuracy: frac(trackFloat, trackTruth), floatSegmentAccuracy: frac(segFloat, segTruth),
            deviceTrackAccuracy: dev ? frac(trackDevice, trackTruth) : nil,
            deviceSegmentAccuracy: dev ? frac(segDevice, segTruth) : nil,
            deviceAgreement: dev ? frac(segDevice, segFloat) : nil,
            floatRecall: recall(trackFloat), deviceRecall: dev ? recall(trackDevice) : nil, trackResults: results)
    }

    /// The seed of clip `i`'s random degradation: a fixed function of the run's seed and the clip's position.
    public static func clipSeed(_ seed: UInt64, _ i: Int) -> UInt64 { seed &* 1_000_003 &+ UInt64(i) &* 0x9E37_79B9 }
}
