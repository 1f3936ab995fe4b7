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
    static var bandElementBytes: Int { 2 }

    static var tapGroup: Int { 1 }
    static var name: StaticString { "neon" }

    @inline(__always) static func load8(_ p: UnsafeRawPointer) -> int16x8_t { p.loadUnaligned(as: int16x8_t.self) }
    @inline(__always) static func load4(_ p: UnsafeRawPointer) -> int16x4_t { p.loadUnaligned(as: int16x4_t.self) }
    @inline(__always) static func load1(_ p: UnsafeRawPointer) -> Int16 { p.loadUnaligned(as: Int16.self) }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let W = g.width, C = g.channels, K = g.outputChannels, kh = g.kernelHeight
        let rowTaps = g.kernelWidth &* C, rt4 = rowTaps & ~3
        let rowBytes = g.bandRowStride &* 2, pixelBytes = C &* 2
        let tapStride = K &* 2  // bytes from one tap's weights to the next
        let rowWeights = rowTaps &* tapStride
        let wBase = packed + cb &* 2
        let braw = UnsafeRawPointer(bias)
        let b0 = braw.loadUnaligned(as: int32x4_t.self), b1 = braw.loadUnaligned(fromByteOffset: 16, as: int32x4_t.self)
        let b2 = braw.loadUnaligned(fromByteOffset: 32, as: int32x4_t.self)
        let b3 = braw.loadUnaligned(fromByteOffset: 48, as: int32x4_t.self)
        var x = 0
        while x &+ 4 <= W {
            var p00 = b0, p01 = b1, p02 = b2, p03 = b3
            var p10 = b0, p11 = b1, p12 = b2, p13 = b3
            var p20 = b0, p21 = b1, p22 = b2, p23 = b3
            var p30 = b0, p31 = b1, p32 = b2, p33 = b3
            for ky in 0..<kh {
                let r0 = band + (ky &* rowBytes &+ x &* pixelBytes)
                var wp = wBase + ky &* rowWeights
                var k = 0
                while k < rt4 {
                    let x0 = load4(r0 + k &* 2), x1 = load4(r0 + (pixelBytes &+ k &* 2))
                    let x2 = load4(r0 + (2 &* pixelBytes &+ k &* 2)), x3 = load4(r0 + (3 &* pixelBytes &+ k &* 2))
                    @inline(__always) func tap(_ i: Int, _ w: UnsafeRawPointer) {
                        let wa = load8(w), wb = load8(w + 16)
                        let la = vget_low_s16(wa), lb = vget_low_s16(wb)
                        p00 = vmlal_n_s16(p00, la, x0[i]); p01 = vmlal_high_n_s16(p01, wa, x0[i])
                        p02 = vmlal_n_s16(p02, lb, x0[i]); p03 = vmlal_high_n_s16(p03, wb, x0[i])
                        p10 = vmlal_n_s16(p10, la, x1[i]); p11 = vmlal_high_n_s16(p11, wa, x1[i])
                        p12 = vmlal_n_s16(p12, lb, x1[i]); p13 = vmlal_high_n_s16(p13, wb, x1[i])
                        p20 = vmlal_n_s16(p20, la, x2[i]); p21 = vmlal_high_n_s16(p21, wa, x2[i])
                        p22 = vmlal_n_s16(p22, lb, x2[i]); p23 = vmlal_high_n_s16(p23, wb, x2[i])
                        p30 = vmlal_n_s16(p30, la, x3[i]); p31 = vmlal_high_n_s16(p31, wa, x3[i])
                        p32 = vmlal_n_s16(p32, lb, x3[i]); p33 = vmlal_high_n_s16(p33, wb, x3[i])
                    }
                    tap(0, wp); tap(1, wp + tapStride); tap(2, wp + 2 &* tapStride); tap(3, wp + 3 &* tapStride)
                    wp += 4 &* tapStride
                    k &+= 4
                }
                while k < rowTaps {
                    let v0 = load1(r0 + k &* 2), v1 = load1(r0 + (pixelBytes &+ k &* 2))
                    let v2 = load1(r0 + (2 &* pixelBytes &+ k &* 2)), v3 = load1(r0 + (3 &* pixelBytes &+ k &* 2))
                    let wa = load8(wp), wb = load8(wp + 16)
                    let la = vget_low_s16(wa), lb = vget_low_s16(wb)
                    p00 = vmlal_n_s16(p00, la, v0); p01 = vmlal_high_n_s16(p01, wa, v0)
                    p02 = vmlal_n_s16(p02, lb, v0); p03 = vmlal_high_n_s16(p03, wb, v0)
                    p10 = vmlal_n_s16(p10, la, v1); p11 = vmlal_high_n_s16(p11, wa, v1)
                    p12 = vmlal_n_s16(p12, lb, v1); p13 = vmlal_high_n_s16(p13, wb, v1)
                    p20 = vmlal_n_s16(p20, la, v2); p21 = vmlal_high_n_s16(p21, wa, v2)
                    p22 = vmlal_n_s16(p22, lb, v2); p23 = vmlal_high_n_s16(p23, wb, v2)
                    p30 = vmlal_n_s16(p30, la, v3); p31 = vmlal_high_n_s16(p31, wa, v3)
                    p32 = vmlal_n_s16(p32, lb, v3); p33 = vmlal_high_n_s16(p33, wb, v3)
                    wp += tapStride
                    k &+= 1
                }
            }
            poolMax4x4(best + Int(column[x]), p00, p01, p02, p03)
            poolMax4x4(best + Int(column[x &+ 1]), p10, p11, p12, p13)
            poolMax4x4(best + Int(column[x &+ 2]), p20, p21, p22, p23)
            poolMax4x4(best + Int(column[x &+ 3]), p30, p31, p32, p33)
            x &+= 4
        }
        while x < W {
            var p00 = b0, p01 = b1, p02 = b2, p03 = b3
            for ky in 0..<kh {
                let r0 = band + (ky &* rowBytes &+ x &* pixelBytes)
                var wp = wBase + ky &* rowWeights
                var k = 0
                while k < rowTaps {  // one tap at a time (only the last W mod 4 pixels of a row come here)
                    let v0 = load1(r0 + k &* 2)
                    let wa = load8(wp), wb = load8(wp + 16)
                    p00 = vmlal_n_s16(p00, vget_low_s16(wa), v0); p01 = vmlal_high_n_s16(p01, wa, v0)
                    p02 = vmlal_n_s16(p02, vget_low_s16(wb), v0); p03 = vmlal_high_n_s16(p03, wb, v0)
                    wp += tapStride
                    k &+= 1
                }
            }
            poolMax4x4(best + Int(column[x]), p00, p01, p02, p03)
            x &+= 1
        }
    }

    /// best[0..<16] = max(best[...], acc), lane by lane (`smax`), from four 4-lane accumulators.
    @inline(__always)
    static func poolMax4x4(_ best: UnsafeMutablePointer<Int32>, _ a0: int32x4_t, _ a1: int32x4_t, _ a2: int32x4_t,
                           _ a3: int32x4_t) {
        let raw = UnsafeMutableRawPointer(best)
        raw.storeBytes(of: vmaxq_s32(raw.loadUnaligned(as: int32x4_t.self), a0), as: int32x4_t.self)
        raw.storeBytes(of: vmaxq_s32(raw.loadUnaligned(fromByteOffset: 16, as: int32x4_t.self), a1), toByteOffset: 16, as: int32x4_t.self)
        raw.storeBytes(of: vmaxq_s32(raw.loadUnaligned(fromByteOffset: 32, as: int32x4_t.self), a2), toByteOffset: 32, as: int32x4_t.self)
        raw.storeBytes(of: vmaxq_s32(raw.loadUnaligned(fromByteOffset: 48, as: int32x4_t.self), a3), toByteOffset: 48, as: int32x4_t.self)
    }
}
#endif
