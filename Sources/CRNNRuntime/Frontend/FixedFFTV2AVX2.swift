// FFTRadix4StageAVX2: the radix-4 stage of FixedRealFFTV2 on 256-bit registers, four butterflies (j ..< j + 4) per
// pass, for x86-64 CPUs with AVX2 (a build for such a CPU: -D CRNN_FFT_AVX2, which tools/native-flags.sh adds).
//
// It is the SSE2 kernel's arithmetic (FixedFFTV2SSE2.swift, whose comment proves it exact: the Int32 butterfly sums,
// then each Q1.30 twiddle product recomposed from 16-bit pieces with `pmaddwd`) applied to both 128-bit halves at
// once, by the pass the x86 kernels share (FixedFFTV2X86Pass.swift): every AVX2 instruction it uses here
// (`vpmaddwd`, `vpackssdw`, `vpunpck*`, `vpsrad`, adds and logic) works lane by lane or within each 128-bit half, so
// each half computes exactly what the SSE2 kernel computes for the pair of butterflies it holds. The twiddles are the
// SSE2 kernel's packed table, grouped: the vectors of butterflies (j, j + 1) and (j + 2, j + 3) lie side by side, one
// 256-bit load. Stages with fewer than four butterflies per block (L = 8) run the SSE2 kernel. Same bits (test testStageKernelsAgreeBitForBit and the x86-64 battery of
// tools/conv_variants_qemu.sh, both built with tools/native-flags.sh).

#if CRNN_FFT_AVX2 && arch(x86_64)
import _Builtin_intrinsics.intel

enum FFTRadix4StageAVX2: FFTRadix4StageKernel, FFTStageLanes {
    static var readsPackedTwiddles: Bool { true }
    static var groupsTwiddlePairs: Bool { true }
    static var name: StaticString { "avx2" }

    /// The split + power four k at a time (`FixedRealFFTV2.splitPowerOne`'s integers) with the complex values kept
    /// as (re, im) Int32 pairs in 64-bit lanes: `vpmuldq` multiplies each lane's low Int32 (sign-extended), so the
    /// real parts are multiplied in place and the imaginary ones after a 32-bit lane shift; no unzipping.
    /// - S = Z + M, D = Z - M (Int32 lanes, exact: components <= 2^28): A = (S_re, D_im), B = (D_re, S_im).
    /// - 2^30 A, c B_im - s B_re, c B_re + s B_im: `vpmuldq` products in Int64 (< 2^61), the twiddle pairs (c, s)
    ///   read as 64-bit lanes from the split table.
    /// - X_re = (2^30 A_re + T_re + 2^30) >> 31 etc.: a logical 64-bit shift, whose low Int32 is the arithmetic
    ///   shift's (the true value fits in Int32), which is all the squaring `vpmuldq` reads.
    /// - Powers X_re^2 + X_im^2 (< 2^59), stored to the slots read.
    /// (An earlier version took `splitPowerFourLanes`' Swift SIMD4<Int64> lanes: 98 instructions per 4 k, a third of
    /// them unzipping the gathered pairs.)
    static var vectorSplit: Bool { true }
    @inline(__always)
    static func splitPowerFour(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                               _ pos: UnsafePointer<UInt16>, k: Int) -> SIMD4<UInt64> {
        let half = fft.half
        let words = UnsafeMutableRawPointer(z).assumingMemoryBound(to: Int64.self)  // one complex value per slot
        let ia0 = Int(pos[k]), ia1 = Int(pos[k &+ 1]), ia2 = Int(pos[k &+ 2]), ia3 = Int(pos[k &+ 3])
        let ib0 = Int(pos[half &- k]), ib1 = Int(pos[half &- k &- 1]), ib2 = Int(pos[half &- k &- 2])
        let ib3 = Int(pos[half &- k &- 3])
        let zv = _mm256_set_epi64x(words[ia3], words[ia2], words[ia1], words[ia0])
        let mv = _mm256_set_epi64x(words[ib3], words[ib2], words[ib1], words[ib0])
        let w = UnsafeRawPointer(tw + 2 &* k).loadUnaligned(as: __m256i.self)  // (c, s) per lane
        let (k4, m4) = splitPowers(zv, mv, w)
        words[ia0] = k4[0]; words[ia1] = k4[1]; words[ia2] = k4[2]; words[ia3] = k4[3]
        words[ib0] = m4[0]; words[ib1] = m4[1]; words[ib2] = m4[2]; words[ib3] = m4[3]
        return SIMD4<UInt64>(truncatingIfNeeded: k4 | m4)
    }

    /// The arithmetic of `splitPowerFour` (its comment): Z_k in `zv`, Z_{n/2-k} in `mv`, the (c, s) of k in `w`, one
    /// k per 64-bit lane; returns the powers of X_k and of X_{n/2-k}.
    @inline(__always)
    static func splitPowers(_ zv: __m256i, _ mv: __m256i, _ w: __m256i) -> (__m256i, __m256i) {
        let sv = _mm256_add_epi32(zv, mv), dv = _mm256_sub_epi32(zv, mv)
        let sIm = _mm256_srli_epi64(sv, 32), dIm = _mm256_srli_epi64(dv, 32), sTw = _mm256_srli_epi64(w, 32)
        let q30 = _mm256_set1_epi64x(1 << 30)
        let ar = _mm256_mul_epi32(sv, q30), ai = _mm256_mul_epi32(dIm, q30)    // 2^30 A
        let tr = _mm256_sub_epi64(_mm256_mul_epi32(sIm, w), _mm256_mul_epi32(dv, sTw))   // c bi - s br
        let nti = _mm256_add_epi64(_mm256_mul_epi32(dv, w), _mm256_mul_epi32(sIm, sTw))  // -ti = c br + s bi
        let ar1 = _mm256_add_epi64(ar, q30), ai1 = _mm256_add_epi64(ai, q30)   // + the rounding 2^30
        let xr = _mm256_srli_epi64(_mm256_add_epi64(ar1, tr), 31), xi = _mm256_srli_epi64(_mm256_sub_epi64(ai1, nti), 31)
        let yr = _mm256_srli_epi64(_mm256_sub_epi64(ar1, tr), 31), yi = _mm256_srli_epi64(_mm256_add_epi64(ai1, nti), 31)
        let pk = _mm256_add_epi64(_mm256_mul_epi32(xr, xr), _mm256_mul_epi32(xi, xi))
        let pm = _mm256_add_epi64(_mm256_mul_epi32(yr, yr), _mm256_mul_epi32(yi, yi))
        return (pk, pm)
    }

    /// `FixedRealFFTV2.splitPowerGroupPair` with contiguous loads and stores: the slot groups of r and of m - r are
    /// one 256-bit register each, their lanes put in (k, n/2 - k) order by permutes and blends; the (c, s) of the
    /// four k gathered from the split table; `splitPowers`; the powers put back in slot order.
    static var groupedSplit: Bool { true }
    @inline(__always)
    static func splitPowerGroupPair(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                                    _ pos: UnsafePointer<UInt16>, r: Int) -> SIMD4<UInt64> {
        let m = fft.half / 4
        let raw = UnsafeMutableRawPointer(z), t = UnsafeRawPointer(tw)
        let sa = 8 &* Int(pos[r]), sb = 8 &* Int(pos[m &- r])  // byte offsets of the two slot groups
        let a = raw.loadUnaligned(fromByteOffset: sa, as: SIMD4<Int64>.self)
        let b = raw.loadUnaligned(fromByteOffset: sb, as: SIMD4<Int64>.self)
        @inline(__always) func cs(_ k: Int) -> Int64 { t.loadUnaligned(fromByteOffset: 8 &* k, as: Int64.self) }
        let (pk, pm) = splitPowers(SIMD4(a[0], a[1], b[1], b[0]), SIMD4(b[3], b[2], a[2], a[3]),
                                   SIMD4(cs(r), cs(r &+ m), cs(2 &* m &- r), cs(m &- r)))
        raw.storeBytes(of: SIMD4(pk[0], pk[1], pm[2], pm[3]), toByteOffset: sa, as: SIMD4<Int64>.self)
        raw.storeBytes(of: SIMD4(pk[3], pk[2], pm[1], pm[0]), toByteOffset: sb, as: SIMD4<Int64>.self)
        return SIMD4<UInt64>(truncatingIfNeeded: pk | pm)
    }

    static func stage(_ z: UnsafeMutablePointer<Int32>, half: Int, length l: Int, twiddles tw: UnsafePointer<Int32>,
                      packed: UnsafePointer<Int16>, shift s: Int32) -> UInt32 {
        if l / 4 < 4 { return FFTRadix4StageSSE2.stage(z, half: half, length: l, twiddles: tw, packed: packed, shift: s) }
        let acc = stagePasses(z, half: half, length: l, packed: packed, shift: s, perPass: 4)
        let lanes = unsafeBitCast(acc, to: SIMD8<Int32>.self)
        return UInt32(bitPattern: lanes[0] | lanes[1] | lanes[2] | lanes[3] | lanes[4] | lanes[5] | lanes[6] | lanes[7])
    }

    // FFTStageLanes on 256-bit registers (every operation within each 128-bit half, as the SSE2 one).
    @inline(__always) static func load(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    @inline(__always) static func store(_ p: UnsafeMutableRawPointer, _ v: __m256i) { p.storeBytes(of: v, as: __m256i.self) }
    @inline(__always) static func splat(_ x: Int32) -> __m256i { _mm256_set1_epi32(x) }
    @inline(__always) static func add(_ a: __m256i, _ b: __m256i) -> __m256i { _mm256_add_epi32(a, b) }
    @inline(__always) static func sub(_ a: __m256i, _ b: __m256i) -> __m256i { _mm256_sub_epi32(a, b) }
    @inline(__always) static func and(_ a: __m256i, _ b: __m256i) -> __m256i { _mm256_and_si256(a, b) }
    @inline(__always) static func or(_ a: __m256i, _ b: __m256i) -> __m256i { _mm256_or_si256(a, b) }
    @inline(__always) static func xor(_ a: __m256i, _ b: __m256i) -> __m256i { _mm256_xor_si256(a, b) }
    @inline(__always) static func srai(_ v: __m256i, _ n: Int32) -> __m256i { _mm256_srai_epi32(v, n) }
    @inline(__always) static func sra(_ v: __m256i, _ cnt: __m128i) -> __m256i { _mm256_sra_epi32(v, cnt) }
    @inline(__always) static func packs(_ a: __m256i, _ b: __m256i) -> __m256i { _mm256_packs_epi32(a, b) }
    @inline(__always) static func unpacklo32(_ a: __m256i, _ b: __m256i) -> __m256i { _mm256_unpacklo_epi32(a, b) }
    @inline(__always) static func unpackhi32(_ a: __m256i, _ b: __m256i) -> __m256i { _mm256_unpackhi_epi32(a, b) }
    @inline(__always) static func madd(_ a: __m256i, _ b: __m256i) -> __m256i { _mm256_madd_epi16(a, b) }
    @inline(__always) static func swapHalves(_ v: __m256i) -> __m256i {
        _mm256_or_si256(_mm256_slli_epi64(v, 32), _mm256_srli_epi64(v, 32))
    }
    @inline(__always) static var oddLanes: __m256i { _mm256_set_epi32(-1, 0, -1, 0, -1, 0, -1, 0) }
}
#endif
