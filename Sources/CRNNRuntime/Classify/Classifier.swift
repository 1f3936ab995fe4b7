// Classification of audio with a loaded model: segment -> features -> int8 network -> Q15 probabilities,
// and the clip-level decision (mean of the segment probabilities). Integers only.
//
// Memory: `SegmentClassifier.init` allocates its three buffers (one segment of int16 audio, one segment of
// Q23.8 features, the Q15 probabilities) once; classifying allocates nothing.

/// Turns one segment of int16 mono audio (exactly `FeatureConfig.segmentSamples` samples, zero-padded by the
/// caller when the clip's last segment is short) into the model's input: the Q23.8 MFCC, frame-major
/// `[frameCount x nMFCC]` (row = frame), before normalisation and input quantization (the model does those).
///
/// The device frontend is the fixed-point MFCC (`FixedPointMFCCExtractor`); tests may supply others.
public protocol SegmentFeatureExtractor {
    mutating func extract(segment: UnsafeBufferPointer<Int16>, into features: UnsafeMutableBufferPointer<Int32>)
    /// A frame-reusing frontend for a stream of windows `hopSamples` apart whose features equal `extract`'s on
    /// the same samples bit for bit, or nil (the default): `StreamClassifier` then keeps one segment of audio and
    /// runs `extract` on each window. `idleMemory`: memory it may use as per-call work instead of its own (the
    /// interpreter's `idleArena`; may be too small or empty).
    func makeStreamingFrontend(hopSamples: Int, idleMemory: UnsafeMutableRawBufferPointer) -> StreamingMFCC?
}

extension SegmentFeatureExtractor {
    public func makeStreamingFrontend(hopSamples: Int, idleMemory: UnsafeMutableRawBufferPointer) -> StreamingMFCC? { nil }
}

/// Errors of classification that are about the input, not the model.
public enum ClassifyError: Error {
    /// The audio's sample rate differs from the model's `FeatureConfig.sampleRate`.
    case sampleRateMismatch(audio: Int32, model: Int32)
    /// The clip is shorter than one segment (less than 99 % of it): nothing to classify.
    case tooShort(samples: Int64, segmentSamples: Int32)

    public var message: StaticString {
        switch self {
        case .sampleRateMismatch: return "the audio's sample rate differs from the model's"
        case .tooShort: return "the audio is shorter than one segment"
        }
    }
}

/// Runs segments through the frontend and the interpreter.
///
/// Example:
/// ```
/// let c = try SegmentClassifier(interpreter: interp, extractor: FixedPointMFCCExtractor(model: interp.model))
/// c.segment.update(repeating: 0)        // fill with one segment of audio
/// let p = c.classifySegment(validSamples: c.segmentSamples)   // Q15 probabilities, p.count == classes
/// ```
public final class SegmentClassifier<Extractor: SegmentFeatureExtractor> {
    package let interpreter: Interpreter
    package var extractor: Extractor
    public let config: FeatureConfig
    public let classCount: Int
    public let segmentSamples: Int
    /// The audio of the segment to classify; callers fill it, then call `classifySegment(validSamples:)`.
    /// Allocated on first use (a frame-reusing stream never needs it).
    public var segment: UnsafeMutableBufferPointer<Int16> {
        if let s = segmentStorage { return s }
        let s = UnsafeMutableBufferPointer<Int16>.allocate(capacity: segmentSamples)
        s.initialize(repeating: 0)
        segmentStorage = s
        return s
    }
    var segmentStorage: UnsafeMutableBufferPointer<Int16>? = nil
    /// The features, allocated on first use (a frame-reusing stream writes its windows' features straight into
    /// the interpreter's input tensor instead).
    var featureBuffer: UnsafeMutableBufferPointer<Int32> {
        if let f = featureStorageOptional { return f }
        let f = UnsafeMutableBufferPointer<Int32>.allocate(capacity: config.valuesPerSegment)
        f.initialize(repeating: 0)
        featureStorageOptional = f
        return f
    }
    var featureStorageOptional: UnsafeMutableBufferPointer<Int32>? = nil
    let probabilityBuffer: UnsafeMutableBufferPointer<Int16>

    /// Checks that the model takes the Q23.8 MFCC of one segment of its own feature configuration.
    public init(interpreter: Interpreter, extractor: Extractor) throws(ModelError) {
        let model = interpreter.model
        let config = model.featureConfig
        guard let input = interpreter.featureInput else {
            throw .wrongInput("model input is int8: crnn-infer needs a model that takes the Q23.8 MFCC (int32)")
        }
        let info = model.tensor(model.inputTensor)
        if input.count != config.valuesPerSegment || info.dims.0 != config.frameCount {
            throw .wrongInput("model input shape is not [frames x n_mfcc] of its feature configuration")
        }
        self.interpreter = interpreter
        self.extractor = extractor
        self.config = config
        classCount = model.tensor(model.outputTensor).elementCount
        segmentSamples = Int(config.segmentSamples)
        probabilityBuffer = UnsafeMutableBufferPointer<Int16>.allocate(capacity: classCount)
        probabilityBuffer.initialize(repeating: 0)
    }

    deinit {
        segmentStorage?.deallocate()
        featureStorageOptional?.deallocate()
        probabilityBuffer.deallocate()
    }

    /// The features of the last `extractFeatures`/`classifySegment` call (Q23.8, frame-major).
    package var features: UnsafeBufferPointer<Int32> { UnsafeBufferPointer(featureBuffer) }

    /// The probabilities of the last `classifySegment` call (Q0.15, `classCount` values).
    public var probabilities: UnsafeBufferPointer<Int16> { UnsafeBufferPointer(probabilityBuffer) }

    /// Zero-pads `segment[validSamples...]` and computes its features.
    package func extractFeatures(validSamples: Int) {
        precondition(validSamples >= 0 && validSamples <= segmentSamples)
        for i in validSamples..<segmentSamples { segment[i] = 0 }
        extractor.extract(segment: UnsafeBufferPointer(segment), into: featureBuffer)
    }

    /// The interpreter's int32 input tensor: a frontend that writes the features there directly (`StreamClassifier`
    /// with frame reuse) then calls `runNetworkOnInput()`, with no feature buffer of its own.
    var networkInput: UnsafeMutablePointer<Int32> { interpreter.featureInput!.baseAddress! }

    /// Runs the network on the features already in the interpreter's input tensor and returns the probabilities.
    func runNetworkOnInput() -> UnsafeBufferPointer<Int16> {
        interpreter.invoke()
        interpreter.probabilitiesQ15(into: probabilityBuffer)
        return probabilities
    }

    /// Runs the network on `features` and returns the probabilities.
    @discardableResult
    package func runNetwork() -> UnsafeBufferPointer<Int16> {
        // The input count was checked at init, so this cannot throw; a failure would be a runtime bug.
        do { try interpreter.run(features: UnsafeBufferPointer(featureBuffer)) } catch { fatalError("feature count checked at init") }
        interpreter.probabilitiesQ15(into: probabilityBuffer)
        return probabilities
    }

    /// Features, then the network, for the audio in `segment` (zero-padded after `validSamples`).
    @discardableResult
    public func classifySegment(validSamples: Int) -> UnsafeBufferPointer<Int16> {
        extractFeatures(validSamples: validSamples)
        return runNetwork()
    }

    /// Index of the largest logit of the last run (ties: lowest index): the segment's top-1.
    public var top1: Int { interpreter.top1 }

    /// Loads segment `k` of `wav` into `segment` (mono int16, zero-padded when the clip's last segment is
    /// short) and returns how many samples came from the file.
    package func loadSegment(_ k: Int, of wav: WAVFile) -> Int {
        let n = wav.readMono(from: k * segmentSamples, into: segment)
        for i in n..<segmentSamples { segment[i] = 0 }
        return n
    }

    /// Throws unless `wav` has the model's sample rate and at least one segment (FeatureConfig's rule).
    /// Returns the number of segments.
    public func segmentCount(of wav: WAVFile) throws(ClassifyError) -> Int {
        if wav.sampleRate != config.sampleRate { throw .sampleRateMismatch(audio: wav.sampleRate, model: config.sampleRate) }
        let n = config.segmentCount(sampleCount: wav.frameCount)
        if n == 0 { throw .tooShort(samples: Int64(wav.frameCount), segmentSamples: config.segmentSamples) }
        return n
    }

    /// Classifies every segment of `wav` into `scores` (which it resets) and returns the segment count;
    /// `segmentTop1`, when given room, receives each segment's top-1 class.
    public func classify(_ wav: WAVFile, scores: inout ClipScores,
                         segmentTop1: UnsafeMutableBufferPointer<Int32>? = nil) throws(ClassifyError) -> Int {
        let count = try segmentCount(of: wav)
        scores.reset()
        for k in 0..<count {
            let n = loadSegment(k, of: wav)
            scores.add(classifySegment(validSamples: n))
            if let t = segmentTop1, k < t.count { t[k] = Int32(top1) }
        }
        return count
    }
}

/// The clip-level estimate: the mean of segment (or window) probabilities, kept as exact integer sums.
/// The decision is the argmax of the sums (ties: lowest class index), so no rounding enters it.
public struct ClipScores {
    private(set) var sums: [Int64]
    public private(set) var count: Int64

    public init(classes: Int) {
        sums = [Int64](repeating: 0, count: classes)
        count = 0
    }

    package var classCount: Int { sums.count }

    public mutating func reset() {
        for i in 0..<sums.count { sums[i] = 0 }
        count = 0
    }

    /// Adds one segment's Q15 probabilities (`p.count >= classCount`).
    public mutating func add(_ p: UnsafeBufferPointer<Int16>) {
        for i in 0..<sums.count { sums[i] += Int64(p[i]) }
        count += 1
    }

    /// Mean probability of class `c` in Q15, rounded to nearest (ties up); 0 before any segment.
    public func meanQ15(_ c: Int) -> Int32 {
        if count == 0 { return 0 }
        return Int32(truncatingIfNeeded: (2 * sums[c] + count) / (2 * count))
    }

    /// The class with the largest mean (ties: lowest index).
    public var top1: Int {
        var best = 0
        for i in 1..<max(sums.count, 1) where sums[i] > sums[best] { best = i }
        return best
    }

    /// The `k`-th ranked class (0 = top-1): larger mean first, ties by lower index. O(classes) per call,
    /// no allocation. Example: `rank(0) == top1`.
    public func rank(_ k: Int) -> Int {
        // The class c with exactly k classes ranked before it.
        for c in 0..<sums.count {
            var before = 0
            for d in 0..<sums.count where sums[d] > sums[c] || (sums[d] == sums[c] && d < c) { before += 1 }
            if before == k { return c }
        }
        return 0
    }
}
