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
    @inline(__always) static func pair(_ p: UnsafeRawPointer, _ j: Int) -> __m256i {
        _mm256_set1_epi32(p.loadUnaligned(fromByteOffset: j &* 4, as: Int32.self))
    }
    @inline(__always) static func madd(_ acc: __m256i, _ w: __m256i, _ v: __m256i) -> __m256i {
        _mm256_add_epi32(acc, _mm256_madd_epi16(w, v))
    }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let W = g.width, C = g.channels, K = g.outputChannels, kh = g.kernelHeight
        let rowTaps = g.kernelWidth &* C, pairs = (rowTaps &+ 1) >> 1
        let rowBytes = g.bandRowStride &* 2, pixelBytes = C &* 2
        let pairStride = K &* 4
        let wBase = packed + cb &* 4
        let b0 = load(bias), b1 = load(bias + 8)
        var x = 0
        while x &+ 4 <= W {
            var a0 = b0, a1 = b1, c0 = b0, c1 = b1, d0 = b0, d1 = b1, e0 = b0, e1 = b1
            for ky in 0..<kh {
                let r0 = band + (ky &* rowBytes &+ x &* pixelBytes), r1 = r0 + pixelBytes
                let r2 = r1 + pixelBytes, r3 = r2 + pixelBytes
                var wp = wBase + ky &* pairs &* pairStride
                var j = 0
                while j < pairs {
                    let w0 = load(wp), w1 = load(wp + 32)
                    let v0 = pair(r0, j), v1 = pair(r1, j), v2 = pair(r2, j), v3 = pair(r3, j)
                    a0 = madd(a0, w0, v0); a1 = madd(a1, w1, v0)
                    c0 = madd(c0, w0, v1); c1 = madd(c1, w1, v1)
                    d0 = madd(d0, w0, v2); d1 = madd(d1, w1, v2)
                    e0 = madd(e0, w0, v3); e1 = madd(e1, w1, v3)
                    wp += pairStride
                    j &+= 1
                }
            }
            poolMax2x8(best + Int(column[x]), a0, a1)
            poolMax2x8(best + Int(column[x &+ 1]), c0, c1)
            poolMax2x8(best + Int(column[x &+ 2]), d0, d1)
            poolMax2x8(best + Int(column[x &+ 3]), e0, e1)
            x &+= 4
        }
        while x < W {
            var a0 = b0, a1 = b1
            for ky in 0..<kh {
                let r0 = band + (ky &* rowBytes &+ x &* pixelBytes)
                var wp = wBase + ky &* pairs &* pairStride
                var j = 0
                while j < pairs {
                    let v0 = pair(r0, j)
                    a0 = madd(a0, load(wp), v0); a1 = madd(a1, load(wp + 32), v0)
                    wp += pairStride
                    j &+= 1
                }
            }
            poolMax2x8(best + Int(column[x]), a0, a1)
            x &+= 1
        }
    }

    /// best[0..<16] = max(best[...], acc), lane by lane (`vpmaxsd`), from two 8-lane accumulators.
    @inline(__always)
    static func poolMax2x8(_ best: UnsafeMutablePointer<Int32>, _ a0: __m256i, _ a1: __m256i) {
        let raw = UnsafeMutableRawPointer(best)
        raw.storeBytes(of: _mm256_max_epi32(raw.loadUnaligned(as: __m256i.self), a0), as: __m256i.self)
        raw.storeBytes(of: _mm256_max_epi32(raw.loadUnaligned(fromByteOffset: 32, as: __m256i.self), a1),
                       toByteOffset: 32, as: __m256i.self)
    }
}
#endif
