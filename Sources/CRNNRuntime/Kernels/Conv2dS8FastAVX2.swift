// Conv2dMicroKernelAVX2: the SSE2 variant's scheme (Conv2dS8FastSSE2.swift: Int16 band, weights packed as Int16
// tap pairs, `pmaddwd`) on 256-bit registers: `vpmaddwd` (`_mm256_madd_epi16`, 16 int16 products per
// instruction into 8 Int32 lanes) and `vpbroadcastd` of a band pair. 16 channels x 4 pixels per pass (8
// accumulators, 2 weight registers). Needs AVX2, which is not in the x86-64 baseline: compiled only with
// `-D CRNN_CONV_AVX2` and a target CPU that has it (tools/native-flags.sh prints both). Same packed layout as
// the SSE2 variant (`packedWeightBytes`/`pack` are its), same exactness argument (|pair sum| <= 2^15).

#if CRNN_CONV_AVX2 && arch(x86_64)
import _Builtin_intrinsics.intel

enum Conv2dMicroKernelAVX2: Conv2dMicroKernel {
    typealias Epilogue = Conv2dEpilogueSSE2  // exact double-precision requantization (its file)

    static var bandElementBytes: Int { 2 }

    static var tapGroup: Int { 2 }  // the SSE2 variant's layout
    static var name: StaticString { "avx2" }

    @inline(__always) static func load(_ p: UnsafeRawPointer) -> __m256i { p.loadUnaligned(as: __m256i.self) }
    /// The tap pair at `p` (two Int16 band values as one Int32), repeated in the 8 lanes.
    @inline(__always) static func pair(_ p: UnsafeRawPointer) -> __m256i { _mm256_set1_epi32(p.loadUnaligned(as: Int32.self)) }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        rowPasses(g, band: band, taps: tapLoop(g, packed: packed, cb: cb), pixelBytes: g.channels &* 2, start: Acc(bias),
                  best: best, column: column) { a, w0, w1, r in a.madd(w0, w1, pair(r)) }
    }

    /// The pixel passes of a 256-bit micro-kernel (this one and VNNI's): per tap group, the 16 channels' weights
    /// (two registers) and `step(&acc, w0, w1, band)` for each pixel's band group; `start` holds the bias.
    @inline(__always)
    static func rowPasses(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, taps: Conv2dTapLoop, pixelBytes: Int,
                          start: Acc, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>,
                          _ step: (inout Acc, __m256i, __m256i, UnsafeRawPointer) -> Void) {
        conv2dRowPixels(width: g.width, bias: start, best: best, column: column, four: { a, c, d, e, x in
            taps.run(band + x &* pixelBytes) { r0, wp in
                let w0 = load(wp), w1 = load(wp + 32)
                step(&a, w0, w1, r0); step(&c, w0, w1, r0 + pixelBytes)
                step(&d, w0, w1, r0 + 2 &* pixelBytes); step(&e, w0, w1, r0 + 3 &* pixelBytes)
            }
        }, one: { a, x in
            taps.run(band + x &* pixelBytes) { r0, wp in step(&a, load(wp), load(wp + 32), r0) }
        })
    }

    /// The 16 Int32 accumulators of one output pixel (channels 0..7 in c0, 8..15 in c1).
    struct Acc: Conv2dPixelAccumulator {
        var c0: __m256i, c1: __m256i
        @inline(__always) init(_ bias: UnsafePointer<Int32>) { c0 = load(bias); c1 = load(bias + 8) }

        /// acc += the pair sums of (w0, w1) times the tap pair `v` (`vpmaddwd`).
        @inline(__always) mutating func madd(_ w0: __m256i, _ w1: __m256i, _ v: __m256i) {
            c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(w0, v)); c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(w1, v))
        }

        /// best[0..<16] = max(best[...], acc), lane by lane (`vpmaxsd`).
        @inline(__always)
        func poolMax(_ best: UnsafeMutablePointer<Int32>) {
            let raw = UnsafeMutableRawPointer(best)
            raw.storeBytes(of: _mm256_max_epi32(raw.loadUnaligned(as: __m256i.self), c0), as: __m256i.self)
            raw.storeBytes(of: _mm256_max_epi32(raw.loadUnaligned(fromByteOffset: 32, as: __m256i.self), c1),
                           toByteOffset: 32, as: __m256i.self)
        }
    }
}
#endif
