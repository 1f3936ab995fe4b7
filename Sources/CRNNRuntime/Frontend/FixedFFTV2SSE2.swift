// FFTRadix4StageSSE2: the radix-4 stage of FixedRealFFTV2 for the x86-64 baseline (SSE2, every x86-64 CPU), two
// butterflies (j, j + 1) per pass: one 128-bit register holds two complex Int32 values.
//
// Exactness (the same bits as FFTRadix4StagePortable's Int64 arithmetic): the butterfly sums are the same Int32
// sums. A twiddle product t c + u s (t, u the Int32 components, |t|, |u| <= 2^30 - 2 since the stage inputs are
// in [-2^28, 2^28 - 1]; c, s Q1.15 Int16) is split as t = t_hi 2^15 + t_lo (t_hi = t >> 15 in [-2^15, 2^15 - 1],
// t_lo = t & 0x7fff): H = t_hi c + u_hi s and L = t_lo c + u_lo s are each one `pmaddwd` (`_mm_madd_epi16`), exact
// in Int32 (|H|, |L| <= 2^15.5 * 2^15 by Cauchy-Schwarz, |(c, s)| <= 2^15), and
// floor((H 2^15 + L + 2^(14+s)) / 2^(15+s)) = (H + ((L + 2^(14+s)) >> 15)) >> s
// with arithmetic shifts (the remainder of the inner division is below 2^15 and cannot carry into the outer one).

#if arch(x86_64)
import _Builtin_intrinsics.intel

enum FFTRadix4StageSSE2: FFTRadix4StageKernel {
    @inline(__always) static func load(_ p: UnsafeRawPointer) -> __m128i { p.loadUnaligned(as: __m128i.self) }
    @inline(__always) static func store(_ p: UnsafeMutableRawPointer, _ v: __m128i) { p.storeBytes(of: v, as: __m128i.self) }
    @inline(__always) static func magnitude(_ v: __m128i) -> __m128i { _mm_xor_si128(v, _mm_srai_epi32(v, 31)) }

    /// (t c + u s, u c - t s) for the two complex values of `t` (re, im, re, im), rounded right by 15 + s.
    @inline(__always)
    static func twiddle(_ t: __m128i, _ cs: __m128i, _ sc: __m128i, _ rnd: __m128i, _ cnt: __m128i) -> __m128i {
        let hi = _mm_srai_epi32(t, 15), lo = _mm_and_si128(t, _mm_set1_epi32(0x7fff))
        let halves = _mm_packs_epi32(hi, lo)          // t_hi, u_hi (x2), t_lo, u_lo (x2) as Int16
        let re = _mm_madd_epi16(halves, cs)            // H_re0, H_re1, L_re0, L_re1
        let im = _mm_madd_epi16(halves, sc)            // H_im0, H_im1, L_im0, L_im1
        let h = _mm_unpacklo_epi64(re, im), l = _mm_unpackhi_epi64(re, im)
        let v = _mm_sra_epi32(_mm_add_epi32(h, _mm_srai_epi32(_mm_add_epi32(l, rnd), 15)), cnt)
        return _mm_unpacklo_epi32(v, _mm_unpackhi_epi64(v, v))  // re0, im0, re1, im1
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
                let y1 = twiddle(t1, load(w), load(w + 16), rnd, cnt)
                let y2 = twiddle(t2, load(w + 32), load(w + 48), rnd, cnt)
                let y3 = twiddle(t3, load(w + 64), load(w + 80), rnd, cnt)
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
}
#endif
