// Conv2dMicroKernelSSE2: the fast convolution's micro-kernel for the x86-64 baseline (SSE2, every x86-64 CPU),
// built on `pmaddwd` (`_mm_madd_epi16`: 8 int16 products summed in pairs into 4 Int32 lanes).
//
// Layout: the band is Int16 (the driver sign-extends the input once per row). Within one kernel row (ky) the
// kw * Cin taps of a pixel are contiguous in the band; they are taken two at a time (taps 2j, 2j + 1, as one
// 32-bit load broadcast to 4 lanes), and the weights are packed to match, as Int16:
//     packed[ky][j][co][t] = w[co, ky, tap 2j + t]   (t = 0, 1; 0 where 2j + t = kw * Cin, an odd count)
// so one `pmaddwd` gives 4 output channels x 2 taps. 16 channels x 2 pixels per pass (8 accumulators, 4 weight
// registers); an odd last tap reads the band element after the pixel's window (inside the band or its zeroed
// slack) against a zero weight.
//
// Exactness: every operand is a sign-extended int8 (|x|, |w| <= 128), so each product is at most 2^14 and a
// pair sum at most 2^15: `pmaddwd` can only wrap for (-32768)^2 + (-32768)^2, unreachable here. The Int32 lane
// sums are then the same wrapping Int32 sums as the reference (file comment of Conv2dS8Fast.swift, point 1).
// (The operands are the raw int8 input, not x - z_in: the zero point lives in the adjusted bias; an x - z_in
// operand could reach 255 and still fit, but the pair sum bound would be 2 * 255 * 128 < 2^16, also fine.)

#if arch(x86_64)
import _Builtin_intrinsics.intel

enum Conv2dMicroKernelSSE2: Conv2dMicroKernel {
    typealias Epilogue = Conv2dEpilogueSSE2  // exact double-precision requantization (its file)

    static var bandElementBytes: Int { 2 }

    static var tapGroup: Int { 2 }
    static var name: StaticString { "sse2" }

    @inline(__always) static func load(_ p: UnsafeRawPointer) -> __m128i { p.loadUnaligned(as: __m128i.self) }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let W = g.width, pixelBytes = g.channels &* 2, taps = tapLoop(g, packed: packed, cb: cb), acc = Acc(bias)
        var x = 0
        while x &+ 2 <= W {  // two pixels per pass (8 accumulators, 4 weight registers of the 16 XMM)
            var a = acc, c = acc
            taps.run(band + x &* pixelBytes) { r0, wp in
                let w = Weights(wp)
                a.madd(w, pair(r0)); c.madd(w, pair(r0 + pixelBytes))
            }
            a.poolMax(best + Int(column[x])); c.poolMax(best + Int(column[x &+ 1]))
            x &+= 2
        }
        if x < W {  // an odd W's last pixel
            var a = acc
            taps.run(band + x &* pixelBytes) { r0, wp in a.madd(Weights(wp), pair(r0)) }
            a.poolMax(best + Int(column[x]))
        }
    }

    /// The tap pair at `p` (two Int16 band values as one Int32), repeated in the 4 lanes.
    @inline(__always) static func pair(_ p: UnsafeRawPointer) -> __m128i { _mm_set1_epi32(p.loadUnaligned(as: Int32.self)) }

    /// One tap pair's Int16 weights of the 16 channels: channels 4i..4i+3 in `w[i]`.
    struct Weights {
        let w0: __m128i, w1: __m128i, w2: __m128i, w3: __m128i
        @inline(__always) init(_ p: UnsafeRawPointer) { w0 = load(p); w1 = load(p + 16); w2 = load(p + 32); w3 = load(p + 48) }
    }

    /// The 16 Int32 accumulators of one output pixel (channels 4i..4i+3 in `c[i]`).
    struct Acc: Conv2dPixelAccumulator {
        var c0: __m128i, c1: __m128i, c2: __m128i, c3: __m128i
        @inline(__always) init(_ bias: UnsafePointer<Int32>) {
            c0 = load(bias); c1 = load(bias + 4); c2 = load(bias + 8); c3 = load(bias + 12)
        }

        /// acc += the pair sums of `w` times the tap pair `v` (`pmaddwd`).
        @inline(__always) mutating func madd(_ w: Weights, _ v: __m128i) {
            c0 = _mm_add_epi32(c0, _mm_madd_epi16(w.w0, v)); c1 = _mm_add_epi32(c1, _mm_madd_epi16(w.w1, v))
            c2 = _mm_add_epi32(c2, _mm_madd_epi16(w.w2, v)); c3 = _mm_add_epi32(c3, _mm_madd_epi16(w.w3, v))
        }

        /// best[0..<16] = max(best[...], acc), lane by lane (SSE2 has no pmaxsd).
        @inline(__always)
        func poolMax(_ best: UnsafeMutablePointer<Int32>) {
            @inline(__always) func one(_ p: UnsafeMutablePointer<Int32>, _ a: __m128i) {
                let raw = UnsafeMutableRawPointer(p)
                let old = raw.loadUnaligned(as: __m128i.self)
                let gt = _mm_cmpgt_epi32(a, old)
                raw.storeBytes(of: _mm_or_si128(_mm_and_si128(gt, a), _mm_andnot_si128(gt, old)), as: __m128i.self)
            }
            one(best, c0); one(best + 4, c1); one(best + 8, c2); one(best + 12, c3)
        }
    }
}
#endif
