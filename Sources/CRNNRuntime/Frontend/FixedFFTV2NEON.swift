// FFTRadix4StageNEON: the radix-4 stage of FixedRealFFTV2 for aarch64 (NEON is in every aarch64 CPU: Pi 3/4/5),
// two butterflies (j, j + 1) per pass: one 128-bit register holds two complex Int32 values (re, im, re, im). It
// reads the Int32 table `twiddles` (not the SSE2 kernel's Int16 halves, which are then not built).
//
// Loop order: j outer (pairs of butterflies), block g inner, so that each pair's twiddle vectors are made once per
// stage: w = (c_j, s_j, c_j+1, s_j+1) and v = (-s_j, c_j, -s_j+1, c_j+1) for r = 1, 2, 3.
//
// Exactness (the same bits as FFTRadix4StagePortable's Int64 arithmetic):
// - Butterfly sums: the same wrapping Int32 sums, lane by lane (-i d13 = (d13_im, -d13_re) by `rev64`, `neg`,
//   `trn1`).
// - y0 = (s02 + s13 + 2^(s-1)) >> s (no rounding term for s = 0): `srshl` by -s (`vrshlq_s32`) adds 2^(s-1) and
//   shifts with unbounded intermediate precision, so it equals the portable Int32 expression whenever
//   s02 + s13 + 2^(s-1) does not overflow Int32: for stage inputs |x| <= 2^28 the sum is at most 2^30 in magnitude,
//   and s <= 7 (s = significantBits - 25 of a 32-bit OR).
// - Twiddle products: `smull` / `smull2` (`vmull_s32`, `vmull_high_s32`) give t c, u s, -t s, u c exactly as Int64
//   lanes; `addp` (`vpaddq_s64`) adds each pair: (t c + u s, u c - t s), exact since |t|, |u| < 2^31 and the
//   clamped twiddles |c|, |s| <= 2^30 - 1 keep each sum below 2^62 (any Int32 data, not only the contract's).
//   `srshl` by -(30 + s) (`vrshlq_s64`) is (P + 2^(29+s)) >> (30 + s) with unbounded intermediate precision, equal
//   to the portable Int64 expression since P + 2^(29+s) < 2^63. `uzp1` keeps the low 32 bits of each lane: the
//   portable `Int32(truncatingIfNeeded:)`.
// - The bound: the OR of x ^ (x >> 31) over the outputs, lane by lane, then across lanes: the portable OR of
//   `magnitudeBits` (OR is associative and commutative).

#if arch(arm64)
import _Builtin_intrinsics.arm.neon

enum FFTRadix4StageNEON: FFTRadix4StageKernel {
    static var readsPackedTwiddles: Bool { false }
    @inline(__always) static func load(_ p: UnsafeRawPointer) -> int32x4_t { p.loadUnaligned(as: int32x4_t.self) }
    @inline(__always) static func store(_ p: UnsafeMutableRawPointer, _ v: int32x4_t) { p.storeBytes(of: v, as: int32x4_t.self) }
    @inline(__always) static func magnitude(_ v: int32x4_t) -> int32x4_t { veorq_s32(v, v &>> 31) }

    /// (c_j, s_j, c_j+1, s_j+1) of one r from the Int32 table (`w` at butterfly j's six values, `o` = 2 (r - 1)).
    @inline(__always) static func pair(_ w: UnsafePointer<Int32>, _ o: Int) -> int32x4_t {
        vcombine_s32(UnsafeRawPointer(w + o).loadUnaligned(as: int32x2_t.self),
                     UnsafeRawPointer(w + (6 &+ o)).loadUnaligned(as: int32x2_t.self))
    }

    /// (-s_j, c_j, -s_j+1, c_j+1) from (c_j, s_j, c_j+1, s_j+1).
    @inline(__always) static func perpendicular(_ w: int32x4_t) -> int32x4_t { vtrn2q_s32(vnegq_s32(w), vrev64q_s32(w)) }

    /// (t c + u s, u c - t s) for the two complex values (t, u) of `x` (re, im, re, im), rounded right by 30 + s
    /// (`sh` = -(30 + s) in both lanes).
    @inline(__always)
    static func twiddle(_ x: int32x4_t, _ w: int32x4_t, _ v: int32x4_t, _ sh: int64x2_t) -> int32x4_t {
        let lo = vget_low_s32(x)
        let p0 = vpaddq_s64(vmull_s32(lo, vget_low_s32(w)), vmull_s32(lo, vget_low_s32(v)))  // re0, im0
        let p1 = vpaddq_s64(vmull_high_s32(x, w), vmull_high_s32(x, v))                     // re1, im1
        return vuzp1q_s32(vreinterpretq_s32_s64(vrshlq_s64(p0, sh)), vreinterpretq_s32_s64(vrshlq_s64(p1, sh)))
    }

    static func stage(_ z: UnsafeMutablePointer<Int32>, half: Int, length l: Int, twiddles: UnsafePointer<Int32>,
                      packed: UnsafePointer<Int16>, shift s: Int32) -> UInt32 {
        let q = l / 4
        let sh32 = vdupq_n_s32(0 &- s)
        let sh64 = vdupq_n_s64(Int64(0 &- 30 &- s))
        var acc = vdupq_n_s32(0)
        let rowBytes = 8 &* q, blockBytes = 8 &* l
        let end = UnsafeMutableRawPointer(z + 2 &* half)
        var j = 0
        while j < q {
            let tw = twiddles + 6 &* j
            let w1 = pair(tw, 0), w2 = pair(tw, 2), w3 = pair(tw, 4)
            let v1 = perpendicular(w1), v2 = perpendicular(w2), v3 = perpendicular(w3)
            var p0 = UnsafeMutableRawPointer(z + 2 &* j)
            while p0 < end {
                let x0 = load(p0), x1 = load(p0 + rowBytes), x2 = load(p0 + 2 &* rowBytes), x3 = load(p0 + 3 &* rowBytes)
                let s02 = vaddq_s32(x0, x2), d02 = vsubq_s32(x0, x2)
                let s13 = vaddq_s32(x1, x3), d13 = vsubq_s32(x1, x3)
                let y0 = vrshlq_s32(vaddq_s32(s02, s13), sh32)
                let t2 = vsubq_s32(s02, s13)
                let u = vtrn1q_s32(vrev64q_s32(d13), vnegq_s32(d13))  // -i d13 = (d13_im, -d13_re)
                let t1 = vaddq_s32(d02, u), t3 = vsubq_s32(d02, u)
                let y1 = twiddle(t1, w1, v1, sh64)
                let y2 = twiddle(t2, w2, v2, sh64)
                let y3 = twiddle(t3, w3, v3, sh64)
                store(p0, y0); store(p0 + rowBytes, y1); store(p0 + 2 &* rowBytes, y2); store(p0 + 3 &* rowBytes, y3)
                acc = vorrq_s32(acc, vorrq_s32(vorrq_s32(magnitude(y0), magnitude(y1)),
                                               vorrq_s32(magnitude(y2), magnitude(y3))))
                p0 += blockBytes
            }
            j &+= 2
        }
        return UInt32(bitPattern: acc[0] | acc[1] | acc[2] | acc[3])
    }
}
#endif
