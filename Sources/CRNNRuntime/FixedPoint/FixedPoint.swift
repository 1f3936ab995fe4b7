// Fixed-point helpers of the int8 runtime. Integers only (Embedded Swift, no floating point).
//
// THE ONE ROUNDING RULE of the runtime: every rescale by a power of two (requantization, gate arithmetic,
// interpolation) rounds to nearest with ties toward +infinity, computed exactly in a wide integer:
//     roundingShiftRight(x, n) = floor((x + 2^(n-1)) / 2^n)          (n >= 1; n == 0 is the identity)
// and `multiplyByQuantizedMultiplier(x, m, s)` = roundingShiftRight(x * m, 31 - s) in 64-bit, then saturated
// to Int32. This is TFLite's `TFLITE_SINGLE_ROUNDING` requantization (and CMSIS-NN's
// `CMSIS_NN_USE_SINGLE_ROUNDING`). docs/quantization.md states it with worked examples.
//
// `saturatingRoundingDoublingHighMul` and `roundingDivideByPOT` are gemmlowp's helpers (TFLite's default
// "double rounding", ties away from zero); they are provided and tested for comparison with TFLite reference
// outputs but NO kernel of this runtime uses them.

// MARK: - Saturation

/// Clamps to `Int8.min...Int8.max`. Example: `saturatingInt8(300) == 127`.
@inlinable @inline(__always)
func saturatingInt8(_ x: Int32) -> Int8 {
    Int8(truncatingIfNeeded: x < -128 ? -128 : (x > 127 ? 127 : x))
}

/// Clamps to `Int16.min...Int16.max`. Example: `saturatingInt16(-40000) == -32768`.
@inlinable @inline(__always)
func saturatingInt16(_ x: Int32) -> Int16 {
    Int16(truncatingIfNeeded: x < -32768 ? -32768 : (x > 32767 ? 32767 : x))
}

/// Clamps a 64-bit value to `Int32.min...Int32.max`.
@inlinable @inline(__always)
func saturatingInt32(_ x: Int64) -> Int32 {
    Int32(truncatingIfNeeded: x < Int64(Int32.min) ? Int64(Int32.min) : (x > Int64(Int32.max) ? Int64(Int32.max) : x))
}

// MARK: - The one rounding rule

/// `round(x / 2^n)` with ties toward +infinity: `(x + 2^(n-1)) >> n` computed in 64 bits (cannot overflow).
/// Valid for `n` in 0...62. Examples: `roundingShiftRight(5, 1) == 3`, `roundingShiftRight(-5, 1) == -2`.
@inlinable @inline(__always)
func roundingShiftRight(_ x: Int64, _ n: Int32) -> Int64 {
    if n <= 0 { return x }
    // (x >> n) + ((x >> (n-1)) & 1) == floor(x/2^n + 1/2) without overflow for any x.
    return (x >> Int64(n)) &+ ((x >> Int64(n &- 1)) & 1)
}

/// 32-bit form of `roundingShiftRight`; `n` in 0...31. Never overflows (the result magnitude only shrinks,
/// and `Int32.max` rounds to `2^(31-n)` which fits for `n >= 1`).
@inlinable @inline(__always)
func roundingShiftRight(_ x: Int32, _ n: Int32) -> Int32 {
    Int32(truncatingIfNeeded: roundingShiftRight(Int64(x), n))
}

/// The requantization of the runtime: `x * M * 2^shift` where the real multiplier `M = multiplier / 2^31`
/// (a Q0.31 value, `multiplier` in `2^30...2^31-1` for a normalised multiplier, or 0), rounded once with the
/// one rule and saturated to Int32:
///     result = saturate32( floor( (x * multiplier + 2^(30 - shift)) / 2^(31 - shift) ) )
/// `shift` in -31...30 (so the total right shift `31 - shift` is in 1...62). Any multiplier in
/// `0...Int32.max` is accepted (non-normalised ones just lose precision); negative multipliers are invalid.
///
/// Example: a real scale of 0.75 is `multiplier = 1610612736` (0.75 * 2^31), `shift = 0`;
/// `multiplyByQuantizedMultiplier(10, 1610612736, 0) == 8` (7.5 rounds up), and with `x = -10` it is -7.
/// On 32-bit targets a shift in -31...-1 takes `multiplyByQuantizedMultiplierNarrow` (the same integers).
@inlinable @inline(__always)
package func multiplyByQuantizedMultiplier(_ x: Int32, _ multiplier: Int32, _ shift: Int32) -> Int32 {
    #if _pointerBitWidth(_32)
    if shift < 0 && shift >= -31 { return multiplyByQuantizedMultiplierNarrow(x, multiplier, shift) }
    #endif
    let product = Int64(x) &* Int64(multiplier)  // |product| <= 2^62
    return saturatingInt32(roundingShiftRight(product, 31 &- shift))
}

/// `multiplyByQuantizedMultiplier` for `shift` in -31...-1 (any x, any multiplier) without a 64-bit shift by a
/// variable count, which 32-bit Arm does with a branchy sequence or a library call. With k = 31 - shift >= 32,
/// j = k - 32 in 0...30 and x * multiplier = H 2^32 + L (H the signed high word, L the unsigned low word: one
/// `smull`):
///     floor((x m + 2^(k-1)) / 2^k) = (H + 2^(j-1)) >> j      for j >= 1 (2^(k-1) is a multiple of 2^32)
///                                  =  H + (L >> 31)          for j = 0
/// |x m| <= 2^62 gives |H| <= 2^30: the add cannot overflow, and the result is within +-2^30, so there is nothing to
/// saturate.
@inlinable @inline(__always)
package func multiplyByQuantizedMultiplierNarrow(_ x: Int32, _ multiplier: Int32, _ shift: Int32) -> Int32 {
    let product = Int64(x) &* Int64(multiplier)
    let h = Int32(truncatingIfNeeded: product &>> 32)
    let j = 0 &- 1 &- shift
    let round = j == 0 ? Int32(bitPattern: UInt32(truncatingIfNeeded: product) &>> 31) : Int32(1) &<< (j &- 1)
    return (h &+ round) &>> j
}

/// Valid ranges of a (multiplier, shift) pair read from a model file.
@inlinable
package func isValidQuantizedMultiplier(_ multiplier: Int32, _ shift: Int32) -> Bool {
    multiplier >= 0 && shift >= -31 && shift <= 30
}

// MARK: - gemmlowp helpers (comparison only; not used by the kernels)

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: `round(a * b / 2^31)` (its nudge-and-truncate makes ties
/// go toward +infinity, like the one rule),
/// saturating the one overflow case `a == b == Int32.min` to `Int32.max`.
@inlinable
func saturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
    if a == Int32.min && b == Int32.min { return Int32.max }
    let ab = Int64(a) &* Int64(b)
    let nudge: Int64 = ab >= 0 ? (1 << 30) : (1 &- (1 << 30))
    // Division truncating toward zero, as in gemmlowp.
    return Int32(truncatingIfNeeded: (ab &+ nudge) / (1 << 31))
}

/// gemmlowp's `RoundingDivideByPOT`: `round(x / 2^exponent)` with ties away from zero; `exponent` in 0...31.
@inlinable
func roundingDivideByPOT(_ x: Int32, _ exponent: Int32) -> Int32 {
    let mask: Int64 = (Int64(1) << Int64(exponent)) &- 1
    let x64 = Int64(x)
    let remainder = x64 & mask
    let threshold = (mask >> 1) &+ (x64 < 0 ? 1 : 0)
    return Int32(truncatingIfNeeded: (x64 >> Int64(exponent)) &+ (remainder > threshold ? 1 : 0))
}

// MARK: - Sigmoid and tanh: Q3.12 in, Q0.15 out

/// Logistic sigmoid of a Q3.12 value (`x / 4096`, range [-8, 8)) as Q0.15 (`y / 32768`, range [0, 32767]).
/// Table of sigmoid at multiples of 1/32 on [0, 8] (unsigned Q0.16) with linear interpolation, the one
/// rounding rule, and `sigmoid(-x) = 1 - sigmoid(x)`.
/// Error bound, measured over all 65536 inputs against the exact function (test `testSigmoidErrorBound`):
/// at most 1.5 LSB of Q0.15 (4.6e-5; measured 1.26 LSB); see docs/quantization.md.
/// Example: `sigmoidQ15(0) == 16384` (0.5), `sigmoidQ15(4096) == 23956` (sigmoid(1) = 0.731059).
@inlinable
func sigmoidQ15(_ x: Int16) -> Int16 {
    let a = x < 0 ? -Int32(x) : Int32(x)  // 0...32768
    let i = Int(a >> 7), f = a & 127
    var v = Int32(sigmoidTableQ16[i])
    if i < 256 {
        let d = Int32(sigmoidTableQ16[i &+ 1]) &- v
        v = v &+ roundingShiftRight(d &* f, 7)
    }
    // v = sigmoid(|x|) in Q0.16, 32768...65535.
    let q16 = x < 0 ? 65536 &- v : v
    let q15 = roundingShiftRight(q16, 1)
    return Int16(truncatingIfNeeded: q15 > 32767 ? 32767 : q15)
}

/// Hyperbolic tangent of a Q3.12 value (range [-8, 8)) as Q0.15 (range [-32767, 32767]).
/// Table of tanh at multiples of 1/64 on [0, 8] (unsigned Q0.16) with linear interpolation and odd symmetry.
/// Error bound, measured over all 65536 inputs (test `testTanhErrorBound`): at most 1.5 LSB of Q0.15 (measured 1.11 LSB).
/// Example: `tanhQ15(0) == 0`, `tanhQ15(4096) == 24956` (tanh(1) = 0.761594).
@inlinable
func tanhQ15(_ x: Int16) -> Int16 {
    let a = x < 0 ? -Int32(x) : Int32(x)
    let i = Int(a >> 6), f = a & 63
    var v = Int32(tanhTableQ16[i])
    if i < 512 {
        let d = Int32(tanhTableQ16[i &+ 1]) &- v
        v = v &+ roundingShiftRight(d &* f, 6)
    }
    var q15 = roundingShiftRight(v, 1)
    if q15 > 32767 { q15 = 32767 }
    return Int16(truncatingIfNeeded: x < 0 ? -q15 : q15)
}

// MARK: - exp2 for softmax

/// `2^(t / 65536)` for a Q15.16 exponent `t <= 0`, as an unsigned Q2.30 value (`2^30` = 1.0) in an Int64.
/// Table of 2^(k/64) with linear interpolation; error at most 3e-5 * 2^t + 1 LSB of Q30 (tested). Positive `t` is clamped to 0.
/// Example: `exp2NegativeQ30(-65536) == 1 << 29` (0.5).
@inlinable
func exp2NegativeQ30(_ t: Int32) -> Int64 {
    let tt = t > 0 ? 0 : t
    let n = -(tt >> 16)  // 0...32768: integer part (floor) is -n
    let f = tt & 0xFFFF  // fraction in [0, 1) as Q0.16: 2^t = 2^f / 2^n
    let i = Int(f >> 10), r = Int64(f & 1023)
    let lo = Int64(exp2TableQ30[i]), hi = Int64(exp2TableQ30[i &+ 1])
    let v = lo &+ roundingShiftRight((hi &- lo) &* r, 10)  // 2^f in Q30, [2^30, 2^31)
    if n >= 40 { return 0 }
    return roundingShiftRight(v, n)
}
