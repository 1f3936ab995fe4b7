// FixedFFT: the fixed-point real FFT of the MFCC frontend (docs/fixed-point-mfcc.md §3). Integer only.
//
// A real frame of n samples (n a power of two, 16...16384) is packed into n/2 complex values
// z[m] = x[2m] + i x[2m+1], transformed by an in-place radix-2 decimation-in-time FFT of n/2 points on Int32
// data, then split into the n/2 + 1 bins of the real spectrum. Block floating point: the input is normalised
// to 28 significant bits before the first stage, and before each stage (and before the split) the data are
// shifted right by s = max(0, bits - 28) where `bits` bounds the largest component (|c| <= 2^bits), so every
// butterfly output stays below 2^29.5: a butterfly at most doubles a complex magnitude, and a complex value
// whose components are <= 2^28 has magnitude <= sqrt(2) * 2^28. Products use Q1.30 twiddles in Int64 and each output
// is rounded once (ties toward +infinity, the runtime's one rounding rule). The shifts are counted, so the
// result is X = X_int * 2^exponent in the input's units: quiet frames keep their full precision.

/// Twiddle factors for an n-point FFT, k in 0...n/2: `cos(2 pi k / n)` and `sin(2 pi k / n)` as Q1.30
/// (2^30 = 1.0), computed in integer arithmetic only (Taylor series in Q2.62 with 128-bit products on the
/// first octant, octant symmetry elsewhere), each within 0.51 LSB of the exact value (test
/// `testTwiddlesMatchSineToHalfLSB`).
/// `n` must be a power of two, 16...16384.
///
/// Example: `fixedTwiddlesQ30(n: 16).cos[2] == 759250125` (cos(pi/4) * 2^30 = 759250124.99).
func fixedTwiddlesQ30(n: Int) -> (cos: [Int32], sin: [Int32]) {
    precondition(n >= 16 && n <= 16384 && n & (n - 1) == 0, "FFT length must be a power of two in 16...16384")
    let quarter = n / 4, eighth = n / 8
    // Quarter wave, k in 0...n/4, first from the octant k in 0...n/8 (angle <= pi/4).
    var qc = [Int32](repeating: 0, count: quarter + 1), qs = [Int32](repeating: 0, count: quarter + 1)
    let piQ60: Int64 = 3_622_009_729_038_561_421  // round(pi * 2^60) = (pi / 4) in Q2.62
    let step = piQ60 / Int64(eighth)               // 2 pi / n in Q2.62, truncated: error < k * 2^-62 at k
    for k in 0...eighth {
        let (c, s) = cosSinQ62(step * Int64(k))
        // Q2.62 -> Q1.30, rounded.
        qc[k] = Int32(truncatingIfNeeded: (c + (1 << 31)) >> 32)
        qs[k] = Int32(truncatingIfNeeded: (s + (1 << 31)) >> 32)
    }
    if eighth + 1 <= quarter {
        for k in (eighth + 1)...quarter {  // cos(pi/2 - a) = sin(a)
            qc[k] = qs[quarter - k]
            qs[k] = qc[quarter - k]
        }
    }
    var cosT = [Int32](repeating: 0, count: n / 2 + 1), sinT = [Int32](repeating: 0, count: n / 2 + 1)
    for k in 0...(n / 2) {
        if k <= quarter {
            cosT[k] = qc[k]; sinT[k] = qs[k]
        } else {  // cos(pi - a) = -cos(a), sin(pi - a) = sin(a)
            cosT[k] = -qc[n / 2 - k]; sinT[k] = qs[n / 2 - k]
        }
    }
    return (cosT, sinT)
}

/// round(a * b / 2^62) for Q2.62 values (|a|, |b| <= 2^62), through the 128-bit product.
@inline(__always) func mulQ62(_ a: Int64, _ b: Int64) -> Int64 {
    let p = a.multipliedFullWidth(by: b)  // p.high * 2^64 + p.low
    return ((p.high << 2) | Int64(bitPattern: p.low >> 62)) &+ Int64(bitPattern: (p.low >> 61) & 1)
}

/// cos and sin of `theta` (Q2.62, 0...pi/4) as Q2.62 values, by their Taylor series to the 17th power
/// (remainder (pi/4)^19 / 19! < 2^-60); about ten roundings of 2^-62 each.
func cosSinQ62(_ theta: Int64) -> (Int64, Int64) {
    let t2 = mulQ62(theta, theta)
    // sin: theta - theta^3/3! + ...; cos: 1 - theta^2/2! + ...
    var sinSum = theta, term = theta
    var n: Int64 = 1
    while n < 19 {
        term = -mulQ62(term, t2) / ((n + 1) * (n + 2))
        sinSum += term
        n += 2
    }
    var cosSum: Int64 = 1 << 62
    term = 1 << 62
    n = 0
    while n < 18 {
        term = -mulQ62(term, t2) / ((n + 1) * (n + 2))
        cosSum += term
        n += 2
    }
    return (cosSum, sinSum)
}

/// Number of significant bits of a non-negative bound (0 for 0).
@inline(__always) func significantBits(_ v: UInt32) -> Int32 { Int32(32 - v.leadingZeroBitCount) }

/// A bound on |x| folded into an OR accumulator: x for x >= 0, -x - 1 for x < 0 (so |x| <= 2^bits of the OR).
@inline(__always) func magnitudeBits(_ x: Int32) -> UInt32 { UInt32(bitPattern: x ^ (x >> 31)) }

/// The fixed-point real FFT of length `n` (a power of two, 16...16384): tables made at init, caller-owned
/// work memory (`FixedRealFFT.workBytes(n:)`), no allocation when transforming.
///
/// Example:
/// ```
/// let fft = FixedRealFFT(n: 2048)
/// // x: 2048 Int32 samples; work: 2048 Int32; power: 1025 UInt64
/// let e = fft.powerSpectrum(x, into: power, work: work)   // |X_k|^2 = power[k] * 2^e (input units squared)
/// ```
struct FixedRealFFT: Sendable {
    /// Real transform length.
    let n: Int
    /// Complex transform length `n / 2` and its log2.
    let half: Int, stages: Int
    /// W_n^k = cos - i sin, k in 0...n/2, Q1.30.
    let cosQ30: [Int32], sinQ30: [Int32]
    /// Bit reversal of log2(n/2) bits.
    let bitReverse: [UInt16]

    init(n: Int) {
        let tw = fixedTwiddlesQ30(n: n)
        self.n = n
        half = n / 2
        var s = 0
        while (1 << s) < n / 2 { s += 1 }
        stages = s
        cosQ30 = tw.cos
        sinQ30 = tw.sin
        var rev = [UInt16](repeating: 0, count: n / 2)
        for m in 0..<(n / 2) {
            var r = 0, v = m
            for _ in 0..<s { r = (r << 1) | (v & 1); v >>= 1 }
            rev[m] = UInt16(truncatingIfNeeded: r)
        }
        bitReverse = rev
    }

    /// Bytes of work memory a transform needs: `n` Int32 (the packed complex data).
    static func workBytes(n: Int) -> Int { 4 * n }

    /// Power spectrum of the real frame `x[0..<n]` (any Int32 values): `power[k]` for k in 0...n/2 with
    /// `|X_k|^2 = power[k] * 2^exponent` where X is the exact DFT of x (`X_k = sum x_j e^(-2 pi i jk/n)`).
    /// Every `power[k] < 2^59`. An all-zero frame gives zeros and exponent 0.
    /// `work` holds `n` Int32 (`workBytes(n:)`); it must not overlap `x` or `power`.
    func powerSpectrum(_ x: UnsafePointer<Int32>, into power: UnsafeMutablePointer<UInt64>,
                              work: UnsafeMutablePointer<Int32>) -> Int32 {
        let (shift, acc) = pack(x, into: work)
        return powerSpectrum(packed: work, shift: shift, bound: acc, into: power)
    }

    /// `powerSpectrum` of a frame of Int64 values (the windowed frame of the MFCC: pcm * Q1.30 window).
    func powerSpectrum(_ x: UnsafePointer<Int64>, into power: UnsafeMutablePointer<UInt64>,
                              work: UnsafeMutablePointer<Int32>) -> Int32 {
        let (shift, acc) = pack(x, into: work)
        return powerSpectrum(packed: work, shift: shift, bound: acc, into: power)
    }

    @inline(__always)
    func powerSpectrum(packed work: UnsafeMutablePointer<Int32>, shift: Int32, bound: UInt32?,
                       into power: UnsafeMutablePointer<UInt64>) -> Int32 {
        guard let bound else {
            for k in 0...half { power[k] = 0 }
            return 0
        }
        let (total, zbits) = transformPacked(work, shift: shift, bound: bound)
        let s = max(0, zbits - 28)
        cosQ30.withUnsafeBufferPointer { cb in
            sinQ30.withUnsafeBufferPointer { sb in
                let c = cb.baseAddress!, sn = sb.baseAddress!
                var k = 0
                while k <= half {
                    let (re, im) = splitBin(k, work, c, sn, s)
                    let r = Int64(re), i = Int64(im)
                    power[k] = UInt64(bitPattern: r &* r &+ i &* i)
                    k &+= 1
                }
            }
        }
        return 2 &* (total &+ s)
    }

    /// The complex spectrum, bins 0...n/2: `X_k = (re[k] + i im[k]) * 2^exponent`, each component below 2^29.5.
    /// An all-zero frame gives zeros and exponent 0. `work` as in `powerSpectrum`.
    func spectrum(_ x: UnsafePointer<Int32>, re: UnsafeMutablePointer<Int32>, im: UnsafeMutablePointer<Int32>,
                         work: UnsafeMutablePointer<Int32>) -> Int32 {
        let (shift0, acc) = pack(x, into: work)
        guard let acc else {
            for k in 0...half { re[k] = 0; im[k] = 0 }
            return 0
        }
        let (shift, zbits) = transformPacked(work, shift: shift0, bound: acc)
        let s = max(0, zbits - 28)
        cosQ30.withUnsafeBufferPointer { cb in
            sinQ30.withUnsafeBufferPointer { sb in
                for k in 0...half {
                    let v = splitBin(k, work, cb.baseAddress!, sb.baseAddress!, s)
                    re[k] = v.0; im[k] = v.1
                }
            }
        }
        return shift &+ s
    }

    /// Bin k of the real spectrum from the packed complex spectrum Z (n/2 points) in `z`, shifted right by
    /// `31 + s`: X_k = (A + W^k (-i B)) / 2 with A = Z_k + conj(Z_{n/2-k}), B = Z_k - conj(Z_{n/2-k}).
    /// With |Z components| <= 2^(28+s): |X| <= 2 max|Z| <= 2^29.5 after the shift; the Int64 sum < 2^62.3.
    @inline(__always)
    func splitBin(_ k: Int, _ z: UnsafeMutablePointer<Int32>, _ c: UnsafePointer<Int32>, _ sn: UnsafePointer<Int32>,
                  _ s: Int32) -> (Int32, Int32) {
        let a = k == half ? 0 : k, b = k == 0 ? 0 : half &- k
        let zr = Int64(z[2 &* a]), zi = Int64(z[2 &* a &+ 1])
        let mr = Int64(z[2 &* b]), mi = Int64(z[2 &* b &+ 1])
        let ar = zr &+ mr, ai = zi &- mi, br = zr &- mr, bi = zi &+ mi
        let cw = Int64(c[k]), sw = Int64(sn[k])
        let sh = Int64(31 &+ s), rnd = Int64(1) << (sh &- 1)
        // W (-i B) with W = cos - i sin and -i B = (bi, -br): (cos bi - sin br) + i (-cos br - sin bi).
        let xr = ((ar << 30) &+ cw &* bi &- sw &* br &+ rnd) &>> sh
        let xi = ((ai << 30) &- cw &* br &- sw &* bi &+ rnd) &>> sh
        return (Int32(truncatingIfNeeded: xr), Int32(truncatingIfNeeded: xi))
    }

    /// Normalises x to 28 significant bits (|x * 2^L| <= 2^28, rounding when L < 0) and packs it bit-reversed
    /// into `z` as n/2 complex values. Returns (-L, bound of the packed components as an OR of magnitudeBits),
    /// the bound nil for an all-zero frame.
    @inline(__always)
    func pack<T: FixedWidthInteger & SignedInteger>(_ x: UnsafePointer<T>, into z: UnsafeMutablePointer<Int32>) -> (Int32, UInt32?) {
        var bits: T = 0, any: T = 0  // bits: OR of the magnitude bounds (x, or -x - 1 for x < 0), never negative
        for j in 0..<n { bits |= x[j] ^ (x[j] >> (T.bitWidth &- 1)); any |= x[j] }
        if any == 0 { return (0, nil) }
        let left = 28 &- max(Int32(T.bitWidth &- bits.leadingZeroBitCount), 1)  // >= -3 (Int32), >= -35 (Int64)
        var acc: UInt32 = 0
        bitReverse.withUnsafeBufferPointer { rb in
            let rev = rb.baseAddress!
            for m in 0..<half {
                let d = 2 &* Int(rev[m])
                let re: Int32, im: Int32
                if left >= 0 {
                    re = Int32(truncatingIfNeeded: x[2 &* m] << T(left))
                    im = Int32(truncatingIfNeeded: x[2 &* m &+ 1] << T(left))
                } else {
                    re = Int32(truncatingIfNeeded: roundingShiftRight(Int64(x[2 &* m]), -left))
                    im = Int32(truncatingIfNeeded: roundingShiftRight(Int64(x[2 &* m &+ 1]), -left))
                }
                z[d] = re; z[d &+ 1] = im
                acc |= magnitudeBits(re) | magnitudeBits(im)
            }
        }
        return (-left, acc)
    }

    /// Transforms the packed data in `z` (the n/2-point complex FFT) in place. `shift`: the packing's exponent;
    /// `bound`: OR of the packed components' magnitudeBits. Returns (exponent, bits): Z_true = Z_int * 2^exponent
    /// in input units, `bits` bounds the components (|component| <= 2^bits).
    @inline(__always)
    func transformPacked(_ z: UnsafeMutablePointer<Int32>, shift shift0: Int32, bound: UInt32) -> (Int32, Int32) {
        var shift = shift0, acc = bound
        // First stage: W = 1, butterflies (a + b, a - b).
        var s = max(0, significantBits(acc) &- 28)
        shift &+= s
        acc = 0
        do {
            let rnd: Int32 = s == 0 ? 0 : Int32(1) << (s &- 1)
            var m = 0
            while m < half {
                let ar = z[2 &* m], ai = z[2 &* m &+ 1], br = z[2 &* m &+ 2], bi = z[2 &* m &+ 3]
                let r0 = (ar &+ br &+ rnd) &>> s, i0 = (ai &+ bi &+ rnd) &>> s
                let r1 = (ar &- br &+ rnd) &>> s, i1 = (ai &- bi &+ rnd) &>> s
                z[2 &* m] = r0; z[2 &* m &+ 1] = i0; z[2 &* m &+ 2] = r1; z[2 &* m &+ 3] = i1
                acc |= magnitudeBits(r0) | magnitudeBits(i0) | magnitudeBits(r1) | magnitudeBits(i1)
                m &+= 2
            }
        }
        cosQ30.withUnsafeBufferPointer { cb in
            sinQ30.withUnsafeBufferPointer { sb in
                let c = cb.baseAddress!, sn = sb.baseAddress!
                var h = 2
                while h < half {
                    s = max(0, significantBits(acc) &- 28)
                    shift &+= s
                    acc = 0
                    let sh = Int64(30 &+ s), rnd = Int64(1) << (sh &- 1)
                    let step = n / (2 &* h)
                    var j = 0
                    while j < h {
                        let cw = Int64(c[j &* step]), sw = Int64(sn[j &* step])
                        var g = j
                        while g < half {
                            let ia = 2 &* g, ib = 2 &* (g &+ h)
                            let ar = Int64(z[ia]) << 30, ai = Int64(z[ia &+ 1]) << 30
                            let br = Int64(z[ib]), bi = Int64(z[ib &+ 1])
                            // b * (cos - i sin) = (br cos + bi sin) + i (bi cos - br sin)
                            let tr = br &* cw &+ bi &* sw, ti = bi &* cw &- br &* sw
                            let r0 = Int32(truncatingIfNeeded: (ar &+ tr &+ rnd) &>> sh)
                            let i0 = Int32(truncatingIfNeeded: (ai &+ ti &+ rnd) &>> sh)
                            let r1 = Int32(truncatingIfNeeded: (ar &- tr &+ rnd) &>> sh)
                            let i1 = Int32(truncatingIfNeeded: (ai &- ti &+ rnd) &>> sh)
                            z[ia] = r0; z[ia &+ 1] = i0; z[ib] = r1; z[ib &+ 1] = i1
                            acc |= magnitudeBits(r0) | magnitudeBits(i0) | magnitudeBits(r1) | magnitudeBits(i1)
                            g &+= 2 &* h
                        }
                        j &+= 1
                    }
                    h &*= 2
                }
            }
        }
        return (shift, significantBits(acc))
    }
}
