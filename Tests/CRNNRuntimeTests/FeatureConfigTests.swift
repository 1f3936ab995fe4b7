import XCTest
@testable import CRNNRuntime

final class FeatureConfigTests: XCTestCase {
    func testPaperDefaults() {
        let c = FeatureConfig.paper
        XCTAssertEqual(c.frameCount, 130)
        XCTAssertEqual(c.valuesPerSegment, 130 * 23)
        XCTAssertEqual(c.binCount, 1025)
        XCTAssertEqual(c.effectiveFMaxHz, 11025)
        XCTAssertNil(c.validationProblem())
    }

    func testRoundTripThroughBytes() {
        var c = FeatureConfig.paper
        c.nMFCC = 20
        c.topDbCentibels = 0
        let bytes = c.encodedBytes
        XCTAssertEqual(bytes.count, FeatureConfig.encodedByteCount)
        XCTAssertEqual(FeatureConfig(bytes: bytes), c)
    }

    func testRejectsUnknownVersionAndInvalidValues() {
        var words = FeatureConfig.paper.encodedWords
        words[0] = 99
        XCTAssertNil(FeatureConfig(words: words))
        words = FeatureConfig.paper.encodedWords
        words[3] = 1000  // n_fft not a power of two
        XCTAssertNil(FeatureConfig(words: words))
        words = FeatureConfig.paper.encodedWords
        words[13] = 7  // unknown window
        XCTAssertNil(FeatureConfig(words: words))
        XCTAssertNil(FeatureConfig(bytes: [1, 2, 3]))
    }
}

final class SegmentCountTests: XCTestCase {
    func testFullSegmentsPlusANearlyFullTail() {
        let c = FeatureConfig.paper  // 66150 samples per segment; tolerance 661 samples
        XCTAssertEqual(c.segmentCount(sampleCount: 0), 0)
        XCTAssertEqual(c.segmentCount(sampleCount: 65_488), 0)
        XCTAssertEqual(c.segmentCount(sampleCount: 65_489), 1)
        XCTAssertEqual(c.segmentCount(sampleCount: 66_150), 1)
        XCTAssertEqual(c.segmentCount(sampleCount: 66_151), 1)
        XCTAssertEqual(c.segmentCount(sampleCount: 661_794), 10)  // blues.00000
        XCTAssertEqual(c.segmentCount(sampleCount: 661_100), 10)  // country.00007: 400 samples short
        XCTAssertEqual(c.segmentCount(sampleCount: 660_000), 9)  // 1650 samples short: not kept
    }
}
