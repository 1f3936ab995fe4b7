// FixedLog: base-2 logarithm and decibels in integer arithmetic for the MFCC frontend
// (docs/fixed-point-mfcc.md §5). No table: the fraction bits come from repeated squaring of the mantissa.

/// Fraction bits of `log2Q20`.
let log2FractionBits: Int32 = 20

/// Fraction bits of the frontend's decibel values (Int32 "Q15.16": dB * 2^16).
let decibelFractionBits: Int32 = 16

/// `round(log2(x) * 2^20)` for x >= 1 (x = 0 returns `Int32.min`, meaning minus infinity).
///
/// Method: the integer part is the position of the leading one bit; the mantissa m = x / 2^floor(log2 x) in
/// [1, 2) is held as Q1.31 (x's bits below the 32 leading ones are dropped: relative error < 2^-31) and its
/// fraction bits come one by one from squaring: m^2 >= 2 means the next bit is 1 (then m^2 / 2 goes on).
/// 21 bits are made and rounded to 20. Each squaring keeps 31 fraction bits (truncation, relative error
/// < 2^-31, which the later squarings double: the k-th bit sees a relative error below 2^(k-30)).
/// Error bound (test `testLog2AccuracyOverTheWholeRange`): |result - log2(x) * 2^20| <= 0.51 for every x.
///
/// Example: `log2Q20(1) == 0`, `log2Q20(8) == 3 << 20`, `log2Q20(3) == 1661954` (log2(3) * 2^20 = 1661953.61).
func log2Q20(_ x: UInt64) -> Int32 {
    if x == 0 { return Int32.min }
    let intPart = Int32(63 &- x.leadingZeroBitCount)
    var m: UInt32 = intPart >= 31
        ? UInt32(truncatingIfNeeded: x >> UInt64(intPart &- 31))
        : UInt32(truncatingIfNeeded: x << UInt64(31 &- intPart))
    var frac: Int32 = 0
    var bit = 0
    while bit < 21 {
        let sq = UInt64(m) &* UInt64(m)  // < 2^64; Q2.62
        frac <<= 1
        if sq >= (UInt64(1) << 63) {  // m^2 >= 2
            frac |= 1
            m = UInt32(truncatingIfNeeded: sq >> 32)
        } else {
            m = UInt32(truncatingIfNeeded: sq >> 31)
        }
        bit &+= 1
    }
    return (intPart << 20) &+ ((frac &+ 1) >> 1)
}

/// `10 log10(2) * 2^31`, rounded: converts log2 to decibels.
let tenLog10TwoQ31: Int64 = 6_464_569_932

/// Decibels of a power `mantissa * 2^exponent`, `10 log10(mantissa * 2^exponent)`, as Q15.16 (dB * 2^16),
/// rounded (ties toward +infinity); `mantissa` 0 returns `Int32.min` (minus infinity). `exponent` must be in
/// -960...960 (so |log2| < 2^10 and the product with the Q31 constant stays below 2^63).
/// Error: within 1e-5 dB of the exact value (log2 within 0.51 * 2^-20, then one rounding to 2^-17 dB).
///
/// Example: `decibelsQ16(mantissa: 1, exponent: 0) == 0`; `decibelsQ16(mantissa: 100, exponent: 0) == 1310720` (20 dB).
func decibelsQ16(mantissa: UInt64, exponent: Int32) -> Int32 {
    if mantissa == 0 { return Int32.min }
    precondition(exponent >= -960 && exponent <= 960, "power exponent out of range")
    let log2 = Int64(log2Q20(mantissa)) &+ (Int64(exponent) << 20)  // |log2| < 2^30
    // dB * 2^16 = log2 * 2^-20 * C * 2^-31 * 2^16 = log2 * C / 2^35
    return Int32(truncatingIfNeeded: (log2 &* tenLog10TwoQ31 &+ (Int64(1) << 34)) >> 35)
}
