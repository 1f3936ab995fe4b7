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
    typealias Epilogue = Conv2dEpilogueNEON  // every step of the requantization in NEON (its file)

    static var bandElementBytes: Int { 1 }
    static var bandSlackBytes: Int { 16 }

    static var tapGroup: Int { 4 }
    static var name: StaticString { "dotprod" }

    @inline(__always) static func load16(_ p: UnsafeRawPointer) -> int8x16_t { p.loadUnaligned(as: int8x16_t.self) }
    /// The 4 band bytes at `p`, repeated in the 4 lanes.
    @inline(__always) static func quad(_ p: UnsafeRawPointer) -> int8x16_t {
        unsafeBitCast(vdupq_n_s32(p.loadUnaligned(as: Int32.self)), to: int8x16_t.self)
    }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let pixelBytes = g.channels, taps = tapLoop(g, packed: packed, cb: cb)
        conv2dRowPixels(width: g.width, bias: Conv2dAccNEON(bias), best: best, column: column, four: { p0, p1, p2, p3, x in
            taps.run(band + x &* pixelBytes) { r0, wp in
                let w = Weights(wp)
                p0.dot(w, quad(r0)); p1.dot(w, quad(r0 + pixelBytes))
                p2.dot(w, quad(r0 + 2 &* pixelBytes)); p3.dot(w, quad(r0 + 3 &* pixelBytes))
            }
        }, one: { p0, x in
            taps.run(band + x &* pixelBytes) { r0, wp in p0.dot(Weights(wp), quad(r0)) }
        })
    }

    /// One tap group's int8 weights of the 16 channels: 4 taps of channels 4i..4i+3 in `w[i]`.
    struct Weights {
        let w0: int8x16_t, w1: int8x16_t, w2: int8x16_t, w3: int8x16_t
        @inline(__always) init(_ p: UnsafeRawPointer) { w0 = load16(p); w1 = load16(p + 16); w2 = load16(p + 32); w3 = load16(p + 48) }
    }
}

extension Conv2dAccNEON {
    /// acc += the 4-tap dot products of `w` with the 4 band bytes `v` (`sdot`).
    @inline(__always) mutating func dot(_ w: Conv2dMicroKernelDotProd.Weights, _ v: int8x16_t) {
        c0 = vdotq_s32(c0, w.w0, v); c1 = vdotq_s32(c1, w.w1, v); c2 = vdotq_s32(c2, w.w2, v); c3 = vdotq_s32(c3, w.w3, v)
    }
}
#endif
