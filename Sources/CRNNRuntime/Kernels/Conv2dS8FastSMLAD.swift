// Conv2dMicroKernelSMLAD: the fast convolution's micro-kernel for Cortex-M4/M7 (Armv7E-M with the DSP extension),
// built on `smlad` (two signed 16 x 16 products added to an Int32 in one instruction) and `sxtb16` (sign-extends
// bytes 0 and 2 of a word, optionally rotated, into two halfwords). Picked with `-D CRNN_CONV_SMLAD` on 32-bit Arm
// (Conv2dS8FastSelect.swift); the bare-metal Cortex-M image of firmware-sim builds with it.
//
// Layout: the band is the int8 input (bandElementBytes 1). The weights stay int8 (no RAM cost over the portable
// kernel beyond padding), packed per kernel row in quads of 4 consecutive taps, one 32-bit word per channel:
//     packed[ky][q][co][j] = w[co, ky, tap 4q + j]   (j < 4; 0 for taps at or past kw * Cin)
// Per output pixel and group of 4 channels, per quad: one word of band values x0..x3, split by `sxtb16` into
// (x0, x2) and (x1, x3); each channel's weight word split the same way; two `smlad` add w0 x0 + w2 x2 and
// w1 x1 + w3 x3. The last kw * Cin mod 4 taps of a row (all 3 of a one-channel 3 x 3 layer) go one at a time,
// so nothing past a band row's used part is read.
//
// Exactness: every product is of two sign-extended int8 (|p| <= 2^14), summed modulo 2^32 (`smlad` wraps; it only
// sets the sticky Q flag, which nothing reads): the same Int32 sums as the reference (file comment of
// Conv2dS8Fast.swift, point 1). firmware-sim's Cortex-M image checks it against `conv2dS8` on the device.

#if CRNN_CONV_SMLAD && arch(arm)
import _Builtin_intrinsics.arm.acle

enum Conv2dMicroKernelSMLAD: Conv2dMicroKernel {
    static var bandElementBytes: Int { 1 }

    /// Quads of taps per kernel row (the last one zero-padded).
    @inline(__always) static func quads(_ rowTaps: Int) -> Int { (rowTaps &+ 3) >> 2 }

    static var tapGroup: Int { 4 }

    /// The two sign-extended int8 of bytes 0 and 2 of `v` as halfwords.
    @inline(__always) static func even(_ v: UInt32) -> Int32 { __sxtb16(Int32(bitPattern: v)) }
    /// The two sign-extended int8 of bytes 1 and 3 of `v` as halfwords (`sxtb16` with `ror #8`).
    @inline(__always) static func odd(_ v: UInt32) -> Int32 { __sxtb16(Int32(bitPattern: __ror(v, 8))) }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let W = g.width, C = g.channels, K = g.outputChannels, kh = g.kernelHeight, PWC = g.bandRowStride
        let rowTaps = g.kernelWidth &* C, Q = quads(rowTaps), full = rowTaps >> 2
        let x8 = band.assumingMemoryBound(to: Int8.self)
        let words = packed.assumingMemoryBound(to: UInt32.self)
        var g4 = 0
        while g4 < 16 {
            let b0 = bias[g4], b1 = bias[g4 &+ 1], b2 = bias[g4 &+ 2], b3 = bias[g4 &+ 3]
            let wBase = words + (cb &+ g4)
            for x in 0..<W {
                var a0 = b0, a1 = b1, a2 = b2, a3 = b3
                for ky in 0..<kh {
                    let row = x8 + (ky &* PWC &+ x &* C)
                    var wp = wBase + (ky &* Q) &* K
                    var q = 0
                    while q < full {
                        let xv = UnsafeRawPointer(row + q &* 4).loadUnaligned(as: UInt32.self)
                        let xe = even(xv), xo = odd(xv)
                        let w0 = wp[0], w1 = wp[1], w2 = wp[2], w3 = wp[3]
                        a0 = __smlad(odd(w0), xo, __smlad(even(w0), xe, a0))
                        a1 = __smlad(odd(w1), xo, __smlad(even(w1), xe, a1))
                        a2 = __smlad(odd(w2), xo, __smlad(even(w2), xe, a2))
                        a3 = __smlad(odd(w3), xo, __smlad(even(w3), xe, a3))
                        wp += K
                        q &+= 1
                    }
                    if full < Q {  // the last rowTaps mod 4 taps, one at a time, from the zero-padded quad
                        let wb = UnsafeRawPointer(wp).assumingMemoryBound(to: Int8.self)
                        var k = full &* 4
                        while k < rowTaps {
                            let v = Int32(row[k]), j = k & 3
                            a0 = a0 &+ v &* Int32(wb[j]); a1 = a1 &+ v &* Int32(wb[4 &+ j])
                            a2 = a2 &+ v &* Int32(wb[8 &+ j]); a3 = a3 &+ v &* Int32(wb[12 &+ j])
                            k &+= 1
                        }
                    }
                }
                let out = best + (Int(column[x]) &+ g4)
                if a0 > out[0] { out[0] = a0 }
                if a1 > out[1] { out[1] = a1 }
                if a2 > out[2] { out[2] = a2 }
                if a3 > out[3] { out[3] = a3 }
            }
            g4 &+= 4
        }
    }
}
#endif
