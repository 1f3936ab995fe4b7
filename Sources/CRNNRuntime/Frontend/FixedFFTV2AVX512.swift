// FFTRadix4StageAVX512: the radix-4 stage of FixedRealFFTV2 on 512-bit registers, eight butterflies (j ..< j + 8)
// per pass, for x86-64 CPUs with AVX-512 F/BW (a build for such a CPU: -D CRNN_FFT_AVX512 with -D CRNN_FFT_AVX2,
// which tools/native-flags.sh adds on a CPU that reports avx512bw).
//
// It is the SSE2 kernel's arithmetic (FixedFFTV2SSE2.swift, whose comment proves it exact) on four 128-bit parts at
// once, as FFTRadix4StageAVX2 does on two: every instruction used (`vpmaddwd`, `vpackssdw`, `vpunpck*`, shifts,
// adds and logic) works lane by lane or within each 128-bit part, so each part computes exactly what the SSE2
// kernel computes for the pair of butterflies it holds. The twiddles are the SSE2 kernel's packed table, read as
// four consecutive pair blocks (96 bytes apart). The stage L = 16 (four butterflies per block) takes two blocks per
// pass with its twiddles loaded once (`stage16`); L = 8 runs the AVX2 kernel; the split + power is the AVX2 kernel's. Same bits (test testStageKernelsAgreeBitForBit, built
// with tools/native-flags.sh).

#if CRNN_FFT_AVX512 && CRNN_FFT_AVX2 && arch(x86_64)
import _Builtin_intrinsics.intel

enum FFTRadix4StageAVX512: FFTRadix4StageKernel {
    static var readsPackedTwiddles: Bool { true }
    static var name: StaticString { "avx512" }
    static var vectorSplit: Bool { true }
    @inline(__always)
    static func splitPowerFour(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                               _ pos: UnsafePointer<UInt16>, k: Int) -> SIMD4<UInt64> {
        FFTRadix4StageAVX2.splitPowerFour(fft, z, tw, pos, k: k)
    }

    @inline(__always) static func load(_ p: UnsafeRawPointer) -> __m512i { p.loadUnaligned(as: __m512i.self) }
    @inline(__always) static func store(_ p: UnsafeMutableRawPointer, _ v: __m512i) { p.storeBytes(of: v, as: __m512i.self) }
    @inline(__always) static func magnitude(_ v: __m512i) -> __m512i { _mm512_xor_si512(v, _mm512_srai_epi32(v, 31)) }
    /// Twiddle vector k of this r for the eight butterflies: the SSE2 layout's vector k of pair block `w` and of
    /// the next three pair blocks (96 bytes apart), lowest part first.
    @inline(__always) static func twiddles(_ w: UnsafeRawPointer, _ k: Int) -> __m512i {
        let p0 = w.loadUnaligned(fromByteOffset: k, as: __m128i.self)
        let p1 = w.loadUnaligned(fromByteOffset: 96 &+ k, as: __m128i.self)
        let p2 = w.loadUnaligned(fromByteOffset: 192 &+ k, as: __m128i.self)
        let p3 = w.loadUnaligned(fromByteOffset: 288 &+ k, as: __m128i.self)
        // (`_mm512_inserti64x4` takes an immediate, a C macro Swift does not import: the halves joined as SIMD16.)
        let lo = unsafeBitCast(_mm256_set_m128i(p1, p0), to: SIMD8<Int32>.self)
        let hi = unsafeBitCast(_mm256_set_m128i(p3, p2), to: SIMD8<Int32>.self)
        return unsafeBitCast(SIMD16<Int32>(lowHalf: lo, highHalf: hi), to: __m512i.self)
    }

    /// The SSE2 kernel's `twiddle` on all four parts: (t c + u s, u c - t s) rounded right by 30 + s.
    @inline(__always)
    static func twiddle(_ t: __m512i, _ w: UnsafeRawPointer, _ r: __m512i, _ cnt: __m128i) -> __m512i {
        twiddle(t, twiddles(w, 0), twiddles(w, 16), r, cnt)
    }

    /// `twiddle` with the hi and lo twiddle vectors given.
    @inline(__always)
    static func twiddle(_ t: __m512i, _ wh: __m512i, _ wl: __m512i, _ r: __m512i, _ cnt: __m128i) -> __m512i {
        let m = _mm512_set1_epi32(0x7fff)
        let halves = _mm512_packs_epi32(_mm512_srai_epi32(t, 15), _mm512_and_si512(t, m))
        let hi = _mm512_unpacklo_epi32(halves, halves), lo = _mm512_unpackhi_epi32(halves, halves)
        let hh = _mm512_madd_epi16(hi, wh), m1 = _mm512_madd_epi16(hi, wl)
        let m2 = _mm512_madd_epi16(lo, wh), ll = _mm512_madd_epi16(lo, wl)
        let ar = _mm512_add_epi32(_mm512_srai_epi32(ll, 15), r)
        let low = _mm512_add_epi32(_mm512_add_epi32(_mm512_and_si512(m1, m), m2), ar)  // < 2^31 (SSE2 file comment)
        let v = _mm512_add_epi32(_mm512_add_epi32(hh, _mm512_srai_epi32(m1, 15)), _mm512_srai_epi32(low, 15))
        return _mm512_sra_epi32(v, cnt)
    }

    static func stage(_ z: UnsafeMutablePointer<Int32>, half: Int, length l: Int, twiddles tw: UnsafePointer<Int32>,
                      packed: UnsafePointer<Int16>, shift s: Int32) -> UInt32 {
        let q = l / 4
        if q == 4 && half % 32 == 0 { return stage16(z, half: half, packed: packed, shift: s) }
        if q < 8 { return FFTRadix4StageAVX2.stage(z, half: half, length: l, twiddles: tw, packed: packed, shift: s) }
        let cnt = _mm_cvtsi32_si128(s)
        let rnd32 = _mm512_set1_epi32(s == 0 ? 0 : Int32(1) << (s &- 1))
        let rnd = _mm512_set1_epi32(Int32(1) << (14 &+ s))
        let oddNeg = _mm512_set_epi32(-1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0)  // the imaginary lanes
        var acc = _mm512_setzero_si512()
        let rowBytes = 8 &* q
        var g = 0
        while g < half {
            var j = 0
            var w = UnsafeRawPointer(packed)
            while j < q {
                let p0 = UnsafeMutableRawPointer(z + 2 &* (g &+ j))
                let x0 = load(p0), x1 = load(p0 + rowBytes), x2 = load(p0 + 2 &* rowBytes), x3 = load(p0 + 3 &* rowBytes)
                let s02 = _mm512_add_epi32(x0, x2), d02 = _mm512_sub_epi32(x0, x2)
                let s13 = _mm512_add_epi32(x1, x3), d13 = _mm512_sub_epi32(x1, x3)
                let y0 = _mm512_sra_epi32(_mm512_add_epi32(_mm512_add_epi32(s02, s13), rnd32), cnt)
                let t2 = _mm512_sub_epi32(s02, s13)
                let sw = _mm512_or_si512(_mm512_slli_epi64(d13, 32), _mm512_srli_epi64(d13, 32))  // im, re
                let u = _mm512_sub_epi32(_mm512_xor_si512(sw, oddNeg), oddNeg)  // -i d13
                let t1 = _mm512_add_epi32(d02, u), t3 = _mm512_sub_epi32(d02, u)
                let y1 = twiddle(t1, w, rnd, cnt), y2 = twiddle(t2, w + 32, rnd, cnt), y3 = twiddle(t3, w + 64, rnd, cnt)
                store(p0, y0); store(p0 + rowBytes, y1); store(p0 + 2 &* rowBytes, y2); store(p0 + 3 &* rowBytes, y3)
                acc = _mm512_or_si512(acc, _mm512_or_si512(_mm512_or_si512(magnitude(y0), magnitude(y1)),
                                                           _mm512_or_si512(magnitude(y2), magnitude(y3))))
                w += 384
                j &+= 8
            }
            g &+= l
        }
        return orLanes(acc)
    }

    @inline(__always) static func orLanes(_ acc: __m512i) -> UInt32 {
        let lanes = unsafeBitCast(acc, to: SIMD16<Int32>.self)
        let a8 = lanes.lowHalf | lanes.highHalf, a4 = a8.lowHalf | a8.highHalf
        return UInt32(bitPattern: a4[0] | a4[1] | a4[2] | a4[3])
    }

    /// The stage L = 16 (four butterflies per block) two blocks per pass: the lower 256 bits hold block g's four
    /// butterflies, the upper ones block g + 16's. Both blocks have the same twiddles (j = 0..<4), so the six
    /// twiddle vectors (the AVX2 kernel's, repeated in both halves) are loaded once for the stage.
    static func stage16(_ z: UnsafeMutablePointer<Int32>, half: Int, packed: UnsafePointer<Int16>, shift s: Int32) -> UInt32 {
        let cnt = _mm_cvtsi32_si128(s)
        let rnd32 = _mm512_set1_epi32(s == 0 ? 0 : Int32(1) << (s &- 1))
        let rnd = _mm512_set1_epi32(Int32(1) << (14 &+ s))
        let oddNeg = _mm512_set_epi32(-1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0)
        let w = UnsafeRawPointer(packed)
        @inline(__always) func both(_ k: Int) -> __m512i {
            let h = unsafeBitCast(FFTRadix4StageAVX2.twiddles(w, k), to: SIMD8<Int32>.self)
            return unsafeBitCast(SIMD16<Int32>(lowHalf: h, highHalf: h), to: __m512i.self)
        }
        let w1h = both(0), w1l = both(16), w2h = both(32), w2l = both(48), w3h = both(64), w3l = both(80)
        // Row r of the pass: 4 complex values of block g (32 bytes at 32 r) and of block g + 16 (128 bytes on).
        @inline(__always) func row(_ p: UnsafeRawPointer, _ r: Int) -> __m512i {
            let lo = p.loadUnaligned(fromByteOffset: 32 &* r, as: SIMD8<Int32>.self)
            let hi = p.loadUnaligned(fromByteOffset: 128 &+ 32 &* r, as: SIMD8<Int32>.self)
            return unsafeBitCast(SIMD16<Int32>(lowHalf: lo, highHalf: hi), to: __m512i.self)
        }
        @inline(__always) func put(_ p: UnsafeMutableRawPointer, _ r: Int, _ v: __m512i) {
            let x = unsafeBitCast(v, to: SIMD16<Int32>.self)
            p.storeBytes(of: x.lowHalf, toByteOffset: 32 &* r, as: SIMD8<Int32>.self)
            p.storeBytes(of: x.highHalf, toByteOffset: 128 &+ 32 &* r, as: SIMD8<Int32>.self)
        }
        var acc = _mm512_setzero_si512()
        var g = 0
        while g < half {
            let p0 = UnsafeMutableRawPointer(z + 2 &* g)
            let x0 = row(p0, 0), x1 = row(p0, 1), x2 = row(p0, 2), x3 = row(p0, 3)
            let s02 = _mm512_add_epi32(x0, x2), d02 = _mm512_sub_epi32(x0, x2)
            let s13 = _mm512_add_epi32(x1, x3), d13 = _mm512_sub_epi32(x1, x3)
            let y0 = _mm512_sra_epi32(_mm512_add_epi32(_mm512_add_epi32(s02, s13), rnd32), cnt)
            let t2 = _mm512_sub_epi32(s02, s13)
            let sw = _mm512_or_si512(_mm512_slli_epi64(d13, 32), _mm512_srli_epi64(d13, 32))  // im, re
            let u = _mm512_sub_epi32(_mm512_xor_si512(sw, oddNeg), oddNeg)  // -i d13
            let t1 = _mm512_add_epi32(d02, u), t3 = _mm512_sub_epi32(d02, u)
            let y1 = twiddle(t1, w1h, w1l, rnd, cnt), y2 = twiddle(t2, w2h, w2l, rnd, cnt), y3 = twiddle(t3, w3h, w3l, rnd, cnt)
            put(p0, 0, y0); put(p0, 1, y1); put(p0, 2, y2); put(p0, 3, y3)
            acc = _mm512_or_si512(acc, _mm512_or_si512(_mm512_or_si512(magnitude(y0), magnitude(y1)),
                                                       _mm512_or_si512(magnitude(y2), magnitude(y3))))
            g &+= 32
        }
        return orLanes(acc)
    }
}
#endif
