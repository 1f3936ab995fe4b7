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
// kw * Cin mod 4 taps of a row go one at a time, and nothing past a band row's used part or a kernel row is read;
// except for kernel rows of exactly 3 taps and kh 1 or 3 (a one-channel 3 x 3 layer: cnn-gru's first conv,
// `rowThreeTaps`), where each kernel row is one quad whose fourth weight is 0: its halves (w0, w2) and (w1, 0)
// are made once per group of 4 channels, and the band word's fourth byte, read past the row's used part (the band
// has 4 bytes of slack after its end), meets that 0.
//
// Exactness: every product is of two sign-extended int8 (|p| <= 2^14), summed modulo 2^32 (`smlad` wraps; it only
// sets the sticky Q flag, which nothing reads): the same Int32 sums as the reference (file comment of
// Conv2dS8Fast.swift, point 1). firmware-sim's Cortex-M image checks it against `conv2dS8` on the device.

#if CRNN_CONV_SMLAD && arch(arm)
import _Builtin_intrinsics.arm.acle

enum Conv2dMicroKernelSMLAD: Conv2dMicroKernel {
    static var bandElementBytes: Int { 1 }

    static var tapGroup: Int { 0 }  // no packed copy: `row` reads the OHWI weights in place
    /// `rowThreeTaps` reads one byte past a band row's used part, up to one past the band's end.
    static var bandSlackBytes: Int { 4 }
    static var name: StaticString { "smlad" }

    /// The two sign-extended int8 of bytes 0 and 2 of `v` as halfwords.
    @inline(__always) static func even(_ v: UInt32) -> Int32 { __sxtb16(Int32(bitPattern: v)) }
    /// The two sign-extended int8 of bytes 1 and 3 of `v` as halfwords (`sxtb16` with `ror #8`).
    @inline(__always) static func odd(_ v: UInt32) -> Int32 { __sxtb16(Int32(bitPattern: __ror(v, 8))) }
    /// Two int8 as the sign-extended halfwords (lo, hi) of one word: the form `even` and `odd` give a band word.
    @inline(__always) static func halves(_ lo: Int8, _ hi: Int8) -> Int32 {
        Int32(bitPattern: UInt32(UInt16(bitPattern: Int16(lo))) | UInt32(UInt16(bitPattern: Int16(hi))) << 16)
    }

    /// The whole quads of one kernel row of one pixel, four channels (the weights of channel i at `wr + i t`).
    @inline(__always)
    static func fullQuads(_ row: UnsafePointer<Int8>, _ wr: UnsafeRawPointer, _ full: Int, _ t: Int,
                          _ a0: inout Int32, _ a1: inout Int32, _ a2: inout Int32, _ a3: inout Int32) {
        var q = 0
        while q < full {
            let o = q &* 4
            let xv = UnsafeRawPointer(row + o).loadUnaligned(as: UInt32.self)
            let xe = even(xv), xo = odd(xv)
            let w0 = wr.loadUnaligned(fromByteOffset: o, as: UInt32.self)
            let w1 = wr.loadUnaligned(fromByteOffset: o &+ t, as: UInt32.self)
            let w2 = wr.loadUnaligned(fromByteOffset: o &+ 2 &* t, as: UInt32.self)
            let w3 = wr.loadUnaligned(fromByteOffset: o &+ 3 &* t, as: UInt32.self)
            a0 = __smlad(odd(w0), xo, __smlad(even(w0), xe, a0))
            a1 = __smlad(odd(w1), xo, __smlad(even(w1), xe, a1))
            a2 = __smlad(odd(w2), xo, __smlad(even(w2), xe, a2))
            a3 = __smlad(odd(w3), xo, __smlad(even(w3), xe, a3))
            q &+= 1
        }
    }

    /// The pool maximum of four channels' accumulators (`poolMax`'s fold).
    @inline(__always)
    static func fold(_ out: UnsafeMutablePointer<Int32>, _ a0: Int32, _ a1: Int32, _ a2: Int32, _ a3: Int32) {
        if a0 > out[0] { out[0] = a0 }
        if a1 > out[1] { out[1] = a1 }
        if a2 > out[2] { out[2] = a2 }
        if a3 > out[3] { out[3] = a3 }
    }

    /// `packed`: the OHWI int8 weights (see the file's comment).
    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let W = g.width, C = g.channels, kh = g.kernelHeight, PWC = g.bandRowStride
        let rowTaps = g.kernelWidth &* C, full = rowTaps >> 2, taps = kh &* rowTaps
        if rowTaps == 3 && kh <= 3 {
            rowThreeTaps(g, band: band, weights: packed, cb: cb, bias: bias, best: best, column: column)
            return
        }
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
                    fullQuads(row, wr, full, taps, &a0, &a1, &a2, &a3)
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
                fold(best + (Int(column[x]) &+ g4), a0, a1, a2, a3)
            }
            g4 &+= 4
        }
    }

    /// `row` for kernel rows of 3 taps and kh 1 or 3: each kernel row as one quad with a zero fourth weight (the
    /// file's comment), whose weight halves are made once per group of 4 channels: per kernel row, lanes 2 c and
    /// 2 c + 1 hold channel c's (w0, w2) and (w1, 0). Kernel rows are written out (kh is 1 or 3) so that every lane
    /// index is a constant.
    static func rowThreeTaps(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, weights: UnsafeRawPointer, cb: Int,
                                  bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>,
                                  column: UnsafePointer<Int32>) {
        let W = g.width, C = g.channels, kh = g.kernelHeight, PWC = g.bandRowStride
        let taps = kh &* 3
        let x8 = band.assumingMemoryBound(to: Int8.self)
        var g4 = 0
        while g4 < 16 {
            let b0 = bias[g4], b1 = bias[g4 &+ 1], b2 = bias[g4 &+ 2], b3 = bias[g4 &+ 3]
            let filter = weights + (cb &+ g4) &* taps
            @inline(__always) func lastQuad(_ ky: Int) -> SIMD8<Int32> {
                var r = SIMD8<Int32>()
                if ky >= kh { return r }
                let f8 = filter.assumingMemoryBound(to: Int8.self) + ky &* 3
                r[0] = halves(f8[0], f8[2]); r[1] = halves(f8[1], 0)
                r[2] = halves(f8[taps], f8[taps &+ 2]); r[3] = halves(f8[taps &+ 1], 0)
                r[4] = halves(f8[2 &* taps], f8[2 &* taps &+ 2]); r[5] = halves(f8[2 &* taps &+ 1], 0)
                r[6] = halves(f8[3 &* taps], f8[3 &* taps &+ 2]); r[7] = halves(f8[3 &* taps &+ 1], 0)
                return r
            }
            let r0 = lastQuad(0), r1 = lastQuad(1), r2 = lastQuad(2)
            for x in 0..<W {
                var a0 = b0, a1 = b1, a2 = b2, a3 = b3
                @inline(__always) func kernelRow(_ ky: Int, _ r: SIMD8<Int32>) {
                    let xv = UnsafeRawPointer(x8 + (ky &* PWC &+ x &* C)).loadUnaligned(as: UInt32.self)
                    let xe = even(xv), xo = odd(xv)
                    a0 = __smlad(r[1], xo, __smlad(r[0], xe, a0))
                    a1 = __smlad(r[3], xo, __smlad(r[2], xe, a1))
                    a2 = __smlad(r[5], xo, __smlad(r[4], xe, a2))
                    a3 = __smlad(r[7], xo, __smlad(r[6], xe, a3))
                }
                kernelRow(0, r0)
                if kh == 3 { kernelRow(1, r1); kernelRow(2, r2) }
                fold(best + (Int(column[x]) &+ g4), a0, a1, a2, a3)
            }
            g4 &+= 4
        }
    }
}
#endif
