// FFTRadix4StageSSE2: the radix-4 stage of FixedRealFFTV2 for the x86-64 baseline (SSE2, every x86-64 CPU), two
// butterflies (j, j + 1) per pass: one 128-bit register holds two complex Int32 values.
//
// Exactness (the same bits as FFTRadix4StagePortable's Int64 arithmetic): the butterfly sums are the same Int32
// sums. A twiddle product t c + u s (t, u the Int32 components, in [-2^30 + 2, 2^30 - 2] since the stage inputs are
// in [-2^28, 2^28 - 1]; c, s Q1.30 in +-(2^30 - 1)) is split into 16-bit halves, x = x_hi 2^15 + x_lo with
// x_hi = x >> 15 (an Int16) and x_lo = x & 0x7fff:
//   t c + u s = HH 2^30 + (M1 + M2) 2^15 + LL,   HH = t_hi c_hi + u_hi s_hi, M1 = t_hi c_lo + u_hi s_lo,
//                                                M2 = t_lo c_hi + u_lo s_hi, LL = t_lo c_lo + u_lo s_lo,
// each one `pmaddwd` (`_mm_madd_epi16`) and exact in Int32 (Cauchy-Schwarz: |HH|, |M2| < 2^30.6, |M1|, LL < 2^31).
// Then with R = 2^(14+s) (the rounding 2^(29+s) = R 2^15) and floor divisions by arithmetic shifts:
//   floor((t c + u s + 2^(29+s)) / 2^(30+s))
//     = (HH + (M1 >> 15) + (((M1 & m) + M2 + (LL >> 15) + R) >> 15)) >> s,   m = 0x7fff
// (nested floor divisions: t c + u s + R 2^15 = (HH 2^15 + M1 + M2 + (LL >> 15) + R) 2^15 + (LL & m), and
// M1 = (M1 >> 15) 2^15 + (M1 & m), each remainder below the divisor), every term in Int32: the inner sum is below
// 2^30.6 + 2^15 + 2^16 + 2^27 < 2^31 (|M2| < 2^30.6, M1 & m < 2^15, |LL >> 15| < 2^16, R <= 2^27 for any s <= 13;
// a stage shifts by at most 4).

#if arch(x86_64)
import _Builtin_intrinsics.intel

enum FFTRadix4StageSSE2: FFTRadix4StageKernel {
    static var readsPackedTwiddles: Bool { true }
    @inline(__always) static func load(_ p: UnsafeRawPointer) -> __m128i { p.loadUnaligned(as: __m128i.self) }
    @inline(__always) static func store(_ p: UnsafeMutableRawPointer, _ v: __m128i) { p.storeBytes(of: v, as: __m128i.self) }
    @inline(__always) static func magnitude(_ v: __m128i) -> __m128i { _mm_xor_si128(v, _mm_srai_epi32(v, 31)) }

    /// (t c + u s, u c - t s) for the two complex values of `t` (re, im, re, im), rounded right by 30 + s;
    /// `w` points at the two twiddle vectors of this r (see FixedRealFFTV2.packedTwiddles): the hi pieces
    /// (c_hi, s_hi, (-s)_hi, c_hi, c'_hi, ...) and the lo pieces. With each complex value's Int16 pieces repeated
    /// ((t_hi, u_hi) in both Int32 lanes of its output), each `pmaddwd` gives one of HH, M1, M2, LL for the four
    /// outputs in output order (re0, im0, re1, im1).
    @inline(__always)
    static func twiddle(_ t: __m128i, _ w: UnsafeRawPointer, _ r: __m128i, _ cnt: __m128i) -> __m128i {
        let m = _mm_set1_epi32(0x7fff)
        let halves = _mm_packs_epi32(_mm_srai_epi32(t, 15), _mm_and_si128(t, m))  // (t,u)_hi x2, (t,u)_lo x2
        let hi = _mm_unpacklo_epi32(halves, halves), lo = _mm_unpackhi_epi32(halves, halves)  // each value twice
        let wh = load(w), wl = load(w + 16)
        let hh = _mm_madd_epi16(hi, wh), m1 = _mm_madd_epi16(hi, wl)
        let m2 = _mm_madd_epi16(lo, wh), ll = _mm_madd_epi16(lo, wl)
        let ar = _mm_add_epi32(_mm_srai_epi32(ll, 15), r)
        let low = _mm_add_epi32(_mm_add_epi32(_mm_and_si128(m1, m), m2), ar)  // < 2^31: no wrap (file comment)
        let v = _mm_add_epi32(_mm_add_epi32(hh, _mm_srai_epi32(m1, 15)), _mm_srai_epi32(low, 15))
        return _mm_sra_epi32(v, cnt)                   // re0, im0, re1, im1
    }

    static func stage(_ z: UnsafeMutablePointer<Int32>, half: Int, length l: Int, twiddles: UnsafePointer<Int32>,
                      packed: UnsafePointer<Int16>, shift s: Int32) -> UInt32 {
        let q = l / 4
        let cnt = _mm_cvtsi32_si128(s)
        let rnd32 = _mm_set1_epi32(s == 0 ? 0 : Int32(1) << (s &- 1))
        let rnd = _mm_set1_epi32(Int32(1) << (14 &+ s))
        let oddNeg = _mm_set_epi32(-1, 0, -1, 0)  // lanes 1, 3 (the imaginary parts)
        var acc = _mm_setzero_si128()
        let rowBytes = 8 &* q
        var g = 0
        while g < half {
            var j = 0
            var w = UnsafeRawPointer(packed)
            while j < q {
                let p0 = UnsafeMutableRawPointer(z + 2 &* (g &+ j))
                let x0 = load(p0), x1 = load(p0 + rowBytes), x2 = load(p0 + 2 &* rowBytes), x3 = load(p0 + 3 &* rowBytes)
                let s02 = _mm_add_epi32(x0, x2), d02 = _mm_sub_epi32(x0, x2)
                let s13 = _mm_add_epi32(x1, x3), d13 = _mm_sub_epi32(x1, x3)
                let y0 = _mm_sra_epi32(_mm_add_epi32(_mm_add_epi32(s02, s13), rnd32), cnt)
                let t2 = _mm_sub_epi32(s02, s13)
                // u = (d13_im, -d13_re): -i d13
                let sw = _mm_or_si128(_mm_slli_epi64(d13, 32), _mm_srli_epi64(d13, 32))  // im, re per complex
                let u = _mm_sub_epi32(_mm_xor_si128(sw, oddNeg), oddNeg)
                let t1 = _mm_add_epi32(d02, u), t3 = _mm_sub_epi32(d02, u)
                let y1 = twiddle(t1, w, rnd, cnt)
                let y2 = twiddle(t2, w + 32, rnd, cnt)
                let y3 = twiddle(t3, w + 64, rnd, cnt)
                store(p0, y0); store(p0 + rowBytes, y1); store(p0 + 2 &* rowBytes, y2); store(p0 + 3 &* rowBytes, y3)
                acc = _mm_or_si128(acc, _mm_or_si128(_mm_or_si128(magnitude(y0), magnitude(y1)),
                                                     _mm_or_si128(magnitude(y2), magnitude(y3))))
                w += 96
                j &+= 2
            }
            g &+= l
        }
        acc = _mm_or_si128(acc, _mm_unpackhi_epi64(acc, acc))
        acc = _mm_or_si128(acc, _mm_srli_epi64(acc, 32))
        return UInt32(bitPattern: _mm_cvtsi128_si32(acc))
    }

    static var name: StaticString { "sse2" }
}
#endif
