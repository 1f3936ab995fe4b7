// FFTRadix4StageNEON: the radix-4 stage of FixedRealFFTV2 for aarch64 (NEON is in every aarch64 CPU: Pi 3/4/5),
// two butterflies (j, j + 1) per pass: one 128-bit register holds two complex Int32 values (re, im, re, im).
//
// Loop order: j outer (pairs of butterflies), block g inner; each pair's twiddle vectors, doubled,
// c2 = 2 (c_j, c_j, c_j+1, c_j+1) and s2 = 2 (s_j, -s_j, s_j+1, -s_j+1) for r = 1, 2, 3 (|2c|, |2s| <= 2^31 - 2:
// Int32), come made from the packed table (`packTwiddlePair`, 16 KB for n = 2048, built at init): six loads per
// pair instead of 41 instructions that made them (llvm-mca, Cortex-A72: 18 cycles per pair, 0.22 ms per segment,
// as much as the first stage's passes, which run once per pair).
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
    static var readsPackedTwiddles: Bool { true }
    static var packedPerButterfly: Int { 24 }
    /// Per pair of butterflies and r: 2 (c, c, c', c') and 2 (s, -s, s', -s') as Int32 (each the Int16 pair of its
    /// little-endian halves in `packed`): 96 bytes per pair for r = 1, 2, 3, loaded as they are by `stage`.
    static func packTwiddlePair(_ c0: Int32, _ s0: Int32, _ c1: Int32, _ s1: Int32, into packed: inout [Int16]) {
        for v in [2 &* c0, 2 &* c0, 2 &* c1, 2 &* c1, 2 &* s0, 0 &- 2 &* s0, 2 &* s1, 0 &- 2 &* s1] {
            packed.append(Int16(truncatingIfNeeded: v)); packed.append(Int16(truncatingIfNeeded: v >> 16))
        }
    }
    @inline(__always) static func load(_ p: UnsafeRawPointer) -> int32x4_t { p.loadUnaligned(as: int32x4_t.self) }
    @inline(__always) static func store(_ p: UnsafeMutableRawPointer, _ v: int32x4_t) { p.storeBytes(of: v, as: int32x4_t.self) }
    @inline(__always) static func magnitude(_ v: int32x4_t) -> int32x4_t { veorq_s32(v, v &>> 31) }

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
        var w = UnsafeRawPointer(packed)  // this pair's doubled twiddles (`packTwiddlePair`)
        while j < q {
            let c1 = load(w), s1 = load(w + 16), c2 = load(w + 32), s2 = load(w + 48), c3 = load(w + 64), s3 = load(w + 80)
            w += 96
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

    /// The split + power (`FixedRealFFTV2.splitPowerOne`) four k at a time, 64-bit products by `smull`/`smlal`:
    /// - Z_k, Z_{n/2-k} of the four k gathered as (re, im) pairs and unzipped (`uzp1`, `uzp2`) to zr, zi, mr, mi;
    ///   c, s unzipped from the split twiddle table (c_k, s_k, c_k+1, ...).
    /// - zr + mr, zi - mi, zr - mr, zi + mi: Int32 lanes, exact (|components| <= 2^28, sums <= 2^29).
    /// - Doubled, as the stage kernel does: 2 A 2^30 (A = zr + mr) by `sqdmull` with 2^30, 2 tr = 2 (c bi - s br)
    ///   by `sqdmull`, `sqdmlsl`, 2 ti = 2 ((-c) br - s bi) likewise (|A| <= 2^29, |c|, |s| <= 2^30, |b| <= 2^29:
    ///   every term below 2^61, sums below 2^62, so nothing saturates and the Int64 values are exact).
    /// - xr = (A 2^30 + tr + 2^30) >> 31 = floor((2 (A 2^30 + tr) + 2^31) / 2^32): `addhn` with 2^31 keeps the high
    ///   32 bits of the sum, whose true value is below 2^29.5 in magnitude (an Int32); yr from A 2^30 - tr, and
    ///   xi, yi the same way.
    /// - Powers xr^2 + xi^2 by `smull`, `smlal` (< 2^59, exact), stored lane by lane to the slots read.
    static var vectorSplit: Bool { true }
    @inline(__always)
    static func splitPowerFour(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                               _ pos: UnsafePointer<UInt16>, k: Int) -> SIMD4<UInt64> {
        let half = fft.half
        let raw = UnsafeRawPointer(z)
        let ia0 = Int(pos[k]), ia1 = Int(pos[k &+ 1]), ia2 = Int(pos[k &+ 2]), ia3 = Int(pos[k &+ 3])
        let ib0 = Int(pos[half &- k]), ib1 = Int(pos[half &- k &- 1]), ib2 = Int(pos[half &- k &- 2])
        let ib3 = Int(pos[half &- k &- 3])
        @inline(__always) func pair(_ slot: Int) -> int32x2_t { raw.loadUnaligned(fromByteOffset: 8 &* slot, as: int32x2_t.self) }
        let a01 = vcombine_s32(pair(ia0), pair(ia1)), a23 = vcombine_s32(pair(ia2), pair(ia3))
        let b01 = vcombine_s32(pair(ib0), pair(ib1)), b23 = vcombine_s32(pair(ib2), pair(ib3))
        let zr = vuzp1q_s32(a01, a23), zi = vuzp2q_s32(a01, a23)
        let mr = vuzp1q_s32(b01, b23), mi = vuzp2q_s32(b01, b23)
        let t = UnsafeRawPointer(tw + 2 &* k)
        let (pkLo, pkHi, pmLo, pmHi) = splitPowers(zr, zi, mr, mi, t.loadUnaligned(as: int32x4_t.self),
                                                   t.loadUnaligned(fromByteOffset: 16, as: int32x4_t.self))
        let power = UnsafeMutableRawPointer(z).assumingMemoryBound(to: Int64.self)
        power[ia0] = pkLo[0]; power[ia1] = pkLo[1]; power[ia2] = pkHi[0]; power[ia3] = pkHi[1]
        power[ib0] = pmLo[0]; power[ib1] = pmLo[1]; power[ib2] = pmHi[0]; power[ib3] = pmHi[1]
        let lo = vorrq_s64(pkLo, pmLo), hi = vorrq_s64(pkHi, pmHi)
        return SIMD4<UInt64>(truncatingIfNeeded: SIMD4<Int64>(lo[0], lo[1], hi[0], hi[1]))
    }

    /// The arithmetic of `splitPowerFour` (its comment): the components of Z_k (zr, zi) and Z_{n/2-k} (mr, mi) of four
    /// k, their (c, s) pairs in w0 (first two k) and w1; returns the powers of X_k (two lanes each: lo, hi) and of
    /// X_{n/2-k}.
    @inline(__always)
    static func splitPowers(_ zr: int32x4_t, _ zi: int32x4_t, _ mr: int32x4_t, _ mi: int32x4_t, _ w0: int32x4_t,
                            _ w1: int32x4_t) -> (int64x2_t, int64x2_t, int64x2_t, int64x2_t) {
        let c = vuzp1q_s32(w0, w1), s = vuzp2q_s32(w0, w1), nc = vnegq_s32(c)
        let a = vaddq_s32(zr, mr), ai = vsubq_s32(zi, mi), br = vsubq_s32(zr, mr), bi = vaddq_s32(zi, mi)
        // Doubled (the stage kernel's `sqdmull` trick): 2 A 2^30 and 2 tr, 2 ti, exact (< 2^62: nothing saturates).
        let q30 = vdupq_n_s32(1 << 30)
        let arLo = vqdmull_s32(vget_low_s32(a), vget_low_s32(q30)), arHi = vqdmull_high_s32(a, q30)
        let aiLo = vqdmull_s32(vget_low_s32(ai), vget_low_s32(q30)), aiHi = vqdmull_high_s32(ai, q30)
        let trLo = vqdmlsl_s32(vqdmull_s32(vget_low_s32(c), vget_low_s32(bi)), vget_low_s32(s), vget_low_s32(br))
        let trHi = vqdmlsl_high_s32(vqdmull_high_s32(c, bi), s, br)
        let tiLo = vqdmlsl_s32(vqdmull_s32(vget_low_s32(nc), vget_low_s32(br)), vget_low_s32(s), vget_low_s32(bi))
        let tiHi = vqdmlsl_high_s32(vqdmull_high_s32(nc, br), s, bi)
        // floor((2 v + 2^31) / 2^32) = floor((v + 2^30) / 2^31): `addhn` keeps the high 32 bits of the sum.
        let r = vdupq_n_s64(Int64(1) << 31)
        let xr = vaddhn_high_s64(vaddhn_s64(vaddq_s64(arLo, trLo), r), vaddq_s64(arHi, trHi), r)
        let xi = vaddhn_high_s64(vaddhn_s64(vaddq_s64(aiLo, tiLo), r), vaddq_s64(aiHi, tiHi), r)
        let yr = vaddhn_high_s64(vaddhn_s64(vsubq_s64(arLo, trLo), r), vsubq_s64(arHi, trHi), r)
        let yi = vaddhn_high_s64(vaddhn_s64(vsubq_s64(aiLo, tiLo), r), vsubq_s64(aiHi, tiHi), r)
        let pkLo = vmlal_s32(vmull_s32(vget_low_s32(xr), vget_low_s32(xr)), vget_low_s32(xi), vget_low_s32(xi))
        let pkHi = vmlal_high_s32(vmull_high_s32(xr, xr), xi, xi)
        let pmLo = vmlal_s32(vmull_s32(vget_low_s32(yr), vget_low_s32(yr)), vget_low_s32(yi), vget_low_s32(yi))
        let pmHi = vmlal_high_s32(vmull_high_s32(yr, yr), yi, yi)
        return (pkLo, pkHi, pmLo, pmHi)
    }

    /// `FixedRealFFTV2.splitPowerGroupPair` with contiguous loads and stores: each slot group (four complex values)
    /// is two loads (real and imaginary parts apart by `uzp1`, `uzp2`), its lanes put in (k, n/2 - k) order by
    /// `rev64` and halves; `splitPowers`; the powers stored back in slot order, two 128-bit stores per group.
    static var groupedSplit: Bool { true }
    @inline(__always)
    static func splitPowerGroupPair(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                                    _ pos: UnsafePointer<UInt16>, r: Int) -> SIMD4<UInt64> {
        let m = fft.half / 4
        let sa = 2 &* Int(pos[r]), sb = 2 &* Int(pos[m &- r])  // Int32 offsets of the two slot groups
        // (re, im) of slots d = 0...3 apart (`vld2q_s32` is a C macro Swift does not import: two loads, `uzp1`, `uzp2`).
        @inline(__always) func group(_ p: UnsafePointer<Int32>) -> (int32x4_t, int32x4_t) {
            let v0 = UnsafeRawPointer(p).loadUnaligned(as: int32x4_t.self)
            let v1 = UnsafeRawPointer(p).loadUnaligned(fromByteOffset: 16, as: int32x4_t.self)
            return (vuzp1q_s32(v0, v1), vuzp2q_s32(v0, v1))
        }
        let a = group(z + sa), b = group(z + sb)
        let br = vrev64q_s32(b.0), bi = vrev64q_s32(b.1)   // (B1, B0, B3, B2)
        let zr = vcombine_s32(vget_low_s32(a.0), vget_low_s32(br)), zi = vcombine_s32(vget_low_s32(a.1), vget_low_s32(bi))
        let mr = vcombine_s32(vget_high_s32(br), vget_high_s32(a.0)), mi = vcombine_s32(vget_high_s32(bi), vget_high_s32(a.1))
        let t = UnsafeRawPointer(tw)
        @inline(__always) func cs(_ k: Int) -> int32x2_t { t.loadUnaligned(fromByteOffset: 8 &* k, as: int32x2_t.self) }
        let (pkLo, pkHi, pmLo, pmHi) = splitPowers(zr, zi, mr, mi, vcombine_s32(cs(r), cs(r &+ m)),
                                                   vcombine_s32(cs(2 &* m &- r), cs(m &- r)))
        let pa = UnsafeMutableRawPointer(z + sa), pb = UnsafeMutableRawPointer(z + sb)
        pa.storeBytes(of: pkLo, as: int64x2_t.self)                              // slots A0, A1: X_r, X_{r+m}
        pa.storeBytes(of: pmHi, toByteOffset: 16, as: int64x2_t.self)            // A2, A3: X_{n/2-(2m-r)}, X_{n/2-(m-r)}
        pb.storeBytes(of: SIMD2(pkHi[1], pkHi[0]), as: int64x2_t.self)           // B0, B1: X_{m-r}, X_{2m-r}
        pb.storeBytes(of: SIMD2(pmLo[1], pmLo[0]), toByteOffset: 16, as: int64x2_t.self)  // B2, B3
        let lo = vorrq_s64(pkLo, pmLo), hi = vorrq_s64(pkHi, pmHi)
        return SIMD4<UInt64>(truncatingIfNeeded: SIMD4<Int64>(lo[0], lo[1], hi[0], hi[1]))
    }
}
#endif
