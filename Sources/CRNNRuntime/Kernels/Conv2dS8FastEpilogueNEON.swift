// Conv2dEpilogueNEON: the fast convolution's requantization epilogue on aarch64 (NEON, every aarch64 CPU), used by
// the NEON and dot-product micro-kernels. NEON has every step of the reference (`requantizeS8`) as one instruction
// on two or four lanes, so it is exact for every accumulator, multiplier and shift in -31...30:
//
//   acc * m                 `smull` / `smull2` (`vmull_s32`, `vmull_high_s32`): the exact Int64 products
//   round right by n        `srshl` by -n (`vrshlq_s64`): (P + 2^(n-1)) >> n, computed without overflow
//                           (the architecture's pseudocode adds the rounding constant at full precision)
//   saturate to Int32       `sqxtn` (`vqmovn_s64`)
//   z_out + v (wrapping)    `add` (`vaddq_s32`), as the reference's &+
//   clamp to lo...hi        `smax`, `smin`
//   narrow to int8          `sqxtn` twice (exact: the values are already in lo...hi)
//
// Tested bit for bit against the scalar reference under QEMU (tools/conv_variants_qemu.sh: the conv battery runs
// each aarch64 micro-kernel with its epilogue against conv2dS8) and by firmware-sim's aarch64 builds.

#if arch(arm64)
import _Builtin_intrinsics.arm.neon

enum Conv2dEpilogueNEON: Conv2dRequantEpilogue {
    /// Per channel: the multiplier (Int32) and the negated total shift -(31 - shift) (Int64, `srshl`'s operand),
    /// as two arrays: 4 K bytes of multipliers, then 8 K bytes of shifts.
    static func preparedBytes(channels: Int) -> Int { 12 &* channels }

    static func prepare(requant: ChannelRequant, channels: Int, accumulatorBounds: UnsafeBufferPointer<Int64>,
                        into: UnsafeMutableRawPointer) -> Bool {
        let m = into.bindMemory(to: Int32.self, capacity: channels)
        let shifts = (into + 4 &* channels).bindMemory(to: Int64.self, capacity: channels)
        var exact = true
        for c in 0..<channels {
            m[c] = requant.multipliers[c]
            shifts[c] = Int64(requant.shifts[c]) &- 31
            if requant.shifts[c] < -31 || requant.shifts[c] > 30 { exact = false }
        }
        return exact
    }

    @inline(__always) static func load32(_ p: UnsafeRawPointer, _ i: Int) -> int32x4_t {
        p.loadUnaligned(fromByteOffset: 4 &* i, as: int32x4_t.self)
    }
    @inline(__always) static func load64(_ p: UnsafeRawPointer, _ i: Int) -> int64x2_t {
        p.loadUnaligned(fromByteOffset: 8 &* i, as: int64x2_t.self)
    }

    static func run(_ best: UnsafePointer<Int32>, count: Int, channels: Int, constants: UnsafeRawPointer,
                    zo: Int32, lo: Int32, hi: Int32, out: UnsafeMutablePointer<Int8>) {
        let mults = constants, shifts = constants + 4 &* channels
        let z = vdupq_n_s32(zo), low = vdupq_n_s32(lo), high = vdupq_n_s32(hi)
        let acc = UnsafeRawPointer(best)
        // Four channels (c ..< c + 4) of output i ..< i + 4: the reference's steps lane by lane, as Int32 lanes.
        @inline(__always) func four(_ i: Int, _ c: Int) -> int32x4_t {
            let a = load32(acc, i), m = load32(mults, c)
            let p0 = vrshlq_s64(vmull_s32(vget_low_s32(a), vget_low_s32(m)), load64(shifts, c))
            let p1 = vrshlq_s64(vmull_high_s32(a, m), load64(shifts, c &+ 2))
            let v = vaddq_s32(vcombine_s32(vqmovn_s64(p0), vqmovn_s64(p1)), z)
            return vminq_s32(vmaxq_s32(v, low), high)
        }
        var i = 0, c = 0
        while i < count {
            let a = vcombine_s16(vqmovn_s32(four(i, c)), vqmovn_s32(four(i &+ 4, c &+ 4)))
            let b = vcombine_s16(vqmovn_s32(four(i &+ 8, c &+ 8)), vqmovn_s32(four(i &+ 12, c &+ 12)))
            UnsafeMutableRawPointer(out + i).storeBytes(of: vcombine_s8(vqmovn_s16(a), vqmovn_s16(b)), as: int8x16_t.self)
            i &+= 16
            c &+= 16
            if c == channels { c = 0 }
        }
    }
}
#endif
