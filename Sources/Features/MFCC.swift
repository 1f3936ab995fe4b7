import CRNNRuntime

/// Float MFCC matching librosa.feature.mfcc (placeholder API; implemented by the Features work).
public final class MFCCExtractor: @unchecked Sendable {
    public let config: FeatureConfig
    public init(config: FeatureConfig = .paper) { self.config = config }
    /// MFCCs of one segment of `config.segmentSamples` samples: `frameCount * nMFCC` values, frame-major.
    /// Safe to call from several threads at once.
    public func mfcc(segment: UnsafeBufferPointer<Float>) -> [Float] {
        [Float](repeating: 0, count: config.valuesPerSegment)
    }
    public func mfcc(segment: [Float]) -> [Float] { segment.withUnsafeBufferPointer { mfcc(segment: $0) } }
}
