// StreamClassifier: classifies a sliding window of one segment every hop over an unbounded int16 stream,
// with a running clip-level estimate. Constant memory, allocated at init (the frame-reusing frontend's rows, or
// a ring of one segment), plus the SegmentClassifier's buffers; `append`, `classifyWindow` and `finish`
// allocate nothing.
//
// Windows: window w covers stream samples [w * hop, w * hop + segment). It is due once its last sample has
// arrived. The hop is a whole number of frames (`hopLength`, 512 samples), so that consecutive windows share
// frame boundaries. When the extractor offers a frame-reusing frontend (`makeStreamingFrontend`: the fixed-point
// MFCC of a frontend-version-2 model), samples go straight into it, each frame is computed once, and a due window
// needs only its edge frames, the floor and the DCT (StreamingMFCC); no segment of audio is kept. Otherwise the
// stream keeps the last segment in a ring and runs the extractor's full segment frontend on every window.
//
// End of input (`finish`): when no window was ever due and the stream holds at least 99 % of a segment
// (FeatureConfig.segmentCount's rule for a file's last segment), that partial segment is classified
// zero-padded; otherwise the samples after the end of the last window are reported as not classified.

public final class StreamClassifier<Extractor: SegmentFeatureExtractor> {
    public let classifier: SegmentClassifier<Extractor>
    /// Samples between window starts (a multiple of the feature hop length).
    let hopSamples: Int
    /// The frame-reusing frontend, when the extractor offers one; then `ring` is empty.
    package let frames: StreamingMFCC?
    /// With frame reuse the features go straight into the network's input and are gone after the run; set this to
    /// keep each window's features in `classifier.features` too (one segment of Int32 more, for checks and dumps).
    public var keepsWindowFeatures = false
    let ring: UnsafeMutableBufferPointer<Int16>
    /// Ring index of the next sample to write; once the ring is full, also the oldest sample.
    var writeIndex = 0
    /// Samples still to arrive before the next window is due.
    var untilDue: Int
    /// Samples received so far.
    public private(set) var totalSamples: Int64 = 0
    /// Windows classified so far.
    public private(set) var windowCount: Int64 = 0
    /// Stream sample index one past the end of the last classified window (0 before any).
    public private(set) var classifiedEnd: Int64 = 0
    /// The running clip-level estimate (mean of all window probabilities so far).
    public private(set) var clip: ClipScores

    /// Rounds a hop in microseconds to whole frames (at least one): `round(us * rate / (hopLength * 10^6))`.
    /// Example (paper config): 1 s -> 43 frames = 22016 samples; 0.5 s -> 22 frames.
    public static func hopFrames(microseconds: Int64, config: FeatureConfig) -> Int {
        let den = Int64(config.hopLength) * 1_000_000
        let frames = (2 * microseconds * Int64(config.sampleRate) + den) / (2 * den)
        return Int(max(1, min(frames, 1 << 20)))
    }

    /// `hopSamples` must be a positive multiple of the model's hop length.
    public init(classifier: SegmentClassifier<Extractor>, hopSamples: Int) {
        let h = Int(classifier.config.hopLength)
        precondition(hopSamples > 0 && hopSamples % h == 0, "hop must be a positive multiple of the frame hop")
        self.classifier = classifier
        self.hopSamples = hopSamples
        // The frame work of a frame-reusing frontend lives in the arena's idle bytes: the network runs only inside
        // `classifyWindow`/`finish`, between pushes, and the frame work holds nothing from one call to the next.
        frames = classifier.extractor.makeStreamingFrontend(hopSamples: hopSamples, idleMemory: classifier.interpreter.idleArena)
        ring = UnsafeMutableBufferPointer<Int16>.allocate(capacity: frames == nil ? classifier.segmentSamples : 0)
        ring.initialize(repeating: 0)
        untilDue = classifier.segmentSamples
        clip = ClipScores(classes: classifier.classCount)
    }

    deinit { ring.deallocate() }

    /// True when a window is due: call `classifyWindow()` before appending more.
    public var windowDue: Bool { untilDue == 0 }

    /// Stream sample index where the due (or last classified) window starts.
    public var windowStart: Int64 { totalSamples - Int64(classifier.segmentSamples) }

    /// Appends samples up to the point where the next window is due. Returns how many were consumed
    /// (fewer than `samples.count` only when a window became due).
    public func append(_ samples: UnsafeBufferPointer<Int16>) -> Int {
        let take = min(samples.count, untilDue)
        if let f = frames {
            f.push(UnsafeBufferPointer(rebasing: samples[0..<take]))
            untilDue -= take
            totalSamples += Int64(take)
            return take
        }
        let size = ring.count
        var i = 0
        while i < take {
            let run = min(take - i, size - writeIndex)
            for k in 0..<run { ring[writeIndex + k] = samples[i + k] }
            writeIndex += run
            if writeIndex == size { writeIndex = 0 }
            i += run
        }
        untilDue -= take
        totalSamples += Int64(take)
        return take
    }

    /// Classifies the due window and adds it to the clip estimate. Returns its Q15 probabilities (valid until
    /// the next classification).
    @discardableResult
    public func classifyWindow() -> UnsafeBufferPointer<Int16> {
        precondition(windowDue, "no window is due")
        if let f = frames {
            if keepsWindowFeatures {
                f.windowFeatures(window: windowCount, validSamples: classifier.segmentSamples, into: classifier.featureBuffer.baseAddress!)
                return finishWindow(classifier.runNetwork())
            }
            f.windowFeatures(window: windowCount, validSamples: classifier.segmentSamples, into: classifier.networkInput)
            return finishWindow(classifier.runNetworkOnInput())
        }
        segmentFromRing()
        return finishWindow(classifier.classifySegment(validSamples: ring.count))
    }

    /// `classifyWindow()`, showing the window's features (Q23.8, frame-major) to `inspect` before the network runs.
    /// With frame reuse they are read in the network's input tensor, so nothing is kept (`keepsWindowFeatures` would
    /// cost one segment of Int32): firmware-sim's Cortex-M image prints them this way.
    func classifyWindow(inspectingFeatures inspect: (UnsafeBufferPointer<Int32>) -> Void) -> UnsafeBufferPointer<Int16> {
        precondition(windowDue, "no window is due")
        if let f = frames {
            let input = classifier.networkInput
            f.windowFeatures(window: windowCount, validSamples: classifier.segmentSamples, into: input)
            inspect(UnsafeBufferPointer(start: input, count: classifier.config.valuesPerSegment))
            return finishWindow(classifier.runNetworkOnInput())
        }
        segmentFromRing()
        classifier.extractFeatures(validSamples: ring.count)
        inspect(classifier.features)
        return finishWindow(classifier.runNetwork())
    }

    /// The ring's segment, oldest sample first (ring[writeIndex...] then ring[..<writeIndex]), into `classifier.segment`.
    func segmentFromRing() {
        let size = ring.count
        let tail = size - writeIndex
        for k in 0..<tail { classifier.segment[k] = ring[writeIndex + k] }
        for k in 0..<writeIndex { classifier.segment[tail + k] = ring[k] }
    }

    func finishWindow(_ p: UnsafeBufferPointer<Int16>) -> UnsafeBufferPointer<Int16> {
        clip.add(p)
        windowCount += 1
        classifiedEnd = totalSamples
        untilDue = hopSamples
        return p
    }

    /// Call at end of input. Classifies a lone partial segment (>= 99 % of a segment, zero-padded) when no
    /// window was classified; returns true if it did (its probabilities are then `classifier.probabilities`).
    public func finish() -> Bool {
        if windowCount > 0 || totalSamples == 0 { return false }
        let n = Int(totalSamples)  // < segment here, so it fits and the ring holds it from index 0
        if classifier.config.segmentCount(sampleCount: n) == 0 { return false }
        if let f = frames {
            if keepsWindowFeatures {
                f.windowFeatures(window: 0, validSamples: n, into: classifier.featureBuffer.baseAddress!)
                clip.add(classifier.runNetwork())
            } else {
                f.windowFeatures(window: 0, validSamples: n, into: classifier.networkInput)
                clip.add(classifier.runNetworkOnInput())
            }
        } else {
            for k in 0..<n { classifier.segment[k] = ring[k] }
            clip.add(classifier.classifySegment(validSamples: n))
        }
        windowCount = 1
        classifiedEnd = totalSamples
        return true
    }

    /// Samples received after the end of the last classified window (all of them before any window).
    public var unclassifiedSamples: Int64 { totalSamples - classifiedEnd }
}
