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
        let W = g.width, C = g.channels, K = g.outputChannels, kh = g.kernelHeight
        let rowTaps = g.kernelWidth &* C, pairs = (rowTaps &+ 1) >> 1
        let rowBytes = g.bandRowStride &* 2, pixelBytes = C &* 2
        let pairStride = K &* 4  // bytes from one tap pair's weights to the next
        let wBase = packed + cb &* 4
        let b0 = load(bias), b1 = load(bias + 4), b2 = load(bias + 8), b3 = load(bias + 12)
        var x = 0
        while x &+ 2 <= W {
            var a0 = b0, a1 = b1, a2 = b2, a3 = b3
            var c0 = b0, c1 = b1, c2 = b2, c3 = b3
            for ky in 0..<kh {
                let r0 = band + (ky &* rowBytes &+ x &* pixelBytes), r1 = r0 + pixelBytes
                var wp = wBase + ky &* pairs &* pairStride
                var j = 0
                while j < pairs {
                    let w0 = load(wp), w1 = load(wp + 16), w2 = load(wp + 32), w3 = load(wp + 48)
                    let v = _mm_set1_epi32(r0.loadUnaligned(fromByteOffset: j &* 4, as: Int32.self))
                    let u = _mm_set1_epi32(r1.loadUnaligned(fromByteOffset: j &* 4, as: Int32.self))
                    a0 = _mm_add_epi32(a0, _mm_madd_epi16(w0, v)); a1 = _mm_add_epi32(a1, _mm_madd_epi16(w1, v))
                    a2 = _mm_add_epi32(a2, _mm_madd_epi16(w2, v)); a3 = _mm_add_epi32(a3, _mm_madd_epi16(w3, v))
                    c0 = _mm_add_epi32(c0, _mm_madd_epi16(w0, u)); c1 = _mm_add_epi32(c1, _mm_madd_epi16(w1, u))
                    c2 = _mm_add_epi32(c2, _mm_madd_epi16(w2, u)); c3 = _mm_add_epi32(c3, _mm_madd_epi16(w3, u))
                    wp += pairStride
                    j &+= 1
                }
            }
            poolMax4x4(best + Int(column[x]), a0, a1, a2, a3)
            poolMax4x4(best + Int(column[x &+ 1]), c0, c1, c2, c3)
            x &+= 2
        }
        if x < W {
            var a0 = b0, a1 = b1, a2 = b2, a3 = b3
            for ky in 0..<kh {
                let r0 = band + (ky &* rowBytes &+ x &* pixelBytes)
                var wp = wBase + ky &* pairs &* pairStride
                var j = 0
                while j < pairs {
                    let v = _mm_set1_epi32(r0.loadUnaligned(fromByteOffset: j &* 4, as: Int32.self))
                    a0 = _mm_add_epi32(a0, _mm_madd_epi16(load(wp), v))
                    a1 = _mm_add_epi32(a1, _mm_madd_epi16(load(wp + 16), v))
                    a2 = _mm_add_epi32(a2, _mm_madd_epi16(load(wp + 32), v))
                    a3 = _mm_add_epi32(a3, _mm_madd_epi16(load(wp + 48), v))
                    wp += pairStride
                    j &+= 1
                }
            }
            poolMax4x4(best + Int(column[x]), a0, a1, a2, a3)
        }
    }

    /// best[0..<16] = max(best[...], acc), lane by lane, from four 4-lane accumulators (SSE2 has no pmaxsd).
    @inline(__always)
    static func poolMax4x4(_ best: UnsafeMutablePointer<Int32>, _ a0: __m128i, _ a1: __m128i, _ a2: __m128i, _ a3: __m128i) {
        @inline(__always) func one(_ p: UnsafeMutablePointer<Int32>, _ a: __m128i) {
            let raw = UnsafeMutableRawPointer(p)
            let old = raw.loadUnaligned(as: __m128i.self)
            let gt = _mm_cmpgt_epi32(a, old)
            raw.storeBytes(of: _mm_or_si128(_mm_and_si128(gt, a), _mm_andnot_si128(gt, old)), as: __m128i.self)
        }
        one(best, a0); one(best + 4, a1); one(best + 8, a2); one(best + 12, a3)
    }
}
#endif
