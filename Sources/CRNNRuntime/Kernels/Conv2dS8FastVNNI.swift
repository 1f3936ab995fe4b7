// Conv2dMicroKernelVNNI: the fast convolution's micro-kernel for x86-64 CPUs with AVX-VNNI (Alder Lake and later,
// Sapphire Rapids, Zen 5), built on `vpdpbusd` (`_mm256_dpbusd_avx_epi32`: 32 unsigned x signed byte products
// summed in groups of 4 into 8 Int32 lanes, one instruction), the structure of XNNPACK's qs8 `avxvnni` kernels and of
// the dot-product micro-kernel (Conv2dS8FastDotProd.swift), whose packing it shares:
//     packed[ky][g][co][t] = w[co, ky, tap 4g + t]   (t = 0..3; 0 where 4g + t >= kw * Cin), int8
// The band is the raw int8 input; `vpdpbusd` wants one unsigned operand, so each broadcast quad of band bytes is
// flipped to x + 128 (xor 0x80) and the kernel subtracts 128 * sum_taps w[co] per channel, a constant packed after
// the weights (`packedChannelBytes`). 16 channels (two 8-lane registers) x 4 pixels per pass.
//
// Exactness: each group of 4 products is at most 4 * 255 * 128 < 2^17 and the non-saturating `vpdpbusd` adds it
// with a wrapping Int32 add; sum (x + 128) w - 128 sum w = sum x w as integers, so the wrapping Int32 sums are the
// reference's (file comment of Conv2dS8Fast.swift, point 1). Needs AVX-VNNI, not in the x86-64 baseline: compiled
// only with -D CRNN_CONV_VNNI (and -D CRNN_CONV_AVX2, whose pool step it uses) and a target CPU that has it;
// tools/native-flags.sh adds both on a CPU that reports `avx_vnni`.

#if CRNN_CONV_VNNI && CRNN_CONV_AVX2 && arch(x86_64)
import _Builtin_intrinsics.intel

enum Conv2dMicroKernelVNNI: Conv2dMicroKernel {
    typealias Epilogue = Conv2dEpilogueSSE2

    static var bandElementBytes: Int { 1 }
    static var bandSlackBytes: Int { 16 }
    static var tapGroup: Int { 4 }
    static var packedChannelBytes: Int { 4 }

    /// 128 * sum of channel co's weights, Int32, per channel.
    static func packChannelConstants(_ p: Conv2dS8Params, weights: UnsafePointer<Int8>, into: UnsafeMutableRawPointer) {
        let taps = p.kernelHeight &* p.kernelWidth &* p.inputChannels
        let corr = into.bindMemory(to: Int32.self, capacity: p.outputChannels)
        for co in 0..<p.outputChannels { corr[co] = 128 &* conv2dFastWeightSums(weights + co &* taps, taps).sum }
    }

    @inline(__always) static func load(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    /// The 4 band bytes at `p` plus 128 (as unsigned bytes), repeated in the 8 lanes.
    @inline(__always) static func quad(_ p: UnsafeRawPointer) -> __m256i {
        _mm256_xor_si256(_mm256_set1_epi32(p.loadUnaligned(as: Int32.self)), _mm256_set1_epi32(Int32(bitPattern: 0x8080_8080)))
    }
    @inline(__always) static func dot(_ acc: __m256i, _ v: __m256i, _ w: __m256i) -> __m256i {
        _mm256_dpbusd_avx_epi32(acc, v, w)
    }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let W = g.width, C = g.channels, K = g.outputChannels, kh = g.kernelHeight
        let G = (g.kernelWidth &* C &+ 3) >> 2
        let rowBytes = g.bandRowStride, pixelBytes = C
        let groupStride = K &* 4  // bytes from one tap group's weights to the next
        let wBase = packed + cb &* 4
        let corr = packed + (kh &* G &* groupStride &+ cb &* 4)
        let b0 = _mm256_sub_epi32(load(bias), load(corr)), b1 = _mm256_sub_epi32(load(bias + 8), load(corr + 32))
        var x = 0
        while x &+ 4 <= W {
            var a0 = b0, a1 = b1, c0 = b0, c1 = b1, d0 = b0, d1 = b1, e0 = b0, e1 = b1
            for ky in 0..<kh {
                let r0 = band + (ky &* rowBytes &+ x &* pixelBytes)
                var wp = wBase + ky &* G &* groupStride
                var j = 0
                while j < G {
                    let w0 = load(wp), w1 = load(wp + 32)
                    let v0 = quad(r0 + j &* 4), v1 = quad(r0 + (pixelBytes &+ j &* 4))
                    let v2 = quad(r0 + (2 &* pixelBytes &+ j &* 4)), v3 = quad(r0 + (3 &* pixelBytes &+ j &* 4))
                    a0 = dot(a0, v0, w0); a1 = dot(a1, v0, w1)
                    c0 = dot(c0, v1, w0); c1 = dot(c1, v1, w1)
                    d0 = dot(d0, v2, w0); d1 = dot(d1, v2, w1)
                    e0 = dot(e0, v3, w0); e1 = dot(e1, v3, w1)
                    wp += groupStride
                    j &+= 1
                }
            }
            Conv2dMicroKernelAVX2.poolMax2x8(best + Int(column[x]), a0, a1)
            Conv2dMicroKernelAVX2.poolMax2x8(best + Int(column[x &+ 1]), c0, c1)
            Conv2dMicroKernelAVX2.poolMax2x8(best + Int(column[x &+ 2]), d0, d1)
            Conv2dMicroKernelAVX2.poolMax2x8(best + Int(column[x &+ 3]), e0, e1)
            x &+= 4
        }
        while x < W {
            var a0 = b0, a1 = b1
            for ky in 0..<kh {
                let r0 = band + (ky &* rowBytes &+ x &* pixelBytes)
                var wp = wBase + ky &* G &* groupStride
                var j = 0
                while j < G {
                    let v0 = quad(r0 + j &* 4)
                    a0 = dot(a0, v0, load(wp)); a1 = dot(a1, v0, load(wp + 32))
                    wp += groupStride
                    j &+= 1
                }
            }
            Conv2dMicroKernelAVX2.poolMax2x8(best + Int(column[x]), a0, a1)
            x &+= 1
        }
    }
}
#endif
