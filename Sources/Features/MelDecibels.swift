/// `10 * log10(x)` for the power-to-dB step, written so that a loop over a mel spectrogram vectorises
/// (no libm call per value). Computed in Float64: x = 2^e * m with m in [sqrt(1/2), sqrt(2)),
/// ln m = 2 atanh(s) = 2 (s + s^3/3 + ... + s^15/15) with s = (m - 1) / (m + 1), |s| <= 0.172, whose
/// truncation error is below 1e-13 relative; the result is rounded once to Float32. librosa computes
/// `10 * np.log10(x)` in Float32 (two roundings), so the two agree to about one Float32 ulp.
///
/// Valid for normal, finite, positive x (the caller checks; `MFCCExtractor` falls back to `log10f` otherwise).
///
/// Example: `MelDecibels.tenLog10(100) == 20`.
public enum MelDecibels {
    @inline(__always)
    public static func tenLog10(_ x: Float) -> Float {
        let bits = x.bitPattern
        var e = Double(Int32(bitPattern: (bits >> 23) & 0xFF) &- 127)
        var m = Double(Float(bitPattern: (bits & 0x007F_FFFF) | 0x3F80_0000))  // [1, 2)
        let high = m > 1.4142135623730951
        m = high ? m * 0.5 : m
        e = high ? e + 1 : e
        let s = (m - 1) / (m + 1), s2 = s * s
        var p = 1.0 / 15.0
        p = p * s2 + 1.0 / 13.0
        p = p * s2 + 1.0 / 11.0
        p = p * s2 + 1.0 / 9.0
        p = p * s2 + 1.0 / 7.0
        p = p * s2 + 1.0 / 5.0
        p = p * s2 + 1.0 / 3.0
        p = p * s2 + 1.0
        let ln = e * 0.6931471805599453 + 2 * s * p
        return Float(ln * 4.3429448190325175)  // 10 / ln(10)
    }
}
