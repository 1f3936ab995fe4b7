// Conv2dMicroKernelNEONMull: the fast convolution's micro-kernel for aarch64 CPUs without the dot product (Pi 3,
// Pi 4's Cortex-A72), built on int8 x int8 -> int16 products: `smull` (`vmull_s8`: 8
// products per instruction), a second `smlal` into the same int16 lanes, then `sadalp` (`vpadalq_s16`:
// adjacent int16 pairs added into Int32 lanes), the scheme of gemmlowp/ruy's and XNNPACK's qs8 `neon-mull` kernels.
// Twice the products per multiply instruction of the `smlal` by-element kernel (Conv2dS8FastNEON.swift): llvm-mca
// puts both at one multiply per cycle on the Cortex-A72 model, so 8 instead of 4 MAC per cycle.
//
// Layout: the band is int8 (raw input); the weights are the dot-product kernel's tap quads,
//     packed[ky][g][co][t] = w[co, ky, tap 4g + t]   (t = 0..3; 0 where 4g + t >= kw * Cin), int8,
// so 16 bytes hold channels co ..< co + 4 of one quad. Each pixel's quad of band bytes is loaded twice into 8
// bytes (x0 x1 x2 x3 x0 x1 x2 x3, `ld1r`). For a pair of quads (g, g + 1) and 4 channels:
//     v = smull(w[g][co, co+1], x_g) + smlal(w[g+1][co, co+1], x_g+1)   (lanes: co t0..3, co+1 t0..3)
//     u = smull(w[g][co+2, co+3], x_g) + smlal(w[g+1][co+2, co+3], x_g+1)  (the weights' high halves)
// and `sadalp` folds v, u into two Int32 registers per 4 channels (two lanes per channel); a pixel's 16 channels
// are finished by one `addp` per register pair. A quad without a partner (the last of an odd count per kernel
// row, e.g. the one quad of a one-channel 3 x 3 layer) takes `smull` alone. Two pixels per pass, one 4-channel
// group of weights loaded at a time (16 accumulators, 2 weight and 4 band registers: no spills).
//
// Exactness: each int16 lane holds x w + x' w' with x, x' in -128...127 (band values, z_in included) and w, w' in
// -127...127: at most 2 * 128 * 127 = 32,512 in magnitude, so no int16 lane overflows; `sadalp` widens exactly and
// the Int32 sums wrap like the reference's (file comment of Conv2dS8Fast.swift, point 1). A weight of -128 could
// overflow (2 * 128 * 128 = 32,768), so `weightMin` is -127: the prepare step turns the fast path off for a layer
// with a -128 weight (the reference runs; symmetric quantizers, ours included, never make one).

#if arch(arm64)
import _Builtin_intrinsics.arm.neon

enum Conv2dMicroKernelNEONMull: Conv2dMicroKernel {
    typealias Epilogue = Conv2dEpilogueNEON

    static var bandElementBytes: Int { 1 }
    static var bandSlackBytes: Int { 16 }
    static var tapGroup: Int { 4 }
    static var weightMin: Int32 { -127 }
    static var name: StaticString { "neon-mull" }

    @inline(__always) static func load16(_ p: UnsafeRawPointer) -> int8x16_t { p.loadUnaligned(as: int8x16_t.self) }
    /// The 4 band bytes at `p`, twice (`ld1r` of 32 bits).
    @inline(__always) static func quad(_ p: UnsafeRawPointer) -> int8x8_t {
        vreinterpret_s8_s32(vdup_n_s32(p.loadUnaligned(as: Int32.self)))
    }

    /// Two lanes per channel: channels 4i, 4i + 1 in `a_i` (lanes 0-1, 2-3), 4i + 2, 4i + 3 in `b_i`.
    struct Acc {
        var a0: int32x4_t, b0: int32x4_t, a1: int32x4_t, b1: int32x4_t
        var a2: int32x4_t, b2: int32x4_t, a3: int32x4_t, b3: int32x4_t

        /// Bias of channel c in the first lane of its pair, 0 in the second.
        @inline(__always) init(_ bias: UnsafePointer<Int32>) {
            let raw = UnsafeRawPointer(bias), z = vdupq_n_s32(0)
            let c0 = raw.loadUnaligned(as: int32x4_t.self), c1 = raw.loadUnaligned(fromByteOffset: 16, as: int32x4_t.self)
            let c2 = raw.loadUnaligned(fromByteOffset: 32, as: int32x4_t.self)
            let c3 = raw.loadUnaligned(fromByteOffset: 48, as: int32x4_t.self)
            a0 = vzip1q_s32(c0, z); b0 = vzip2q_s32(c0, z); a1 = vzip1q_s32(c1, z); b1 = vzip2q_s32(c1, z)
            a2 = vzip1q_s32(c2, z); b2 = vzip2q_s32(c2, z); a3 = vzip1q_s32(c3, z); b3 = vzip2q_s32(c3, z)
        }

        /// best[0..<16] = max(best[...], the 16 sums) (`addp` of each pair, then the NEON pool step).
        @inline(__always) func poolMax(_ best: UnsafeMutablePointer<Int32>) {
            Conv2dAccNEON(vpaddq_s32(a0, b0), vpaddq_s32(a1, b1), vpaddq_s32(a2, b2), vpaddq_s32(a3, b3)).poolMax(best)
        }
    }

    /// (a, b) += the products of channels 4i ..< 4i + 4 of quad g (weights `p`, band quad `x`) and quad g + 1 (`q`, `y`).
    @inline(__always)
    static func pair(_ a: inout int32x4_t, _ b: inout int32x4_t, _ p: int8x16_t, _ x: int8x8_t, _ q: int8x16_t, _ y: int8x8_t) {
        a = vpadalq_s16(a, vmlal_s8(vmull_s8(vget_low_s8(p), x), vget_low_s8(q), y))
        b = vpadalq_s16(b, vmlal_s8(vmull_s8(vget_high_s8(p), x), vget_high_s8(q), y))
    }

    /// (a, b) += the products of channels 4i ..< 4i + 4 of one quad alone.
    @inline(__always) static func single(_ a: inout int32x4_t, _ b: inout int32x4_t, _ p: int8x16_t, _ x: int8x8_t) {
        a = vpadalq_s16(a, vmull_s8(vget_low_s8(p), x))
        b = vpadalq_s16(b, vmull_s8(vget_high_s8(p), x))
    }

    /// Two pixels (s0: band quads x0, y0; s1: x1, y1) over a pair of quads, weights at `wp` and `wq`, one 4-channel
    /// group at a time (two weight registers live, not eight).
    @inline(__always)
    static func pairs(_ s0: inout Acc, _ s1: inout Acc, _ wp: UnsafeRawPointer, _ wq: UnsafeRawPointer,
                      _ x0: int8x8_t, _ y0: int8x8_t, _ x1: int8x8_t, _ y1: int8x8_t) {
        var p = load16(wp), q = load16(wq)
        pair(&s0.a0, &s0.b0, p, x0, q, y0); pair(&s1.a0, &s1.b0, p, x1, q, y1)
        p = load16(wp + 16); q = load16(wq + 16)
        pair(&s0.a1, &s0.b1, p, x0, q, y0); pair(&s1.a1, &s1.b1, p, x1, q, y1)
        p = load16(wp + 32); q = load16(wq + 32)
        pair(&s0.a2, &s0.b2, p, x0, q, y0); pair(&s1.a2, &s1.b2, p, x1, q, y1)
        p = load16(wp + 48); q = load16(wq + 48)
        pair(&s0.a3, &s0.b3, p, x0, q, y0); pair(&s1.a3, &s1.b3, p, x1, q, y1)
    }

    /// One pixel over a pair of quads.
    @inline(__always)
    static func pairs(_ s0: inout Acc, _ wp: UnsafeRawPointer, _ wq: UnsafeRawPointer, _ x0: int8x8_t, _ y0: int8x8_t) {
        pair(&s0.a0, &s0.b0, load16(wp), x0, load16(wq), y0)
        pair(&s0.a1, &s0.b1, load16(wp + 16), x0, load16(wq + 16), y0)
        pair(&s0.a2, &s0.b2, load16(wp + 32), x0, load16(wq + 32), y0)
        pair(&s0.a3, &s0.b3, load16(wp + 48), x0, load16(wq + 48), y0)
    }

    /// One pixel over one quad.
    @inline(__always) static func singles(_ s0: inout Acc, _ wp: UnsafeRawPointer, _ x0: int8x8_t) {
        single(&s0.a0, &s0.b0, load16(wp), x0); single(&s0.a1, &s0.b1, load16(wp + 16), x0)
        single(&s0.a2, &s0.b2, load16(wp + 32), x0); single(&s0.a3, &s0.b3, load16(wp + 48), x0)
    }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let px = g.channels, next = g.outputChannels &* 4  // bytes from one quad's weights to the next quad's
        let taps = tapLoop(g, packed: packed, cb: cb), (two, rest) = taps.split(by: 2)
        let start = Acc(bias)
        var x = 0
        while x &+ 2 <= g.width {
            var s0 = start, s1 = start
            let r = band + x &* px
            two.run(r) { r0, wp in
                pairs(&s0, &s1, wp, wp + next, quad(r0), quad(r0 + 4), quad(r0 + px), quad(r0 + (px &+ 4)))
            }
            rest.run(r) { r0, wp in singles(&s0, wp, quad(r0)); singles(&s1, wp, quad(r0 + px)) }
            s0.poolMax(best + Int(column[x])); s1.poolMax(best + Int(column[x &+ 1]))
            x &+= 2
        }
        if x < g.width {
            var s0 = start
            let r = band + x &* px
            two.run(r) { r0, wp in pairs(&s0, wp, wp + next, quad(r0), quad(r0 + 4)) }
            rest.run(r) { r0, wp in singles(&s0, wp, quad(r0)) }
            s0.poolMax(best + Int(column[x]))
        }
    }
}

extension Conv2dAccNEON {
    /// The four registers as given.
    @inline(__always) init(_ c0: int32x4_t, _ c1: int32x4_t, _ c2: int32x4_t, _ c3: int32x4_t) {
        self.c0 = c0; self.c1 = c1; self.c2 = c2; self.c3 = c3
    }
}
#endif
