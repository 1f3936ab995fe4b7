// Conv2dMicroKernelDotProd: the fast convolution's micro-kernel for aarch64 CPUs with the dot product extension
// (Armv8.2 `dotprod`: Cortex-A76 / Pi 5, A55, Neoverse; not the Pi 4's A72), built on `sdot` (`vdotq_s32`:
// 16 int8 products summed in groups of 4 into 4 Int32 lanes), the structure of XNNPACK's qs8 `neondot` kernels.
//
// Layout: the band is the raw int8 input (no widening). Within one kernel row (ky) the kw * Cin taps of a pixel are
// contiguous in the band; they are taken four at a time (one 32-bit load, duplicated to the 4 lanes), and the
// weights are packed to match, as int8:
//     packed[ky][g][co][t] = w[co, ky, tap 4g + t]   (t = 0..3; 0 where 4g + t >= kw * Cin)
// so one `sdot` gives 4 output channels x 4 taps. 16 channels x 4 pixels per pass (16 accumulators, 4 weight
// registers). A last group with fewer than 4 taps reads up to 3 band bytes after the pixel's window (inside the
// band, or its 16 bytes of zeroed slack) against zero weights.
//
// Needs the dot product extension, which is not in the aarch64 baseline: compiled only with -D CRNN_CONV_DOTPROD and
// a target CPU that has it (`-target-cpu cortex-a76` and `-Xcc -march=armv8.2-a+dotprod`; without the feature the
// intrinsic crashes the compiler instead of a diagnostic). tools/native-flags.sh adds it on a CPU that reports
// `asimddp`; tools/conv_variants_qemu.sh runs it under QEMU (-cpu max).
//
// Exactness: int8 x int8 products (at most 2^14 in magnitude) summed into Int32 lanes with wrapping adds: the same
// Int32 sums as the reference (file comment of Conv2dS8Fast.swift, point 1).

#if CRNN_CONV_DOTPROD && arch(arm64)
import _Builtin_intrinsics.arm.neon

enum Conv2dMicroKernelDotProd: Conv2dMicroKernel {
    static var bandElementBytes: Int { 1 }
    static var bandSlackBytes: Int { 16 }

    @inline(__always) static func groups(_ rowTaps: Int) -> Int { (rowTaps &+ 3) >> 2 }

    static var tapGroup: Int { 4 }
    static var name: StaticString { "dotprod" }

    @inline(__always) static func load16(_ p: UnsafeRawPointer) -> int8x16_t { p.loadUnaligned(as: int8x16_t.self) }
    /// The 4 band bytes at `p`, repeated in the 4 lanes.
    @inline(__always) static func quad(_ p: UnsafeRawPointer) -> int8x16_t {
        unsafeBitCast(vdupq_n_s32(p.loadUnaligned(as: Int32.self)), to: int8x16_t.self)
    }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let W = g.width, C = g.channels, K = g.outputChannels, kh = g.kernelHeight
        let G = groups(g.kernelWidth &* C)
        let rowBytes = g.bandRowStride, pixelBytes = C
        let groupStride = K &* 4  // bytes from one tap group's weights to the next
        let wBase = packed + cb &* 4
        let braw = UnsafeRawPointer(bias)
        let b0 = braw.loadUnaligned(as: int32x4_t.self), b1 = braw.loadUnaligned(fromByteOffset: 16, as: int32x4_t.self)
        let b2 = braw.loadUnaligned(fromByteOffset: 32, as: int32x4_t.self)
        let b3 = braw.loadUnaligned(fromByteOffset: 48, as: int32x4_t.self)
        var x = 0
        while x &+ 4 <= W {
            var p00 = b0, p01 = b1, p02 = b2, p03 = b3
            var p10 = b0, p11 = b1, p12 = b2, p13 = b3
            var p20 = b0, p21 = b1, p22 = b2, p23 = b3
            var p30 = b0, p31 = b1, p32 = b2, p33 = b3
            for ky in 0..<kh {
                let r0 = band + (ky &* rowBytes &+ x &* pixelBytes)
                var wp = wBase + ky &* G &* groupStride
                var j = 0
                while j < G {
                    let w0 = load16(wp), w1 = load16(wp + 16), w2 = load16(wp + 32), w3 = load16(wp + 48)
                    let v0 = quad(r0 + j &* 4), v1 = quad(r0 + (pixelBytes &+ j &* 4))
                    let v2 = quad(r0 + (2 &* pixelBytes &+ j &* 4)), v3 = quad(r0 + (3 &* pixelBytes &+ j &* 4))
                    p00 = vdotq_s32(p00, w0, v0); p01 = vdotq_s32(p01, w1, v0)
                    p02 = vdotq_s32(p02, w2, v0); p03 = vdotq_s32(p03, w3, v0)
                    p10 = vdotq_s32(p10, w0, v1); p11 = vdotq_s32(p11, w1, v1)
                    p12 = vdotq_s32(p12, w2, v1); p13 = vdotq_s32(p13, w3, v1)
                    p20 = vdotq_s32(p20, w0, v2); p21 = vdotq_s32(p21, w1, v2)
                    p22 = vdotq_s32(p22, w2, v2); p23 = vdotq_s32(p23, w3, v2)
                    p30 = vdotq_s32(p30, w0, v3); p31 = vdotq_s32(p31, w1, v3)
                    p32 = vdotq_s32(p32, w2, v3); p33 = vdotq_s32(p33, w3, v3)
                    wp += groupStride
                    j &+= 1
                }
            }
            Conv2dMicroKernelNEON.poolMax4x4(best + Int(column[x]), p00, p01, p02, p03)
            Conv2dMicroKernelNEON.poolMax4x4(best + Int(column[x &+ 1]), p10, p11, p12, p13)
            Conv2dMicroKernelNEON.poolMax4x4(best + Int(column[x &+ 2]), p20, p21, p22, p23)
            Conv2dMicroKernelNEON.poolMax4x4(best + Int(column[x &+ 3]), p30, p31, p32, p33)
            x &+= 4
        }
        while x < W {
            var p00 = b0, p01 = b1, p02 = b2, p03 = b3
            for ky in 0..<kh {
                let r0 = band + (ky &* rowBytes &+ x &* pixelBytes)
                var wp = wBase + ky &* G &* groupStride
                var j = 0
                while j < G {
                    let v0 = quad(r0 + j &* 4)
                    p00 = vdotq_s32(p00, load16(wp), v0); p01 = vdotq_s32(p01, load16(wp + 16), v0)
                    p02 = vdotq_s32(p02, load16(wp + 32), v0); p03 = vdotq_s32(p03, load16(wp + 48), v0)
                    wp += groupStride
                    j &+= 1
                }
            }
            Conv2dMicroKernelNEON.poolMax4x4(best + Int(column[x]), p00, p01, p02, p03)
            x &+= 1
        }
    }
}
#endif
