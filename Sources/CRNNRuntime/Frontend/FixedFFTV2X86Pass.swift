// The radix-4 stage pass the x86-64 stage kernels share (SSE2, AVX2, AVX-512: FixedFFTV2SSE2.swift,
// FixedFFTV2AVX2.swift, FixedFFTV2AVX512.swift), written once over the integer operations of one register width
// (`FFTStageLanes`). A register holds 2, 4 or 8 complex Int32 values (re, im, ...), one per butterfly of the pass;
// every operation used works lane by lane or within each 128-bit part, so a wider register computes exactly what the
// SSE2 register computes for each pair of butterflies it holds (the exactness argument is FixedFFTV2SSE2.swift's).
// The kernels differ in the register width and how they reduce the bound; all read the packed table grouped by up
// to four pairs of butterflies (`FFTRadix4StageKernel.packTwiddlePair`, `fftV2GroupTwiddlePairs`), so that a
// register's twiddle vector is one load.

#if arch(x86_64)
import _Builtin_intrinsics.intel

/// The lane operations of one x86 register width for the radix-4 stage (each a single instruction).
protocol FFTStageLanes {
    associatedtype V
    static func load(_ p: UnsafeRawPointer) -> V
    static func store(_ p: UnsafeMutableRawPointer, _ v: V)
    /// Every Int32 lane x.
    static func splat(_ x: Int32) -> V
    static func add(_ a: V, _ b: V) -> V
    static func sub(_ a: V, _ b: V) -> V
    static func and(_ a: V, _ b: V) -> V
    static func or(_ a: V, _ b: V) -> V
    static func xor(_ a: V, _ b: V) -> V
    /// Arithmetic shift right of each Int32 lane by the constant n.
    static func srai(_ v: V, _ n: Int32) -> V
    /// Arithmetic shift right of each Int32 lane by the count in `cnt`'s low 64 bits.
    static func sra(_ v: V, _ cnt: __m128i) -> V
    /// Int32 lanes to Int16 with signed saturation, a's lanes then b's within each 128-bit part (`packssdw`).
    static func packs(_ a: V, _ b: V) -> V
    /// Interleaves the low (high) Int32 pairs of a and b within each 128-bit part (`punpckldq`, `punpckhdq`).
    static func unpacklo32(_ a: V, _ b: V) -> V
    static func unpackhi32(_ a: V, _ b: V) -> V
    /// Int16 pair products summed into Int32 lanes (`pmaddwd`).
    static func madd(_ a: V, _ b: V) -> V
    /// The two Int32 halves of each 64-bit lane swapped: (re, im) -> (im, re).
    static func swapHalves(_ v: V) -> V
    /// -1 in the imaginary (odd) lanes, 0 in the real ones.
    static var oddLanes: V { get }
}

extension FFTStageLanes {
    /// (t c + u s, u c - t s) for the complex values of `t` (re, im, ...), rounded right by 30 + s: `wh`, `wl` are
    /// the twiddle vectors of their butterflies (hi and lo Int16 pieces, FFTRadix4StageSSE2's layout), `r` the
    /// rounding 2^(14+s), `cnt` the shift s. FixedFFTV2SSE2.swift proves it exact.
    @inline(__always)
    static func twiddle(_ t: V, _ wh: V, _ wl: V, _ r: V, _ cnt: __m128i) -> V {
        let m = splat(0x7fff)
        let halves = packs(srai(t, 15), and(t, m))  // (t,u)_hi of each value, then (t,u)_lo, per 128-bit part
        let hi = unpacklo32(halves, halves), lo = unpackhi32(halves, halves)  // each value's pieces twice
        let hh = madd(hi, wh), m1 = madd(hi, wl)
        let m2 = madd(lo, wh), ll = madd(lo, wl)
        let ar = add(srai(ll, 15), r)
        let low = add(add(and(m1, m), m2), ar)  // < 2^31: no wrap (FixedFFTV2SSE2.swift)
        let v = add(add(hh, srai(m1, 15)), srai(low, 15))
        return sra(v, cnt)
    }

    /// One radix-4 pass over the butterflies the registers hold: rows x0...x3 in, rows y0...y3 out (y0 shifted
    /// right by s with `rnd32` = 2^(s-1) or 0, the others through `twiddle` with the twiddle vectors `w[0...5]`:
    /// hi and lo of r = 1, 2, 3), and the OR of the outputs' magnitudes x ^ (x >> 31).
    @inline(__always)
    static func butterflies(_ x0: V, _ x1: V, _ x2: V, _ x3: V, _ w: (Int) -> V, rnd32: V, rnd: V,
                            cnt: __m128i) -> (V, V, V, V, bound: V) {
        let s02 = add(x0, x2), d02 = sub(x0, x2)
        let s13 = add(x1, x3), d13 = sub(x1, x3)
        let y0 = sra(add(add(s02, s13), rnd32), cnt)
        let t2 = sub(s02, s13)
        let odd = oddLanes
        let u = sub(xor(swapHalves(d13), odd), odd)  // -i d13 = (d13_im, -d13_re)
        let t1 = add(d02, u), t3 = sub(d02, u)
        let y1 = twiddle(t1, w(0), w(1), rnd, cnt)
        let y2 = twiddle(t2, w(2), w(3), rnd, cnt)
        let y3 = twiddle(t3, w(4), w(5), rnd, cnt)
        @inline(__always) func magnitude(_ v: V) -> V { xor(v, srai(v, 31)) }
        return (y0, y1, y2, y3, or(or(magnitude(y0), magnitude(y1)), or(magnitude(y2), magnitude(y3))))
    }

    /// A whole stage of length `l` (q = l / 4 butterflies per block, a multiple of `perPass`) with `perPass`
    /// butterflies per pass (the register's complex values: perPass / 2 pairs, at most four). The packed twiddles
    /// are grouped by G = min(4, q / 2) pairs (`fftV2GroupTwiddlePairs`): the pass's twiddle vector k is one load at
    /// byte 16 (G k + i) of its group, i its first pair's index in the group. Returns the OR of the outputs'
    /// magnitudes, lane by lane.
    @inline(__always)
    static func stagePasses(_ z: UnsafeMutablePointer<Int32>, half: Int, length l: Int, packed: UnsafePointer<Int16>,
                            shift s: Int32, perPass: Int) -> V {
        let q = l / 4
        let cnt = _mm_cvtsi32_si128(s)
        let rnd32 = splat(s == 0 ? 0 : Int32(1) << (s &- 1))
        let rnd = splat(Int32(1) << (14 &+ s))
        var acc = splat(0)
        let rowBytes = 8 &* q
        let vectorBytes = 16 &* fftV2TwiddleGroupPairs(q / 2), passBytes = 8 &* perPass
        var g = 0
        while g < half {
            var j = 0
            var w = UnsafeRawPointer(packed), i = 0  // the group's twiddles; byte offset of this pass's first pair
            while j < q {
                let p0 = UnsafeMutableRawPointer(z + 2 &* (g &+ j))
                let y = butterflies(load(p0), load(p0 + rowBytes), load(p0 + 2 &* rowBytes), load(p0 + 3 &* rowBytes),
                                    { load(w + (vectorBytes &* $0 &+ i)) }, rnd32: rnd32, rnd: rnd, cnt: cnt)
                store(p0, y.0); store(p0 + rowBytes, y.1); store(p0 + 2 &* rowBytes, y.2); store(p0 + 3 &* rowBytes, y.3)
                acc = or(acc, y.bound)
                i &+= passBytes
                if i == vectorBytes { i = 0; w += 6 &* vectorBytes }
                j &+= perPass
            }
            g &+= l
        }
        return acc
    }
}
#endif
