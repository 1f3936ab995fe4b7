// Inputs found with the feature_file fuzz target's harness (fuzz/targets/feature_file.swift, docs/fuzzing.md):
// each must give a DatasetError, not a trap.
import CRNNRuntime
import XCTest
@testable import Features

final class FeatureCacheFuzzRegressionTests: XCTestCase {
    /// A valid configuration (2^31 - 1 samples per segment, hop 1, 512 MFCCs: 2^40 values per segment) with
    /// 10^8 segments: segments x values overflowed Int and trapped before the size check (fixed: checked product).
    func testDeclaredShapeWhoseSizeOverflowsIsRefused() {
        let config = FeatureConfig(sampleRate: 22050, segmentSamples: Int32.max, nFFT: 16, hopLength: 1, nMels: 512, nMFCC: 512)
        XCTAssertNil(config.validationProblem())
        XCTAssertEqual(config.valuesPerSegment, 1 << 40)
        var b = Array("CRNNFEAT".utf8)
        func u32(_ v: UInt32) { for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
        u32(1); u32(1); u32(1)                      // version, shard 1 of 1
        b += config.encodedBytes
        u32(1); u32(1); u32(100_000_000)            // labels, tracks, segments
        u32(UInt32(config.frameCount)); u32(512)    // frames, coefficients
        u32(1); b += Array("x".utf8)                // label "x"
        u32(1); b += Array("t".utf8); u32(1); b += Array("p".utf8)
        u32(0); u32(0); u32(100_000_000)            // label 0, first segment 0, all segments
        u32(fnv1a(b))
        XCTAssertThrowsError(try FeatureCache(bytes: b)) { error in
            XCTAssertTrue((error as? DatasetError)?.description.contains("size disagrees") == true, "\(error)")
        }
    }
}
