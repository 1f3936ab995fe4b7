// Conv2dMicroKernelNEON: the fast convolution's micro-kernel for aarch64 (NEON is part of the baseline of every
// aarch64 CPU: Pi 3/4/5), built on `smlal`/`smlal2` by element (`vmlal_n_s16` / `vmlal_high_n_s16` of a lane:
// 4 int16 products accumulated into 4 Int32 lanes), the structure of XNNPACK's qs8 `neon-mlal-lane` kernels.
//
// Layout: the band is Int16 (the driver sign-extends the input once per row); the weights are packed as Int16
//     packed[ky][k][co] = w[co, ky, tap k]   (k < kw * Cin)
// Per pass: 4 output pixels x 16 channels (16 accumulators); per group of 4 taps, each pixel's 4 band values are
// one 64-bit load, each weight vector (8 channels) one 128-bit load shared by the 4 pixels, and every
// multiply-add takes its input from a lane (no broadcast instructions). The last kw * Cin mod 4 taps of a row
// (all 3 of a one-channel 3 x 3 layer) go one at a time, each band value loaded into a lane.
//
// Exactness: operands are sign-extended int8, each product at most 2^14 in magnitude, accumulated in Int32 with
// wrapping adds: the same Int32 sums as the reference (file comment of Conv2dS8Fast.swift, point 1).

#if arch(arm64)
import _Builtin_intrinsics.arm.neon

enum Conv2dMicroKernelNEON: Conv2dMicroKernel {
    typealias Epilogue = Conv2dEpilogueNEON  // every step of the requantization in NEON (its file)

    static var bandElementBytes: Int { 2 }

    static var tapGroup: Int { 1 }
    static var name: StaticString { "neon" }

    @inline(__always) static func load8(_ p: UnsafeRawPointer) -> int16x8_t { p.loadUnaligned(as: int16x8_t.self) }
    @inline(__always) static func load4(_ p: UnsafeRawPointer) -> int16x4_t { p.loadUnaligned(as: int16x4_t.self) }
    @inline(__always) static func load1(_ p: UnsafeRawPointer) -> Int16 { p.loadUnaligned(as: Int16.self) }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let pixelBytes = g.channels &* 2, tapStride = g.outputChannels &* 2  // bytes from one tap's weights to the next
        let taps = tapLoop(g, packed: packed, cb: cb), (quads, rest) = taps.split(by: 4)
        conv2dRowPixels(width: g.width, bias: Conv2dAccNEON(bias), best: best, column: column, four: { p0, p1, p2, p3, x in
            let r = band + x &* pixelBytes
            quads.run(r) { r0, wp in
                let x0 = load4(r0), x1 = load4(r0 + pixelBytes)
                let x2 = load4(r0 + 2 &* pixelBytes), x3 = load4(r0 + 3 &* pixelBytes)
                @inline(__always) func tap(_ i: Int, _ w: UnsafeRawPointer) {
                    let wv = Weights(w)
                    p0.mlal(wv, x0[i]); p1.mlal(wv, x1[i]); p2.mlal(wv, x2[i]); p3.mlal(wv, x3[i])
                }
                tap(0, wp); tap(1, wp + tapStride); tap(2, wp + 2 &* tapStride); tap(3, wp + 3 &* tapStride)
            }
            // The last rowTaps mod 4 taps of each kernel row, one at a time, each band value loaded into a lane.
            rest.run(r) { r0, wp in
                let wv = Weights(wp)
                p0.mlal(wv, load1(r0)); p1.mlal(wv, load1(r0 + pixelBytes))
                p2.mlal(wv, load1(r0 + 2 &* pixelBytes)); p3.mlal(wv, load1(r0 + 3 &* pixelBytes))
            }
        }, one: { p0, x in  // the last W mod 4 pixels of a row, one tap at a time
            taps.run(band + x &* pixelBytes) { r0, wp in p0.mlal(Weights(wp), load1(r0)) }
        })
    }

    /// One tap's Int16 weights of the 16 channels: channels 0..7 in `a`, 8..15 in `b`.
    struct Weights {
        let a: int16x8_t, b: int16x8_t
        @inline(__always) init(_ p: UnsafeRawPointer) { a = load8(p); b = load8(p + 16) }
    }
}

/// The 16 Int32 accumulators of one output pixel (channels 0..3 in c0, ..., 12..15 in c3), shared by the aarch64
/// variants (NEON, DotProd).
struct Conv2dAccNEON: Conv2dPixelAccumulator {
    var c0: int32x4_t, c1: int32x4_t, c2: int32x4_t, c3: int32x4_t

    /// The 16 Int32 at `bias`.
    @inline(__always) init(_ bias: UnsafePointer<Int32>) {
        let raw = UnsafeRawPointer(bias)
        c0 = raw.loadUnaligned(as: int32x4_t.self); c1 = raw.loadUnaligned(fromByteOffset: 16, as: int32x4_t.self)
        c2 = raw.loadUnaligned(fromByteOffset: 32, as: int32x4_t.self); c3 = raw.loadUnaligned(fromByteOffset: 48, as: int32x4_t.self)
    }

    /// acc += w * v, channel by channel (`smlal`/`smlal2` by element).
    @inline(__always) mutating func mlal(_ w: Conv2dMicroKernelNEON.Weights, _ v: Int16) {
        c0 = vmlal_n_s16(c0, vget_low_s16(w.a), v); c1 = vmlal_high_n_s16(c1, w.a, v)
        c2 = vmlal_n_s16(c2, vget_low_s16(w.b), v); c3 = vmlal_high_n_s16(c3, w.b, v)
    }

    /// best[0..<16] = max(best[...], acc), lane by lane (`smax`).
    @inline(__always)
    func poolMax(_ best: UnsafeMutablePointer<Int32>) {
        let raw = UnsafeMutableRawPointer(best)
        raw.storeBytes(of: vmaxq_s32(raw.loadUnaligned(as: int32x4_t.self), c0), as: int32x4_t.self)
        raw.storeBytes(of: vmaxq_s32(raw.loadUnaligned(fromByteOffset: 16, as: int32x4_t.self), c1), toByteOffset: 16, as: int32x4_t.self)
        raw.storeBytes(of: vmaxq_s32(raw.loadUnaligned(fromByteOffset: 32, as: int32x4_t.self), c2), toByteOffset: 32, as: int32x4_t.self)
        raw.storeBytes(of: vmaxq_s32(raw.loadUnaligned(fromByteOffset: 48, as: int32x4_t.self), c3), toByteOffset: 48, as: int32x4_t.self)
    }
}
#endif
