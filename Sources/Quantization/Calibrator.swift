// Calibration pass: runs the float model (inference mode) over calibration segments and records the range
// of every tensor the int8 model quantizes, plus the LSTM cell states (to choose the cell's Q format).
import CRNNRuntime
import Features
import Foundation
import Training

/// Segments of a feature file chosen for one purpose (calibration or evaluation), with a sentence saying which.
public struct SegmentSelection: Sendable {
    public var cache: FeatureCache
    public var segments: [Int]
    public var scope: String

    public init(cache: FeatureCache, segments: [Int], scope: String) {
        self.cache = cache
        self.segments = segments
        self.scope = scope
    }

    /// Calibration data: when the file holds any of the checkpoint's tracks, only its TRAINING tracks (never
    /// validation or test); otherwise every track. With `augmented`, the degraded copies of those tracks the file
    /// holds (`crnn-train features --augment`, what the default recipe trains on) are added after the clean
    /// segments. `limit` keeps an evenly spaced subset.
    public static func calibration(_ cache: FeatureCache, checkpoint c: Checkpoint, limit: Int? = nil,
                                   augmented: Bool = false) throws(QuantizationError) -> SegmentSelection {
        let known = Set(c.meta.trainTracks + c.meta.validationTracks + c.meta.testTracks)
        let st = cache.segmentTracks
        var segments = Array(0..<cache.segmentCount)
        var scope = "all \(cache.tracks.count) tracks of the calibration set (none is one of the model's tracks)"
        if cache.tracks.contains(where: { known.contains($0.trackID) }) {
            let train = Set(c.meta.trainTracks)
            segments = segments.filter { train.contains(cache.tracks[st[$0]].trackID) }
            let n = Set(segments.map { st[$0] }).count
            scope = "the checkpoint's training tracks (\(n) tracks)"
        }
        if augmented && !cache.augmented.isEmpty {
            let tracks = Set(segments.map { cache.tracks[st[$0]].trackID })
            let copies = cache.augmentedSegments(ofTracks: Array(tracks),
                                                 excluding: c.meta.validationTracks + c.meta.testTracks)
            if !copies.isEmpty {
                scope += " (\(segments.count) clean, \(copies.count) of their degraded copies)"
                segments += copies
            }
        }
        if let limit, limit > 0, segments.count > limit {
            segments = (0..<limit).map { segments[$0 * segments.count / limit] }
            scope += ", \(limit) evenly spaced segments"
        }
        guard !segments.isEmpty else {
            throw QuantizationError("the calibration set is empty (it holds none of the checkpoint's training tracks and no other tracks)")
        }
        return SegmentSelection(cache: cache, segments: segments, scope: "\(segments.count) segments of " + scope)
    }

    /// Evaluation data: when the file holds any of the checkpoint's tracks, only its TEST tracks (its validation
    /// tracks when it was trained without a test part, as the shipped models are: early stopping has seen them,
    /// and the scope says so); otherwise every track. nil when the file holds the model's tracks but none of
    /// those.
    public static func evaluation(_ cache: FeatureCache, checkpoint c: Checkpoint) -> SegmentSelection? {
        let known = Set(c.meta.trainTracks + c.meta.validationTracks + c.meta.testTracks)
        let st = cache.segmentTracks
        var segments = Array(0..<cache.segmentCount)
        var scope = "all \(cache.tracks.count) tracks of the evaluation set"
        if cache.tracks.contains(where: { known.contains($0.trackID) }) {
            let noTestPart = c.meta.testTracks.isEmpty
            let held = Set(noTestPart ? c.meta.validationTracks : c.meta.testTracks)
            segments = segments.filter { held.contains(cache.tracks[st[$0]].trackID) }
            scope = noTestPart
                ? "the checkpoint's validation tracks (\(Set(segments.map { st[$0] }).count) tracks; it has no test part, and early stopping has seen these)"
                : "the checkpoint's held-out test tracks (\(Set(segments.map { st[$0] }).count) tracks)"
        }
        if segments.isEmpty { return nil }
        return SegmentSelection(cache: cache, segments: segments, scope: "\(segments.count) segments of " + scope)
    }
}

/// The float model of a checkpoint with its input standardisation.
public struct FloatModel {
    public let checkpoint: Checkpoint
    public let model: Model
    public let normalization: InputNormalization
    public let architecture: FloatArchitecture

    public init(_ c: Checkpoint) throws {
        checkpoint = c
        model = try Model(checkpoint: c)
        let F = Int(c.featureConfig.nMFCC)
        normalization = try InputNormalization(meta: c.meta, coefficients: F)
        architecture = try FloatArchitecture(c)
    }

    /// Normalised input batch and every layer's output, by float layer name ("input" = the normalised input).
    public func activations(_ cache: FeatureCache, _ segments: some Collection<Int>) -> [String: Tensor] {
        let x = BatchMaker(cache: cache, normalization: normalization).batch(segments)
        var out: [String: Tensor] = ["input": x]
        for (name, t) in model.activations(x, mode: .inference) { out[name] = t }
        return out
    }
}

public enum Calibrator {
    public static let batchSize = 32

    /// Calibrated ranges of every quantized tensor over the selected segments. min/max needs one float pass,
    /// percentile and mse a second one (histograms over the first pass's range).
    public static func calibrate(_ fm: FloatModel, data: SegmentSelection, method: CalibrationMethod,
                                 progress: ProgressBar? = nil) throws(QuantizationError) -> CalibratedRanges {
        let arch = fm.architecture
        var observers: [String: RangeObserver] = [:]
        for k in arch.calibratedLayers { observers[k] = RangeObserver() }
        var cellMax: [String: Double] = [:]
        let passes = method.needsHistogram ? 2 : 1
        for pass in 0..<passes {
            if pass == 1 { for k in observers.keys { observers[k]!.startHistogram() } }
            for start in stride(from: 0, to: data.segments.count, by: batchSize) {
                let idx = data.segments[start ..< min(data.segments.count, start + batchSize)]
                let acts = fm.activations(data.cache, idx)
                for k in arch.calibratedLayers {
                    guard let t = acts[k] else { throw QuantizationError("the float model has no layer output \(k)") }
                    observers[k]!.observe(t.data)
                }
                if pass == 0 && arch.isLSTM {
                    let inputs = ["reshape", arch.recurrentNames[0]]
                    for (name, inName) in zip(arch.recurrentNames, inputs) {
                        let c = try lstmCellMaxAbs(fm.checkpoint, layer: name, input: acts[inName]!)
                        cellMax[name] = max(cellMax[name] ?? 0, c)
                    }
                }
                progress?.advance(idx.count)
            }
        }
        var ranges: [String: [Double]] = [:]
        for k in arch.calibratedLayers {
            // The logits keep their full observed range whatever the method: the top-1 decision is made at the
            // top of that range, and clipping it would make confident logits tie at 127.
            let r = observers[k]!.range(k == "dense" ? .minMax : method)
            ranges[k] = [r.min, r.max]
        }
        var bits: [String: Int32] = [:]
        for (name, m) in cellMax { bits[name] = cellFractionBits(maxAbs: m) }
        return CalibratedRanges(method: method.description, ranges: ranges, cellFractionBits: bits, cellMaxAbs: cellMax)
    }

    /// The largest cell fraction bits k in 8...12 whose int16 range 2^(15-k) holds 1.5 x the largest calibrated
    /// |cell state| (the cell state saturating would corrupt every later step; its resolution barely matters
    /// next to the 2^-7 hidden state).
    public static func cellFractionBits(maxAbs: Double) -> Int32 {
        var k: Int32 = 12
        while k > 8 && 1.5 * maxAbs >= pow(2, Double(15 - k)) { k -= 1 }
        return k
    }

    /// Largest |c_t| of a Keras LSTM layer over a batch `input` (N, T, D), computed in Double from the checkpoint.
    static func lstmCellMaxAbs(_ c: Checkpoint, layer: String, input: Tensor) throws(QuantizationError) -> Double {
        guard let k = c.weight("\(layer)/kernel"), let r = c.weight("\(layer)/recurrent_kernel"), let b = c.weight("\(layer)/bias") else {
            throw QuantizationError("checkpoint has no weights for \(layer)")
        }
        let N = input.shape[0], T = input.shape[1], D = input.shape[2]
        let U = r.shape[0], G = 4 * U
        var maxAbs = 0.0
        for n in 0..<N {
            var h = [Double](repeating: 0, count: U), cell = h
            for t in 0..<T {
                var a = b.values.map(Double.init)
                let xo = (n * T + t) * D
                for i in 0..<D {
                    let xi = Double(input.data[xo + i])
                    if xi == 0 { continue }
                    for j in 0..<G { a[j] += xi * Double(k.values[i * G + j]) }
                }
                for i in 0..<U where h[i] != 0 { for j in 0..<G { a[j] += h[i] * Double(r.values[i * G + j]) } }
                for j in 0..<U {
                    let ig = 1 / (1 + exp(-a[j])), fg = 1 / (1 + exp(-a[U + j]))
                    let g = tanh(a[2 * U + j]), o = 1 / (1 + exp(-a[3 * U + j]))
                    cell[j] = fg * cell[j] + ig * g
                    h[j] = o * tanh(cell[j])
                    maxAbs = max(maxAbs, abs(cell[j]))
                }
            }
        }
        return maxAbs
    }
}
