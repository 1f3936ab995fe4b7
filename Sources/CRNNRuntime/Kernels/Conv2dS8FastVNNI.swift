// Conv2dMicroKernelVNNI: the fast convolution's micro-kernel for x86-64 CPUs with AVX-VNNI (Alder Lake and later,
// Sapphire Rapids, Zen 5), built on `vpdpbusd` (`_mm256_dpbusd_avx_epi32`: 32 unsigned x signed byte products
// summed in groups of 4 into 8 Int32 lanes, one instruction), the structure of XNNPACK's qs8 `avxvnni` kernels and of
// the dot-product micro-kernel (Conv2dS8FastDotProd.swift), whose packing it shares:
//     packed[ky][g][co][t] = w[co, ky, tap 4g + t]   (t = 0..3; 0 where 4g + t >= kw * Cin), int8
// `vpdpbusd` wants one unsigned operand, so the band holds the int8 input flipped to x + 128 (xor 0x80, done once
// when the driver fills it: `bandFlip`) and the kernel subtracts 128 * sum_taps w[co] per channel, a constant packed
// after the weights (the driver's default `packChannelConstants` for a flipped band). 16 channels (two 8-lane registers) x 4 pixels per pass.
//
// Exactness: each group of 4 products is at most 4 * 255 * 128 < 2^17 and the non-saturating `vpdpbusd` adds it
// with a wrapping Int32 add; sum (x + 128) w - 128 sum w = sum x w as integers, so the wrapping Int32 sums are the
// reference's (file comment of Conv2dS8Fast.swift, point 1). Needs AVX-VNNI, not in the x86-64 baseline: compiled
// only with -D CRNN_CONV_VNNI (and -D CRNN_CONV_AVX2, whose accumulator and pool step it uses) and a target CPU that has it;
// tools/native-flags.sh adds both on a CPU that reports `avx_vnni`.

#if CRNN_CONV_VNNI && CRNN_CONV_AVX2 && arch(x86_64)
import _Builtin_intrinsics.intel

enum Conv2dMicroKernelVNNI: Conv2dMicroKernel {
    typealias Epilogue = Conv2dEpilogueSSE2

    static var bandElementBytes: Int { 1 }
    static var bandSlackBytes: Int { 16 }
    static var tapGroup: Int { 4 }
    static var name: StaticString { "vnni" }

    @inline(__always) static func load(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    /// The band holds x + 128 (x ^ 0x80, made when the driver fills it): `vpdpbusd`'s unsigned operand as is.
    static var bandFlip: Bool { true }
    /// The 4 (flipped) band bytes at `p`, repeated in the 8 lanes (`vpbroadcastd`).
    @inline(__always) static func quad(_ p: UnsafeRawPointer) -> __m256i { _mm256_set1_epi32(p.loadUnaligned(as: Int32.self)) }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        // The AVX2 kernel's passes; the start subtracts 128 * sum w of channels cb ..< cb + 16 (after the weights).
        let start = Conv2dMicroKernelAVX2.Acc(bias, minus: channelConstants(g, packed: packed, cb: cb))
        Conv2dMicroKernelAVX2.rowPasses(g, band: band, taps: tapLoop(g, packed: packed, cb: cb), pixelBytes: g.channels,
                                        start: start, best: best, column: column) { a, w0, w1, r in a.dot(w0, w1, quad(r)) }
    }
}

extension Conv2dMicroKernelAVX2.Acc {
    /// bias - 128 sum w, channel by channel (the VNNI kernel's start).
    @inline(__always) init(_ bias: UnsafePointer<Int32>, minus corr: UnsafeRawPointer) {
        self.init(bias)
        c0 = _mm256_sub_epi32(c0, corr.loadUnaligned(as: __m256i.self))
        c1 = _mm256_sub_epi32(c1, corr.loadUnaligned(fromByteOffset: 32, as: __m256i.self))
    }

    /// acc += the quad sums of the unsigned band bytes `v` times (w0, w1) (`vpdpbusd`, wrapping).
    @inline(__always) mutating func dot(_ w0: __m256i, _ w1: __m256i, _ v: __m256i) {
        c0 = _mm256_dpbusd_avx_epi32(c0, v, w0); c1 = _mm256_dpbusd_avx_epi32(c1, v, w1)
    }
}
#endif
