// The device frontend of SegmentClassifier: the fixed-point MFCC (FixedPointMFCC) with its scratch memory,
// allocated on the first `extract`, which then allocates nothing more.

/// `SegmentFeatureExtractor` over `FixedPointMFCC`: Q23.8 MFCC (MFCC * 256, frame-major) of one segment.
///
/// Example: `let c = try SegmentClassifier(interpreter: it, extractor: try FixedPointMFCCExtractor(model: it.model))`.
public final class FixedPointMFCCExtractor: SegmentFeatureExtractor {
    public let mfcc: FixedPointMFCC
    /// The segment scratch, allocated on the first `extract` (a frame-reusing stream never needs it).
    var scratchStorage: UnsafeMutableRawBufferPointer? = nil

    /// Whether a stream's frame-reusing frontend keeps each frame's DCT sums (`StreamingMFCC`): faster windows, or
    /// 23,184 bytes less (paper config, 1-s hop) for a microcontroller. The features are the same either way.
    let streamKeepsDCTSums: Bool

    /// The model's feature configuration and frontend tables (`badFrontend` when the file has none).
    /// `streamDCTSums`: see `streamKeepsDCTSums` (false where RAM matters more than the DCT's time per window).
    public init(model: ModelFile, streamDCTSums: Bool = true) throws(ModelError) {
        mfcc = try FixedPointMFCC(model: model)
        streamKeepsDCTSums = streamDCTSums
    }

    deinit { scratchStorage?.deallocate() }

    /// Scratch bytes `extract` uses (the MFCC's working memory, allocated on first use).
    public var scratchBytes: Int { max(mfcc.segmentScratchBytes, 16) }

    var scratch: UnsafeMutableRawBufferPointer {
        if let s = scratchStorage { return s }
        let s = UnsafeMutableRawBufferPointer.allocate(byteCount: scratchBytes, alignment: 16)
        scratchStorage = s
        return s
    }

    public func extract(segment: UnsafeBufferPointer<Int16>, into features: UnsafeMutableBufferPointer<Int32>) {
        mfcc.segment(segment, into: features, scratch: scratch)
    }

    /// Frame reuse for frontend-version-2 models (`StreamingMFCC.canStream`); nil for version 1. Its frame work
    /// (8,200 bytes for the paper config) goes in `idleMemory` when that is large enough.
    public func makeStreamingFrontend(hopSamples: Int, idleMemory: UnsafeMutableRawBufferPointer) -> StreamingMFCC? {
        if !StreamingMFCC.canStream(mfcc) { return nil }
        let fits = idleMemory.count >= mfcc.frameLogMelWorkBytes && UInt(bitPattern: idleMemory.baseAddress) & 7 == 0
        return StreamingMFCC(mfcc: mfcc, hopSamples: hopSamples, keepsDCTSums: streamKeepsDCTSums,
                             frameScratch: fits ? idleMemory : nil)
    }
}
