// FFTRadix4StageNEON: the radix-4 stage of FixedRealFFTV2 for aarch64 (NEON is in every aarch64 CPU: Pi 3/4/5),
// two butterflies (j, j + 1) per pass: one 128-bit register holds two complex Int32 values (re, im, re, im). It
// reads the Int32 table `twiddles` (not the SSE2 kernel's Int16 halves, which are then not built).
//
// Loop order: j outer (pairs of butterflies), block g inner, so that each pair's twiddle vectors are made once per
// stage, doubled: c2 = 2 (c_j, c_j, c_j+1, c_j+1) and s2 = 2 (s_j, -s_j, s_j+1, -s_j+1) for r = 1, 2, 3 (|2c|,
// |2s| <= 2^31 - 2: Int32).
//
// Exactness (the same bits as FFTRadix4StagePortable's Int64 arithmetic for stage inputs |x| <= 2^28, the
// kernels' contract; tools/conv_variants_qemu.sh checks it under QEMU, shifts 0...7):
// - Butterfly sums: the same wrapping Int32 sums, lane by lane (-i d13 = (d13_im, -d13_re) by `rev64`, `neg`,
//   `trn1`); their components are at most 2^30 in magnitude (t, u below).
// - y0 = (s02 + s13 + 2^(s-1)) >> s (no rounding term for s = 0): `srshl` by -s (`vrshlq_s32`) adds 2^(s-1) and
//   shifts with unbounded intermediate precision: the portable Int32 expression, which does not overflow
//   (|s02 + s13| <= 2^30, s <= 7 since s = significantBits - 25 of a 32-bit OR).
// - Twiddle products, P = t c + u s (re) and u c - t s (im) for (t, u) = a complex value of t1, t2 or t3:
//   `sqdmull` (`vqdmull_s32`: 2 a b, exact Int64) of (t, u) by c2 gives 4 t c, 4 u c; `sqdmlal` (`vqdmlal_s32`) of
//   (u, t) (`rev64`) by s2 adds 4 u s, -4 t s: 4P in each Int64 lane. |t|, |u| <= 2^30 and c^2 + s^2 <= 2^60
//   (1 + 2^-28) give |P| <= sqrt(t^2 + u^2) sqrt(c^2 + s^2) < 2^60.6 (Cauchy-Schwarz), so |4P| + 2^38 < 2^63:
//   nothing saturates or wraps. `addhn` (`vaddhn_s64`, `vaddhn_high_s64`) adds 2^(31+s) and keeps bits 32...63:
//   floor((4P + 2^(31+s)) / 2^32) = floor((P + 2^(29+s)) / 2^30), below 2^30.7 in magnitude: an Int32.
//   `sshl` by -s (`vshlq_s32`, arithmetic) divides by 2^s with floor again: floor(floor(a / 2^30) / 2^s) =
//   floor(a / 2^(30+s)) = the portable (P + 2^(29+s)) >> (30 + s), whose Int32 truncation is then the value itself.
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

    /// 2 (c_j, c_j, c_j+1, c_j+1) and 2 (s_j, -s_j, s_j+1, -s_j+1) from w = (c_j, s_j, c_j+1, s_j+1).
    @inline(__always) static func doubledCos(_ w: int32x4_t) -> int32x4_t { let c = vtrn1q_s32(w, w); return vaddq_s32(c, c) }
    @inline(__always) static func doubledSin(_ w: int32x4_t) -> int32x4_t {
        let s = vtrn2q_s32(w, vnegq_s32(w))
        return vaddq_s32(s, s)
    }

    /// (t c + u s, u c - t s) for the two complex values (t, u) of `x` (re, im, re, im), with c2 = 2 (c, c, c', c'),
    /// s2 = 2 (s, -s, s', -s'), rounded right by 30 + s (`r4` = 2^(31+s) in both lanes, `sh` = -s in all four).
    @inline(__always)
    static func twiddle(_ x: int32x4_t, _ c2: int32x4_t, _ s2: int32x4_t, _ r4: int64x2_t, _ sh: int32x4_t) -> int32x4_t {
        let sw = vrev64q_s32(x)  // (u, t, u', t')
        let p0 = vqdmlal_s32(vqdmull_s32(vget_low_s32(x), vget_low_s32(c2)), vget_low_s32(sw), vget_low_s32(s2))
        let p1 = vqdmlal_high_s32(vqdmull_high_s32(x, c2), sw, s2)  // 4 (re', im')
        return vshlq_s32(vaddhn_high_s64(vaddhn_s64(p0, r4), p1, r4), sh)
    }

    static func stage(_ z: UnsafeMutablePointer<Int32>, half: Int, length l: Int, twiddles: UnsafePointer<Int32>,
                      packed: UnsafePointer<Int16>, shift s: Int32) -> UInt32 {
        let q = l / 4
        let sh32 = vdupq_n_s32(0 &- s)
        let r4 = vdupq_n_s64(Int64(1) << (31 &+ Int64(s)))
        var acc = vdupq_n_s32(0)
        let rowBytes = 8 &* q, blockBytes = 8 &* l
        let end = UnsafeMutableRawPointer(z + 2 &* half)
        var j = 0
        while j < q {
            let tw = twiddles + 6 &* j
            let w1 = pair(tw, 0), w2 = pair(tw, 2), w3 = pair(tw, 4)
            let c1 = doubledCos(w1), c2 = doubledCos(w2), c3 = doubledCos(w3)
            let s1 = doubledSin(w1), s2 = doubledSin(w2), s3 = doubledSin(w3)
            var p0 = UnsafeMutableRawPointer(z + 2 &* j)
            while p0 < end {
                let x0 = load(p0), x1 = load(p0 + rowBytes), x2 = load(p0 + 2 &* rowBytes), x3 = load(p0 + 3 &* rowBytes)
                let s02 = vaddq_s32(x0, x2), d02 = vsubq_s32(x0, x2)
                let s13 = vaddq_s32(x1, x3), d13 = vsubq_s32(x1, x3)
                let y0 = vrshlq_s32(vaddq_s32(s02, s13), sh32)
                let t2 = vsubq_s32(s02, s13)
                let u = vtrn1q_s32(vrev64q_s32(d13), vnegq_s32(d13))  // -i d13 = (d13_im, -d13_re)
                let t1 = vaddq_s32(d02, u), t3 = vsubq_s32(d02, u)
                let y1 = twiddle(t1, c1, s1, r4, sh32)
                let y2 = twiddle(t2, c2, s2, r4, sh32)
                let y3 = twiddle(t3, c3, s3, r4, sh32)
                store(p0, y0); store(p0 + rowBytes, y1); store(p0 + 2 &* rowBytes, y2); store(p0 + 3 &* rowBytes, y3)
                acc = vorrq_s32(acc, vorrq_s32(vorrq_s32(magnitude(y0), magnitude(y1)),
                                               vorrq_s32(magnitude(y2), magnitude(y3))))
                p0 += blockBytes
            }
            j &+= 2
        }
        return UInt32(bitPattern: acc[0] | acc[1] | acc[2] | acc[3])
    }

    static var name: StaticString { "neon" }
}
#endif
