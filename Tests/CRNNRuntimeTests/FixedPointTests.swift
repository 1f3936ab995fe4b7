import Foundation
import XCTest
@testable import CRNNRuntime

/// Property tests of the fixed-point helpers against formulas in a wider integer type (Int128) or exact
/// Double, over every shift count and many random values (swift-numerics style).
final class FixedPointTests: XCTestCase {
    static let edgeValues: [Int32] = [0, 1, -1, 2, -2, 3, -3, 127, -128, 32767, -32768, Int32.max, Int32.min,
                                      Int32.max - 1, Int32.min + 1, 1 << 30, -(1 << 30), 12345, -12345]

    func testSaturatingCasts() {
        XCTAssertEqual(saturatingInt8(300), 127)
        XCTAssertEqual(saturatingInt8(-129), -128)
        XCTAssertEqual(saturatingInt8(-5), -5)
        XCTAssertEqual(saturatingInt16(-40000), -32768)
        XCTAssertEqual(saturatingInt16(40000), 32767)
        XCTAssertEqual(saturatingInt16(-7), -7)
        XCTAssertEqual(saturatingInt32(Int64(Int32.max) + 1), Int32.max)
        XCTAssertEqual(saturatingInt32(Int64(Int32.min) - 1), Int32.min)
        var rng = SplitMix64(seed: 1)
        for _ in 0..<10_000 {
            let x = rng.int32AnyMagnitude()
            XCTAssertEqual(Int32(saturatingInt8(x)), min(max(x, -128), 127))
            XCTAssertEqual(Int32(saturatingInt16(x)), min(max(x, -32768), 32767))
        }
    }

    /// roundingShiftRight == floor(x / 2^n + 1/2) for every n in 0...62 (Int64) and 0...31 (Int32).
    func testRoundingShiftRightEveryShift() {
        XCTAssertEqual(roundingShiftRight(Int32(5), 1), 3)
        XCTAssertEqual(roundingShiftRight(Int32(-5), 1), -2)
        XCTAssertEqual(roundingShiftRight(Int32(-6), 2), -1)  // -1.5 -> -1 (ties toward +inf)
        XCTAssertEqual(roundingShiftRight(Int32(-7), 2), -2)
        var rng = SplitMix64(seed: 2)
        for n in 0...62 {
            var xs: [Int64] = [0, 1, -1, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
            for _ in 0..<2000 { xs.append(Int64(truncatingIfNeeded: rng.next()) >> Int64(rng.int(0, 63))) }
            for x in xs {
                let expected: Int128 = n == 0 ? Int128(x) : floorShift(2 * Int128(x) + (Int128(1) << n), n + 1)
                XCTAssertEqual(Int128(roundingShiftRight(x, Int32(n))), expected, "x=\(x) n=\(n)")
            }
        }
        for n in 0...31 {
            var xs = Self.edgeValues
            for _ in 0..<2000 { xs.append(rng.int32AnyMagnitude()) }
            for x in xs {
                let expected: Int128 = n == 0 ? Int128(x) : floorShift(2 * Int128(x) + (Int128(1) << n), n + 1)
                XCTAssertEqual(Int128(roundingShiftRight(x, Int32(n))), expected, "x=\(x) n=\(n)")
            }
        }
    }

    /// multiplyByQuantizedMultiplier == saturate32(floor(x * m / 2^(31 - s) + 1/2)) for every shift.
    func testMultiplyByQuantizedMultiplierEveryShift() {
        XCTAssertEqual(multiplyByQuantizedMultiplier(10, 1_610_612_736, 0), 8)
        XCTAssertEqual(multiplyByQuantizedMultiplier(-10, 1_610_612_736, 0), -7)
        XCTAssertEqual(multiplyByQuantizedMultiplier(-11, 1_610_612_736, 0), -8)
        XCTAssertEqual(multiplyByQuantizedMultiplier(Int32.max, Int32.max, 30), Int32.max)
        XCTAssertEqual(multiplyByQuantizedMultiplier(Int32.min, Int32.max, 30), Int32.min)
        var rng = SplitMix64(seed: 3)
        for shift in Int32(-31)...30 {
            for k in 0..<3000 {
                let x = k < Self.edgeValues.count ? Self.edgeValues[k] : rng.int32AnyMagnitude()
                // Mostly normalised multipliers, sometimes any non-negative one.
                let m: Int32 = k % 5 == 0 ? Int32(truncatingIfNeeded: rng.next() & 0x7FFF_FFFF)
                    : Int32((1 << 30) + Int64(rng.next() % (1 << 30)))
                let total = Int(31 - shift)
                let exact = floorShift(2 * Int128(x) * Int128(m) + (Int128(1) << total), total + 1)
                let expected = min(max(exact, Int128(Int32.min)), Int128(Int32.max))
                XCTAssertEqual(Int128(multiplyByQuantizedMultiplier(x, m, shift)), expected,
                               "x=\(x) m=\(m) shift=\(shift)")
            }
        }
    }

    /// gemmlowp SRDHM == round(a*b / 2^31) with ties toward +infinity, saturating.
    func testSaturatingRoundingDoublingHighMul() {
        XCTAssertEqual(saturatingRoundingDoublingHighMul(Int32.min, Int32.min), Int32.max)
        var rng = SplitMix64(seed: 4)
        for k in 0..<200_000 {
            let a = k < 361 ? Self.edgeValues[k % 19] : rng.int32AnyMagnitude()
            let b = k < 361 ? Self.edgeValues[k / 19] : rng.int32AnyMagnitude()
            let p = Int128(a) * Int128(b)
            // gemmlowp's nudge-and-truncate is floor(p / 2^31 + 1/2): ties toward +infinity.
            let expected = min(floorShift(2 * p + (Int128(1) << 31), 32), Int128(Int32.max))
            XCTAssertEqual(Int128(saturatingRoundingDoublingHighMul(a, b)), expected, "a=\(a) b=\(b)")
        }
    }

    /// gemmlowp RoundingDivideByPOT == round(x / 2^e) with ties away from zero, every exponent 0...31.
    func testRoundingDivideByPOTEveryExponent() {
        XCTAssertEqual(roundingDivideByPOT(-6, 2), -2)  // -1.5 -> -2 (away from zero)
        XCTAssertEqual(roundingDivideByPOT(6, 2), 2)
        var rng = SplitMix64(seed: 5)
        for e in Int32(0)...31 {
            var xs = Self.edgeValues
            for _ in 0..<3000 { xs.append(rng.int32AnyMagnitude()) }
            for x in xs {
                let mag = e == 0 ? Int128(x).magnitude : (Int128(x).magnitude + (UInt128(1) << (Int(e) - 1))) >> Int(e)
                let expected = x < 0 ? -Int128(mag) : Int128(mag)
                XCTAssertEqual(Int128(roundingDivideByPOT(x, e)), expected, "x=\(x) e=\(e)")
            }
        }
    }

    /// The stated bound: |sigmoidQ15(x)/32768 - sigmoid(x/4096)| <= 1.5 / 32768 for all 65536 inputs.
    func testSigmoidErrorBound() {
        XCTAssertEqual(sigmoidQ15(0), 16384)
        XCTAssertEqual(sigmoidQ15(4096), 23956)  // exact 23955.34
        var maxErr = 0.0
        var previous = Int16.min
        for raw in Int32(Int16.min)...Int32(Int16.max) {
            let x = Int16(raw)
            let y = sigmoidQ15(x)
            let exact = 1.0 / (1.0 + Foundation.exp(-(Double(x) / 4096)))
            maxErr = max(maxErr, abs(Double(y) / 32768 - exact) * 32768)
            XCTAssertGreaterThanOrEqual(y, previous, "sigmoid must be monotonic")
            previous = y
        }
        print("sigmoidQ15 max error: \(maxErr) LSB of Q0.15")
        XCTAssertLessThanOrEqual(maxErr, 1.5)
    }

    func testTanhErrorBound() {
        XCTAssertEqual(tanhQ15(0), 0)
        XCTAssertEqual(tanhQ15(4096), 24956)
        var maxErr = 0.0
        var previous = Int16.min
        for raw in Int32(Int16.min)...Int32(Int16.max) {
            let x = Int16(raw)
            let y = tanhQ15(x)
            let exact = Foundation.tanh(Double(x) / 4096)
            maxErr = max(maxErr, abs(Double(y) / 32768 - exact) * 32768)
            XCTAssertGreaterThanOrEqual(y, previous, "tanh must be monotonic")
            XCTAssertEqual(tanhQ15(Int16(max(raw, -32767))), raw == -32768 ? -tanhQ15(32767) : y)
            previous = y
        }
        print("tanhQ15 max error: \(maxErr) LSB of Q0.15")
        XCTAssertLessThanOrEqual(maxErr, 1.5)
    }

    func testExp2RelativeError() {
        XCTAssertEqual(exp2NegativeQ30(-65536), 1 << 29)
        XCTAssertEqual(exp2NegativeQ30(0), 1 << 30)
        // Bound: |error| <= 3e-5 * 2^t + 1 LSB of Q30 (the final rounding shift).
        var maxExcess = -1.0
        var t: Int32 = 0
        while t > -40 * 65536 {
            let v = Double(exp2NegativeQ30(t))
            let exact = Foundation.exp2(Double(t) / 65536) * Double(1 << 30)
            maxExcess = max(maxExcess, abs(v - exact) - (3e-5 * exact + 1))
            t -= 37
        }
        XCTAssertLessThanOrEqual(maxExcess, 0)
        XCTAssertEqual(exp2NegativeQ30(-40 * 65536), 0)
    }
}

