// FFTRadix4StageAVX2: the radix-4 stage of FixedRealFFTV2 on 256-bit registers, four butterflies (j ..< j + 4) per
// pass, for x86-64 CPUs with AVX2 (a build for such a CPU: -D CRNN_FFT_AVX2, which tools/native-flags.sh adds).
//
// It is the SSE2 kernel's arithmetic (FixedFFTV2SSE2.swift, whose comment proves it exact: the Int32 butterfly sums,
// then each Q1.30 twiddle product recomposed from 16-bit pieces with `pmaddwd`) applied to both 128-bit halves at
// once: every AVX2 instruction used here (`vpmaddwd`, `vpackssdw`, `vpunpck*`, `vpsrad`, adds and logic) works
// lane by lane or within each 128-bit half, so each half computes exactly what the SSE2 kernel computes for the pair
// of butterflies it holds. The twiddles are the SSE2 kernel's packed table: the half for butterflies (j, j + 1) and
// the half for (j + 2, j + 3) are its two consecutive pair blocks. Stages with fewer than four butterflies per block
// (L = 8) run the SSE2 kernel. Same bits (test testStageKernelsAgreeBitForBit and the x86-64 battery of
// tools/conv_variants_qemu.sh, both built with tools/native-flags.sh).

#if CRNN_FFT_AVX2 && arch(x86_64)
import _Builtin_intrinsics.intel

enum FFTRadix4StageAVX2: FFTRadix4StageKernel {
    static var readsPackedTwiddles: Bool { true }
    static var name: StaticString { "avx2" }

    /// The split + power four k at a time in 64-bit lanes: `FixedRealFFTV2.splitPowerFourLanes`, whose
    /// sign-extended 32 x 32-bit products LLVM makes `vpmuldq` here (15 % off the AVX2 build's MFCC).
    static var vectorSplit: Bool { true }
    @inline(__always)
    static func splitPowerFour(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                               _ pos: UnsafePointer<UInt16>, k: Int) -> SIMD4<UInt64> {
        fft.splitPowerFourLanes(z, tw, pos, k: k)
    }

    @inline(__always) static func load(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    @inline(__always) static func store(_ p: UnsafeMutableRawPointer, _ v: __m256i) { p.storeBytes(of: v, as: __m256i.self) }
    @inline(__always) static func magnitude(_ v: __m256i) -> __m256i { _mm256_xor_si256(v, _mm256_srai_epi32(v, 31)) }
    /// Twiddle vector k of this r for the four butterflies: the SSE2 layout's vector k of pair block `w` (low half)
    /// and of the next pair block, 96 bytes on (high half).
    @inline(__always) static func twiddles(_ w: UnsafeRawPointer, _ k: Int) -> __m256i {
        _mm256_set_m128i(w.loadUnaligned(fromByteOffset: 96 &+ k, as: __m128i.self),
                         w.loadUnaligned(fromByteOffset: k, as: __m128i.self))
    }

    /// The SSE2 kernel's `twiddle` on both halves: (t c + u s, u c - t s) rounded right by 30 + s.
    @inline(__always)
    static func twiddle(_ t: __m256i, _ w: UnsafeRawPointer, _ r: __m256i, _ cnt: __m128i) -> __m256i {
        let m = _mm256_set1_epi32(0x7fff)
        let halves = _mm256_packs_epi32(_mm256_srai_epi32(t, 15), _mm256_and_si256(t, m))
        let hi = _mm256_unpacklo_epi32(halves, halves), lo = _mm256_unpackhi_epi32(halves, halves)
        let wh = twiddles(w, 0), wl = twiddles(w, 16)
        let hh = _mm256_madd_epi16(hi, wh), m1 = _mm256_madd_epi16(hi, wl)
        let m2 = _mm256_madd_epi16(lo, wh), ll = _mm256_madd_epi16(lo, wl)
        let ar = _mm256_add_epi32(_mm256_srai_epi32(ll, 15), r)
        let low = _mm256_add_epi32(_mm256_add_epi32(_mm256_and_si256(m1, m), m2), ar)  // < 2^31 (SSE2 file comment)
        let v = _mm256_add_epi32(_mm256_add_epi32(hh, _mm256_srai_epi32(m1, 15)), _mm256_srai_epi32(low, 15))
        return _mm256_sra_epi32(v, cnt)
    }

    static func stage(_ z: UnsafeMutablePointer<Int32>, half: Int, length l: Int, twiddles tw: UnsafePointer<Int32>,
                      packed: UnsafePointer<Int16>, shift s: Int32) -> UInt32 {
        let q = l / 4
        if q < 4 { return FFTRadix4StageSSE2.stage(z, half: half, length: l, twiddles: tw, packed: packed, shift: s) }
        let cnt = _mm_cvtsi32_si128(s)
        let rnd32 = _mm256_set1_epi32(s == 0 ? 0 : Int32(1) << (s &- 1))
        let rnd = _mm256_set1_epi32(Int32(1) << (14 &+ s))
        let oddNeg = _mm256_set_epi32(-1, 0, -1, 0, -1, 0, -1, 0)  // the imaginary lanes
        var acc = _mm256_setzero_si256()
        let rowBytes = 8 &* q
        var g = 0
        while g < half {
            var j = 0
            var w = UnsafeRawPointer(packed)
            while j < q {
                let p0 = UnsafeMutableRawPointer(z + 2 &* (g &+ j))
                let x0 = load(p0), x1 = load(p0 + rowBytes), x2 = load(p0 + 2 &* rowBytes), x3 = load(p0 + 3 &* rowBytes)
                let s02 = _mm256_add_epi32(x0, x2), d02 = _mm256_sub_epi32(x0, x2)
                let s13 = _mm256_add_epi32(x1, x3), d13 = _mm256_sub_epi32(x1, x3)
                let y0 = _mm256_sra_epi32(_mm256_add_epi32(_mm256_add_epi32(s02, s13), rnd32), cnt)
                let t2 = _mm256_sub_epi32(s02, s13)
                let sw = _mm256_or_si256(_mm256_slli_epi64(d13, 32), _mm256_srli_epi64(d13, 32))  // im, re
                let u = _mm256_sub_epi32(_mm256_xor_si256(sw, oddNeg), oddNeg)  // -i d13
                let t1 = _mm256_add_epi32(d02, u), t3 = _mm256_sub_epi32(d02, u)
                let y1 = twiddle(t1, w, rnd, cnt), y2 = twiddle(t2, w + 32, rnd, cnt), y3 = twiddle(t3, w + 64, rnd, cnt)
                store(p0, y0); store(p0 + rowBytes, y1); store(p0 + 2 &* rowBytes, y2); store(p0 + 3 &* rowBytes, y3)
                acc = _mm256_or_si256(acc, _mm256_or_si256(_mm256_or_si256(magnitude(y0), magnitude(y1)),
                                                           _mm256_or_si256(magnitude(y2), magnitude(y3))))
                w += 192
                j &+= 4
            }
            g &+= l
        }
        let lanes = unsafeBitCast(acc, to: SIMD8<Int32>.self)
        return UInt32(bitPattern: lanes[0] | lanes[1] | lanes[2] | lanes[3] | lanes[4] | lanes[5] | lanes[6] | lanes[7])
    }
}
#endif
