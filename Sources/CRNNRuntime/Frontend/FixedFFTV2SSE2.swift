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

/// The pass itself is the shared one (FixedFFTV2X86Pass.swift) on 128-bit registers.
enum FFTRadix4StageSSE2: FFTRadix4StageKernel, FFTStageLanes {
    static var readsPackedTwiddles: Bool { true }
    static var groupsTwiddlePairs: Bool { true }
    static var name: StaticString { "sse2" }

    static func stage(_ z: UnsafeMutablePointer<Int32>, half: Int, length l: Int, twiddles: UnsafePointer<Int32>,
                      packed: UnsafePointer<Int16>, shift s: Int32) -> UInt32 {
        var acc = stagePasses(z, half: half, length: l, packed: packed, shift: s, perPass: 2)
        acc = _mm_or_si128(acc, _mm_unpackhi_epi64(acc, acc))
        acc = _mm_or_si128(acc, _mm_srli_epi64(acc, 32))
        return UInt32(bitPattern: _mm_cvtsi128_si32(acc))
    }

    // FFTStageLanes on 128-bit registers.
    @inline(__always) static func load(_ p: UnsafeRawPointer) -> __m128i { p.loadUnaligned(as: __m128i.self) }
    @inline(__always) static func store(_ p: UnsafeMutableRawPointer, _ v: __m128i) { p.storeBytes(of: v, as: __m128i.self) }
    @inline(__always) static func splat(_ x: Int32) -> __m128i { _mm_set1_epi32(x) }
    @inline(__always) static func add(_ a: __m128i, _ b: __m128i) -> __m128i { _mm_add_epi32(a, b) }
    @inline(__always) static func sub(_ a: __m128i, _ b: __m128i) -> __m128i { _mm_sub_epi32(a, b) }
    @inline(__always) static func and(_ a: __m128i, _ b: __m128i) -> __m128i { _mm_and_si128(a, b) }
    @inline(__always) static func or(_ a: __m128i, _ b: __m128i) -> __m128i { _mm_or_si128(a, b) }
    @inline(__always) static func xor(_ a: __m128i, _ b: __m128i) -> __m128i { _mm_xor_si128(a, b) }
    @inline(__always) static func srai(_ v: __m128i, _ n: Int32) -> __m128i { _mm_srai_epi32(v, n) }
    @inline(__always) static func sra(_ v: __m128i, _ cnt: __m128i) -> __m128i { _mm_sra_epi32(v, cnt) }
    @inline(__always) static func packs(_ a: __m128i, _ b: __m128i) -> __m128i { _mm_packs_epi32(a, b) }
    @inline(__always) static func unpacklo32(_ a: __m128i, _ b: __m128i) -> __m128i { _mm_unpacklo_epi32(a, b) }
    @inline(__always) static func unpackhi32(_ a: __m128i, _ b: __m128i) -> __m128i { _mm_unpackhi_epi32(a, b) }
    @inline(__always) static func madd(_ a: __m128i, _ b: __m128i) -> __m128i { _mm_madd_epi16(a, b) }
    @inline(__always) static func swapHalves(_ v: __m128i) -> __m128i {
        _mm_or_si128(_mm_slli_epi64(v, 32), _mm_srli_epi64(v, 32))
    }
    @inline(__always) static var oddLanes: __m128i { _mm_set_epi32(-1, 0, -1, 0) }
}
#endif
