// Conv2dMicroKernelSMLAD: the fast convolution's micro-kernel for Cortex-M4/M7 (Armv7E-M with the DSP extension),
// built on `smlad` (two signed 16 x 16 products added to an Int32 in one instruction) and `sxtb16` (sign-extends
// bytes 0 and 2 of a word, optionally rotated, into two halfwords). Picked with `-D CRNN_CONV_SMLAD` on 32-bit Arm
// (Conv2dS8FastSelect.swift); the bare-metal Cortex-M image of firmware-sim builds with it.
//
// Layout: the band is the int8 input (bandElementBytes 1). The weights are read in place, in the model's OHWI
// order (tapGroup 0: no RAM for packed weights; the driver passes the weights as `packed`): channel co's
// kernel row ky is the rowTaps = kw * Cin consecutive bytes at co * taps + ky * rowTaps (taps = kh * rowTaps).
// Per output pixel and group of 4 channels, per quad of 4 consecutive taps: one word of band values x0..x3, split
// by `sxtb16` into (x0, x2) and (x1, x3); each channel's word of the same 4 taps (little-endian bytes, so the same
// word a packed layout would hold) split the same way; two `smlad` add w0 x0 + w2 x2 and w1 x1 + w3 x3. The last
// kw * Cin mod 4 taps of a row (all 3 of a one-channel 3 x 3 layer) go one at a time, so nothing past a band
// row's used part or a kernel row is read.
//
// Exactness: every product is of two sign-extended int8 (|p| <= 2^14), summed modulo 2^32 (`smlad` wraps; it only
// sets the sticky Q flag, which nothing reads): the same Int32 sums as the reference (file comment of
// Conv2dS8Fast.swift, point 1). firmware-sim's Cortex-M image checks it against `conv2dS8` on the device.

#if CRNN_CONV_SMLAD && arch(arm)
import _Builtin_intrinsics.arm.acle

enum Conv2dMicroKernelSMLAD: Conv2dMicroKernel {
    static var bandElementBytes: Int { 1 }

    static var tapGroup: Int { 0 }  // no packed copy: `row` reads the OHWI weights in place
    static var name: StaticString { "smlad" }

    /// The two sign-extended int8 of bytes 0 and 2 of `v` as halfwords.
    @inline(__always) static func even(_ v: UInt32) -> Int32 { __sxtb16(Int32(bitPattern: v)) }
    /// The two sign-extended int8 of bytes 1 and 3 of `v` as halfwords (`sxtb16` with `ror #8`).
    @inline(__always) static func odd(_ v: UInt32) -> Int32 { __sxtb16(Int32(bitPattern: __ror(v, 8))) }

    /// `packed`: the OHWI int8 weights (see the file's comment).
    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let W = g.width, C = g.channels, kh = g.kernelHeight, PWC = g.bandRowStride
        let rowTaps = g.kernelWidth &* C, full = rowTaps >> 2, taps = kh &* rowTaps
        let x8 = band.assumingMemoryBound(to: Int8.self)
        let t1 = taps, t2 = 2 &* taps, t3 = 3 &* taps
        var g4 = 0
        while g4 < 16 {
            let b0 = bias[g4], b1 = bias[g4 &+ 1], b2 = bias[g4 &+ 2], b3 = bias[g4 &+ 3]
            let filter = packed + (cb &+ g4) &* taps  // channel cb + g4; the next three follow every `taps` bytes
            for x in 0..<W {
                var a0 = b0, a1 = b1, a2 = b2, a3 = b3
                for ky in 0..<kh {
                    let row = x8 + (ky &* PWC &+ x &* C)
                    let wr = filter + ky &* rowTaps
                    var q = 0
                    while q < full {
                        let o = q &* 4
                        let xv = UnsafeRawPointer(row + o).loadUnaligned(as: UInt32.self)
                        let xe = even(xv), xo = odd(xv)
                        let w0 = wr.loadUnaligned(fromByteOffset: o, as: UInt32.self)
                        let w1 = wr.loadUnaligned(fromByteOffset: o &+ t1, as: UInt32.self)
                        let w2 = wr.loadUnaligned(fromByteOffset: o &+ t2, as: UInt32.self)
                        let w3 = wr.loadUnaligned(fromByteOffset: o &+ t3, as: UInt32.self)
                        a0 = __smlad(odd(w0), xo, __smlad(even(w0), xe, a0))
                        a1 = __smlad(odd(w1), xo, __smlad(even(w1), xe, a1))
                        a2 = __smlad(odd(w2), xo, __smlad(even(w2), xe, a2))
                        a3 = __smlad(odd(w3), xo, __smlad(even(w3), xe, a3))
                        q &+= 1
                    }
                    if full &* 4 < rowTaps {  // the last rowTaps mod 4 taps, one at a time
                        let wb = wr.assumingMemoryBound(to: Int8.self)
                        var k = full &* 4
                        while k < rowTaps {
                            let v = Int32(row[k])
                            a0 = a0 &+ v &* Int32(wb[k]); a1 = a1 &+ v &* Int32(wb[t1 &+ k])
                            a2 = a2 &+ v &* Int32(wb[t2 &+ k]); a3 = a3 &+ v &* Int32(wb[t3 &+ k])
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
