import CRNNRuntime
import XCTest

/// `ClipConfidence`: the top genre's mean Q15 probability, its lead over the runner-up, and the `uncertain` flag.
final class ClipConfidenceTests: XCTestCase {
    func scores(_ segments: [[Int16]]) -> ClipScores {
        var s = ClipScores(classes: segments[0].count)
        for p in segments { p.withUnsafeBufferPointer { s.add($0) } }
        return s
    }

    func testProbabilityAndMarginAreTheMeansOfTheTopTwo() {
        // Two segments over 3 classes: means 0.625, 0.25, 0.125 (Q15 20480, 8192, 4096).
        let c = ClipConfidence(scores([[24576, 4096, 4096], [16384, 12288, 4096]]))
        XCTAssertEqual(c.top1, 0)
        XCTAssertEqual(c.probabilityQ15, 20480)
        XCTAssertEqual(c.marginQ15, 20480 - 8192)
        XCTAssertFalse(c.isUncertain(thresholdQ15: 20480), "at the threshold is not below it")
        XCTAssertTrue(c.isUncertain(thresholdQ15: 20481))
    }

    func testSpreadScoresAreUncertainAtTheDefaultThreshold() {
        // Nearly flat over 10 classes: the top genre is named but the clip is flagged.
        var p = [Int16](repeating: 3276, count: 10)
        p[7] = 3284
        let flat = ClipConfidence(scores([p]))
        XCTAssertEqual(flat.top1, 7)
        XCTAssertEqual(flat.marginQ15, 8)
        XCTAssertTrue(flat.isUncertain())
        var q = [Int16](repeating: 100, count: 10)
        q[2] = 32767 - 899
        let sure = ClipConfidence(scores([q]))
        XCTAssertEqual(sure.top1, 2)
        XCTAssertFalse(sure.isUncertain())
    }

    func testTiesGoToTheLowerClassAndGiveZeroMargin() {
        let c = ClipConfidence(scores([[16384, 16384]]))
        XCTAssertEqual(c.top1, 0)
        XCTAssertEqual(c.marginQ15, 0)
        XCTAssertEqual(ClipConfidence(scores([[32767]])).marginQ15, 32767, "one class: the margin is the probability")
    }
}
