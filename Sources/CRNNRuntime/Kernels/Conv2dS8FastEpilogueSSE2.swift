// Conv2dEpilogueSSE2: the fast convolution's requantization epilogue on the x86-64 baseline (SSE2), used by the
// SSE2 and AVX2 micro-kernels. The reference (`requantizeS8`) needs a 32 x 32 -> 64-bit signed multiply and a
// per-channel 64-bit shift, which SSE2 lacks (no `pmuldq`, no per-lane or arithmetic 64-bit shifts): scalar, it
// was half of the first conv's time (25k pooled outputs per segment). Here the same integers are computed in
// double precision, where every step is exact:
//
//   reference:  out = clamp(z_out + floor((acc * m + 2^(n-1)) / 2^n), lo, hi)       n = 31 - shift
//   here:       y = acc * (m * 2^-n)          exact when |acc * m| < 2^53 (an integer times a power of two)
//               w = min(max(y + (1/2 - a), 0), hi - lo)                 a = lo - z_out
//               out = lo + trunc(w)
//
// Why the bits agree (for the layers `prepare` accepts: 1 <= n <= 43 and bound_c * m_c < 2^53 for every channel,
// bound_c >= |acc| for every accumulator the layer can make):
// - y is exact, and y + (1/2 - a) is exact whenever |y + 1/2 - a| < 2^10: y's lowest bit is at least 2^-n >= 2^-43
//   and |1/2 - a| < 2^9, so the sum needs at most 53 bits. When it is larger it may be rounded, but rounding is
//   monotone and 2^10 is a double, so it stays beyond 2^10 > hi - lo and is clamped to the same end.
// - For w in [0, hi - lo], trunc is floor, and floor(clamp(v, 0, hi - lo)) = clamp(floor(v), 0, hi - lo) for
//   integer ends; so out = clamp(z_out + floor(y + 1/2), lo, hi).
// - The reference saturates to Int32 before adding z_out; the fast path's pooled-maximum check guarantees that
//   z_out + the saturated value does not wrap for these accumulators, so saturating or not gives the same clamp.
// No rounding mode, flush-to-zero or denormal setting changes an exact result (the smallest scale m 2^-43 is far
// above the denormals). Tests: Conv2dS8FastTests (every layer shape against the reference, counting the layers this
// epilogue runs) and `testSSE2EpilogueAgreesWithRequantizeRow` (random accumulators at their bounds).

#if arch(x86_64)
import _Builtin_intrinsics.intel

enum Conv2dEpilogueSSE2: Conv2dRequantEpilogue {
    /// One Double per channel: m * 2^-(31 - shift).
    static func preparedBytes(channels: Int) -> Int { 8 &* channels }

    static func prepare(requant: ChannelRequant, channels: Int, accumulatorBounds: UnsafeBufferPointer<Int64>,
                        into: UnsafeMutableRawPointer) -> Bool {
        let scale = into.bindMemory(to: Double.self, capacity: channels)
        var exact = accumulatorBounds.count >= channels
        for c in 0..<channels {
            let m = requant.multipliers[c], n = 31 &- requant.shifts[c]
            // m * 2^-n, exact: m < 2^31 has at most 31 significant bits; n <= 43 keeps it far from the denormals.
            scale[c] = n >= 1 && n <= 43 ? Double(m) * Double(sign: .plus, exponent: -Int(n), significand: 1) : 0
            if m < 0 || n < 1 || n > 43 || !exact { exact = false; continue }
            // bound * m < 2^53 (bound <= 2^31 and m < 2^31: the product fits).
            if accumulatorBounds[c] &* Int64(m) >= Int64(1) << 53 { exact = false }
        }
        return exact
    }

    @inline(__always) static func loadInts(_ p: UnsafePointer<Int32>) -> __m128i {
        UnsafeRawPointer(p).loadUnaligned(as: __m128i.self)
    }

    static func run(_ best: UnsafePointer<Int32>, count: Int, channels: Int, constants: UnsafeRawPointer,
                    zo: Int32, lo: Int32, hi: Int32, out: UnsafeMutablePointer<Int8>) {
        let scale = constants.assumingMemoryBound(to: Double.self)
        let offset = _mm_set1_pd(0.5 - Double(lo &- zo)), top = _mm_set1_pd(Double(hi &- lo))
        let zero = _mm_setzero_pd(), low = _mm_set1_epi16(Int16(truncatingIfNeeded: lo))
        // Four channels: lo + trunc(clamp(acc * scale + offset, 0, hi - lo)) as Int32 lanes in 0...255.
        @inline(__always) func four(_ i: Int, _ c: Int) -> __m128i {
            let acc = loadInts(best + i)
            let d0 = _mm_cvtepi32_pd(acc), d1 = _mm_cvtepi32_pd(_mm_unpackhi_epi64(acc, acc))
            var w0 = _mm_add_pd(_mm_mul_pd(d0, _mm_loadu_pd(scale + c)), offset)
            var w1 = _mm_add_pd(_mm_mul_pd(d1, _mm_loadu_pd(scale + (c &+ 2))), offset)
            w0 = _mm_min_pd(_mm_max_pd(w0, zero), top)
            w1 = _mm_min_pd(_mm_max_pd(w1, zero), top)
            return _mm_unpacklo_epi64(_mm_cvttpd_epi32(w0), _mm_cvttpd_epi32(w1))
        }
        var i = 0, c = 0
        while i < count {
            let a = _mm_add_epi16(_mm_packs_epi32(four(i, c), four(i &+ 4, c &+ 4)), low)
            let b = _mm_add_epi16(_mm_packs_epi32(four(i &+ 8, c &+ 8), four(i &+ 12, c &+ 12)), low)
            UnsafeMutableRawPointer(out + i).storeBytes(of: _mm_packs_epi16(a, b), as: __m128i.self)
            i &+= 16
            c &+= 16
            if c == channels { c = 0 }
        }
    }
}
#endif
