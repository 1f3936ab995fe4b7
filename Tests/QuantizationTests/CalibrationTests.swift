import Foundation
import XCTest
@testable import Quantization

final class CalibrationTests: XCTestCase {
    func observe(_ values: [Float], histogram: Bool) -> RangeObserver {
        var o = RangeObserver()
        o.observe(values)
        if histogram { o.startHistogram(); o.observe(values) }
        return o
    }

    func testMinMaxContainsZero() {
        let o = observe([1, 2, 3.5], histogram: false)
        XCTAssertEqual(o.range(.minMax).min, 0)
        XCTAssertEqual(o.range(.minMax).max, 3.5)
        let n = observe([-2, -1], histogram: false)
        XCTAssertEqual(n.range(.minMax).min, -2)
        XCTAssertEqual(n.range(.minMax).max, 0)
    }

    func testPercentile() {
        // 0, 0.001, ..., 99.999 uniformly: the 99th percentile is 99 and the 1st is 1 (to within a bin).
        let v = (0..<100_000).map { Float($0) / 1000 }
        let r = observe(v, histogram: true).range(.percentile(99))
        let bin = 100.0 / Double(RangeObserver.binCount)
        XCTAssertEqual(r.max, 99, accuracy: bin)
        XCTAssertEqual(r.min, 0)  // widened to contain 0
        let s = observe(v.map { $0 - 50 }, histogram: true).range(.percentile(99))
        XCTAssertEqual(s.min, -49, accuracy: bin)
        XCTAssertEqual(s.max, 49, accuracy: bin)
    }

    /// Many small values and one moderate outlier: the rounding error saved on 200 000 values outweighs the
    /// clipping error of one, so MSE clips (to about 2.4 of 3: 200k (c/255)^2/12 + (3 - c)^2 is smallest there)
    /// and its expected error is below min/max's; a plain uniform set keeps (nearly) its full range.
    func testMSEClipsOutliers() {
        var g = SystemRandomNumberGenerator()
        var v = (0..<200_000).map { _ in Float.random(in: 0...1, using: &g) }
        v.append(3)
        let o = observe(v, histogram: true)
        let mse = o.range(.mse), mm = o.range(.minMax)
        XCTAssertEqual(mm.max, 3)
        XCTAssertEqual(mse.max, 2.4, accuracy: 0.2)
        XCTAssertLessThan(o.expectedSquaredError(min: mse.min, max: mse.max), o.expectedSquaredError(min: mm.min, max: mm.max))
        let u = observe((0..<50_000).map { _ in Float.random(in: -1...1, using: &g) }, histogram: true)
        XCTAssertGreaterThan(u.range(.mse).max, 0.9)
    }

    /// Exact zeros (ReLU) cost nothing, so they do not pull the MSE range towards zero.
    func testZerosAreFree() {
        let v = [Float](repeating: 0, count: 10_000) + (1...100).map { Float($0) / 100 }
        let o = observe(v, histogram: true)
        XCTAssertEqual(o.zeroCount, 10_000)
        XCTAssertGreaterThan(o.range(.mse).max, 0.9)
    }

    func testCellFractionBits() {
        XCTAssertEqual(Calibrator.cellFractionBits(maxAbs: 3), 12)    // 4.5 < 8
        XCTAssertEqual(Calibrator.cellFractionBits(maxAbs: 6), 11)    // 9 >= 8, < 16
        XCTAssertEqual(Calibrator.cellFractionBits(maxAbs: 12), 10)
        XCTAssertEqual(Calibrator.cellFractionBits(maxAbs: 1000), 8)  // the widest the runtime allows
    }
}
