// Output without Foundation, String or floating point: a byte buffer written to a file descriptor with
// write(2), and integer formatting of decimals (probabilities from Q15, seconds from sample counts,
// MFCC values from Q23.8). Shared by the host and the Embedded Swift builds.

import CLibc
import CRNNRuntime

final class Output {
    let fd: Int32
    var buffer: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(8192)
    }

    /// Writes out what is buffered (retrying partial writes; a failed write drops the rest).
    func flush() {
        var done = 0
        buffer.withUnsafeBytes { raw in
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { break }
                done += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func byte(_ b: UInt8) {
        buffer.append(b)
        if buffer.count >= 8192 { flush() }
    }

    func put(_ s: StaticString) {
        let p = s.utf8Start
        for i in 0..<s.utf8CodeUnitCount { byte(p[i]) }
    }

    func put(bytes: [UInt8]) { for b in bytes { byte(b) } }
    func put(raw: UnsafeRawBufferPointer) { for b in raw { byte(b) } }

    func newline() { put("\n") }

    func put(_ v: Int64) {
        if v < 0 { put("-") }
        // Magnitude as UInt64 so Int64.min works.
        var m = v < 0 ? UInt64(bitPattern: 0 &- v) : UInt64(v)
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[n] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
                n += 1
            } while m > 0
            while n > 0 { n -= 1; byte(d[n]) }
        }
    }

    func put(_ v: Int) { put(Int64(v)) }
    func put(_ v: Int32) { put(Int64(v)) }

    /// `numerator / denominator` (denominator > 0) with `decimals` digits, rounded to nearest, ties away
    /// from zero. Example: `put(fixed: 22016, 22050, decimals: 3)` writes `0.998`.
    func put(fixed numerator: Int64, _ denominator: Int64, decimals: Int) {
        var scale: Int64 = 1
        for _ in 0..<decimals { scale *= 10 }
        let negative = numerator < 0
        let m = negative ? -numerator : numerator
        // round(m * scale / den), computed as quotient/remainder to avoid overflow for large m, and the
        // fraction by long division, one decimal at a time, so that no product exceeds 10 * den: `rest * scale`
        // overflowed Int64 once rest > 9.2e12 (e.g. a real-time factor above 0.07 in --bench, whose
        // denominator is a segment in nanoseconds x the rate: 6.6e13).
        let whole = m / denominator
        var rest = m % denominator, frac: Int64 = 0
        for _ in 0..<decimals {
            rest *= 10
            frac = frac * 10 + rest / denominator
            rest %= denominator
        }
        if 2 * rest >= denominator { frac += 1 }  // to nearest, ties away from zero; may reach `scale` (carry)
        let total = whole * scale + frac
        if negative && total != 0 { put("-") }
        put(total / scale)
        if decimals > 0 {
            put(".")
            padded(total % scale, decimals)
        }
    }

    /// A Q0.15 probability with 4 decimals (`0.8734`).
    func putQ15(_ p: Int32) { put(fixed: Int64(p), 32768, decimals: 4) }

    /// Seconds of `samples` at `rate`, 3 decimals.
    func putSeconds(_ samples: Int64, rate: Int32) { put(fixed: samples, Int64(rate), decimals: 3) }

    /// A Q23.8 value with 6 decimals, rounded exactly like C's `printf("%.6f")` of the same real number
    /// (`v / 256`; ties to even), which is what `crnn-train mfcc --format csv` prints.
    /// Example: 2 (0.0078125) -> `0.007812`, 6 (0.0234375) -> `0.023438`, -256 -> `-1.000000`.
    func putQ8Decimal6(_ v: Int32) {
        // v / 256 = v * 15625 / 4 millionths exactly; round the quarter to even.
        let m = Int64(v < 0 ? -Int64(v) : Int64(v)) * 15625
        var micro = m / 4
        let quarter = m % 4
        if quarter > 2 || (quarter == 2 && micro % 2 == 1) { micro += 1 }
        if v < 0 { put("-") }
        put(micro / 1_000_000)
        put(".")
        padded(micro % 1_000_000, 6)
    }

    /// `v` (>= 0) with leading zeros to `width` digits.
    func padded(_ v: Int64, _ width: Int) {
        var p: Int64 = 1
        for _ in 1..<max(width, 1) { p *= 10 }
        var x = v
        while p > 0 {
            byte(UInt8(ascii: "0") + UInt8((x / p) % 10))
            x %= p
            p /= 10
        }
    }

    /// One lower-case hexadecimal digit (0...15).
    func hexDigit(_ d: UInt8) { byte(d < 10 ? UInt8(ascii: "0") + d : UInt8(ascii: "a") + d - 10) }
}

/// Bytes of a StaticString, for comparisons with arguments.
func bytesEqual(_ a: [UInt8], _ s: StaticString) -> Bool {
    if a.count != s.utf8CodeUnitCount { return false }
    let p = s.utf8Start
    for i in 0..<a.count where a[i] != p[i] { return false }
    return true
}
