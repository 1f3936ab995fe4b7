// FFTRadix4StageAVX512: the radix-4 stage of FixedRealFFTV2 on 512-bit registers, eight butterflies (j ..< j + 8)
// per pass, for x86-64 CPUs with AVX-512 F/BW (a build for such a CPU: -D CRNN_FFT_AVX512 with -D CRNN_FFT_AVX2,
// which tools/native-flags.sh adds on a CPU that reports avx512bw).
//
// It is the SSE2 kernel's arithmetic (FixedFFTV2SSE2.swift, whose comment proves it exact) on four 128-bit parts at
// once, as FFTRadix4StageAVX2 does on two, by the pass the x86 kernels share (FixedFFTV2X86Pass.swift): every
// instruction it uses (`vpmaddwd`, `vpackssdw`, `vpunpck*`, shifts, adds and logic) works lane by lane or within
// each 128-bit part, so each part computes exactly what the SSE2 kernel computes for the pair of butterflies it
// holds. The twiddles are the SSE2 kernel's packed table, grouped (`fftV2GroupTwiddlePairs`): vector k of the eight
// butterflies is one 512-bit load. The stage L = 16 (four butterflies per block) takes two blocks per pass with its
// twiddles loaded once (`stage16`); L = 8 runs the AVX2 kernel; the split + power is the AVX2 kernel's (both paths).
// Same bits (tests testStageKernelsAgreeBitForBit and testSplitPowerPathsAgreeBitForBit, tools/conv_variants_qemu.sh's
// x86-64 battery, built with tools/native-flags.sh).

#if CRNN_FFT_AVX512 && CRNN_FFT_AVX2 && arch(x86_64)
import _Builtin_intrinsics.intel

enum FFTRadix4StageAVX512: FFTRadix4StageKernel, FFTStageLanes {
    static var readsPackedTwiddles: Bool { true }
    static var groupsTwiddlePairs: Bool { true }
    static var name: StaticString { "avx512" }
    static var vectorSplit: Bool { true }
    @inline(__always)
    static func splitPowerFour(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                               _ pos: UnsafePointer<UInt16>, k: Int) -> SIMD4<UInt64> {
        FFTRadix4StageAVX2.splitPowerFour(fft, z, tw, pos, k: k)
    }
    static var groupedSplit: Bool { true }
    @inline(__always)
    static func splitPowerGroupPair(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                                    _ pos: UnsafePointer<UInt16>, r: Int) -> SIMD4<UInt64> {
        FFTRadix4StageAVX2.splitPowerGroupPair(fft, z, tw, pos, r: r)
    }

    /// The 512-bit register of two 256-bit halves, `lo` the lower.
    @inline(__always) static func joined(_ lo: __m256i, _ hi: __m256i) -> __m512i {
        unsafeBitCast(SIMD16<Int32>(lowHalf: unsafeBitCast(lo, to: SIMD8<Int32>.self),
                                    highHalf: unsafeBitCast(hi, to: SIMD8<Int32>.self)), to: __m512i.self)
    }

    static func stage(_ z: UnsafeMutablePointer<Int32>, half: Int, length l: Int, twiddles tw: UnsafePointer<Int32>,
                      packed: UnsafePointer<Int16>, shift s: Int32) -> UInt32 {
        let q = l / 4
        if q == 4 && half % 32 == 0 { return stage16(z, half: half, packed: packed, shift: s) }
        if q < 8 { return FFTRadix4StageAVX2.stage(z, half: half, length: l, twiddles: tw, packed: packed, shift: s) }
        return orLanes(stagePasses(z, half: half, length: l, packed: packed, shift: s, perPass: 8))
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
        let rnd32 = splat(s == 0 ? 0 : Int32(1) << (s &- 1))
        let rnd = splat(Int32(1) << (14 &+ s))
        let w = UnsafeRawPointer(packed)
        let vectorBytes = 16 &* fftV2TwiddleGroupPairs(2)  // the stage's two pairs form one group
        @inline(__always) func both(_ k: Int) -> __m512i {  // vector k of the two pairs, in both halves
            let h = w.loadUnaligned(fromByteOffset: vectorBytes &* k, as: __m256i.self)
            return joined(h, h)
        }
        let tw = (both(0), both(1), both(2), both(3), both(4), both(5))
        // Row r of the pass: 4 complex values of block g (32 bytes at 32 r) and of block g + 16 (128 bytes on).
        @inline(__always) func row(_ p: UnsafeRawPointer, _ r: Int) -> __m512i {
            joined(p.loadUnaligned(fromByteOffset: 32 &* r, as: __m256i.self),
                   p.loadUnaligned(fromByteOffset: 128 &+ 32 &* r, as: __m256i.self))
        }
        @inline(__always) func put(_ p: UnsafeMutableRawPointer, _ r: Int, _ v: __m512i) {
            let x = unsafeBitCast(v, to: SIMD16<Int32>.self)
            p.storeBytes(of: x.lowHalf, toByteOffset: 32 &* r, as: SIMD8<Int32>.self)
            p.storeBytes(of: x.highHalf, toByteOffset: 128 &+ 32 &* r, as: SIMD8<Int32>.self)
        }
        var acc = splat(0)
        var g = 0
        while g < half {
            let p0 = UnsafeMutableRawPointer(z + 2 &* g)
            let y = butterflies(row(p0, 0), row(p0, 1), row(p0, 2), row(p0, 3), { k in
                switch k { case 0: tw.0; case 1: tw.1; case 2: tw.2; case 3: tw.3; case 4: tw.4; default: tw.5 }
            }, rnd32: rnd32, rnd: rnd, cnt: cnt)
            put(p0, 0, y.0); put(p0, 1, y.1); put(p0, 2, y.2); put(p0, 3, y.3)
            acc = or(acc, y.bound)
            g &+= 32
        }
        return orLanes(acc)
    }

    // FFTStageLanes on 512-bit registers (every operation within each 128-bit part, as the SSE2 one).
    @inline(__always) static func load(_ p: UnsafeRawPointer) -> __m512i { p.loadUnaligned(as: __m512i.self) }
    @inline(__always) static func store(_ p: UnsafeMutableRawPointer, _ v: __m512i) { p.storeBytes(of: v, as: __m512i.self) }
    @inline(__always) static func splat(_ x: Int32) -> __m512i { _mm512_set1_epi32(x) }
    @inline(__always) static func add(_ a: __m512i, _ b: __m512i) -> __m512i { _mm512_add_epi32(a, b) }
    @inline(__always) static func sub(_ a: __m512i, _ b: __m512i) -> __m512i { _mm512_sub_epi32(a, b) }
    @inline(__always) static func and(_ a: __m512i, _ b: __m512i) -> __m512i { _mm512_and_si512(a, b) }
    @inline(__always) static func or(_ a: __m512i, _ b: __m512i) -> __m512i { _mm512_or_si512(a, b) }
    @inline(__always) static func xor(_ a: __m512i, _ b: __m512i) -> __m512i { _mm512_xor_si512(a, b) }
    @inline(__always) static func srai(_ v: __m512i, _ n: Int32) -> __m512i { _mm512_srai_epi32(v, UInt32(n)) }
    @inline(__always) static func sra(_ v: __m512i, _ cnt: __m128i) -> __m512i { _mm512_sra_epi32(v, cnt) }
    @inline(__always) static func packs(_ a: __m512i, _ b: __m512i) -> __m512i { _mm512_packs_epi32(a, b) }
    @inline(__always) static func unpacklo32(_ a: __m512i, _ b: __m512i) -> __m512i { _mm512_unpacklo_epi32(a, b) }
    @inline(__always) static func unpackhi32(_ a: __m512i, _ b: __m512i) -> __m512i { _mm512_unpackhi_epi32(a, b) }
    @inline(__always) static func madd(_ a: __m512i, _ b: __m512i) -> __m512i { _mm512_madd_epi16(a, b) }
    @inline(__always) static func swapHalves(_ v: __m512i) -> __m512i {
        _mm512_or_si512(_mm512_slli_epi64(v, 32), _mm512_srli_epi64(v, 32))
    }
    @inline(__always) static var oddLanes: __m512i {
        _mm512_set_epi32(-1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0)
    }
}
#endif
