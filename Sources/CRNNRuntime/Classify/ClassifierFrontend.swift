// The device frontend of SegmentClassifier: the fixed-point MFCC (FixedPointMFCC) with its scratch memory,
// allocated once. `extract` allocates nothing.

/// `SegmentFeatureExtractor` over `FixedPointMFCC`: Q23.8 MFCC (MFCC * 256, frame-major) of one segment.
///
/// Example: `let c = try SegmentClassifier(interpreter: it, extractor: try FixedPointMFCCExtractor(model: it.model))`.
public final class FixedPointMFCCExtractor: SegmentFeatureExtractor {
    public let mfcc: FixedPointMFCC
    let scratch: UnsafeMutableRawBufferPointer

    /// The model's feature configuration and frontend tables (`badFrontend` when the file has none).
    public init(model: ModelFile) throws(ModelError) {
        mfcc = try FixedPointMFCC(model: model)
        scratch = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(mfcc.segmentScratchBytes, 16), alignment: 16)
    }

    deinit { scratch.deallocate() }

    /// Scratch bytes held (the MFCC's working memory).
    public var scratchBytes: Int { scratch.count }

    public func extract(segment: UnsafeBufferPointer<Int16>, into features: UnsafeMutableBufferPointer<Int32>) {
        mfcc.segment(segment, into: features, scratch: scratch)
    }
}
