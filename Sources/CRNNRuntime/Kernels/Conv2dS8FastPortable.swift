// Conv2dMicroKernelPortable: the fast convolution's micro-kernel in plain Swift SIMD, for any CPU (armv7, the
// microcontrollers, and any build that names no variant). Weights packed [kh][kw][Cin][Cout] int8, so that one
// input value, broadcast, multiplies 16 consecutive output channels (SIMD16<Int32>); four horizontally adjacent
// output pixels share each weight load. With a named CPU LLVM vectorizes it well (x86: vpmulld; aarch64:
// sshll + smlal); on the x86-64 baseline (SSE2, no 32-bit packed multiply) it is slow: see the SSE2 variant.

enum Conv2dMicroKernelPortable: Conv2dMicroKernel {
    static var bandElementBytes: Int { 1 }

    static var tapGroup: Int { 1 }  // packed[t * Cout + co] = w[co][t], t = (ky * kw + kx) * Cin + ci
    static var name: StaticString { "portable" }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let W = g.width, C = g.channels, K = g.outputChannels, kh = g.kernelHeight, PWC = g.bandRowStride
        let padded = band.assumingMemoryBound(to: Int8.self)
        let wts = packed.assumingMemoryBound(to: Int8.self) + cb
        let bias16 = UnsafeRawPointer(bias).loadUnaligned(as: SIMD16<Int32>.self)
        if C == 1 && kh == 3 && g.kernelWidth == 3 {
            conv2dFastRow1x3x3(padded, PWC, W, wts, K, bias16, best, column)
            return
        }
        @inline(__always) func wv(_ w: UnsafeRawPointer) -> SIMD16<Int32> { widen16(w.loadUnaligned(as: SIMD16<Int8>.self)) }
        @inline(__always) func b(_ r: UnsafeRawPointer, _ i: Int) -> SIMD16<Int32> {
            SIMD16<Int32>(repeating: Int32(r.load(fromByteOffset: i, as: Int8.self)))
        }
        let taps = tapLoop(g, packed: packed, cb: cb)
        conv2dRowPixels(width: W, bias: bias16, best: best, column: column, four: { a0, a1, a2, a3, x in
            taps.run(band + x &* C) { r, w in  // four pixels share each weight load
                let wk = wv(w)
                a0 &+= wk &* b(r, 0); a1 &+= wk &* b(r, C); a2 &+= wk &* b(r, 2 &* C); a3 &+= wk &* b(r, 3 &* C)
            }
        }, one: { a0, x in
            taps.run(band + x &* C) { r, w in a0 &+= wv(w) &* b(r, 0) }
        })
    }
}

/// One input channel, 3 x 3 kernel (the first layer): the 9 weight vectors of a 16-channel block stay in
/// registers for the whole row; each output pixel is 9 broadcast multiply-adds. `rows` points at padded row y
/// (rows y, y + 1, y + 2 of the padded image are the kernel's rows), `wts` at packed[0][cb].
@inline(__always)
func conv2dFastRow1x3x3(_ rows: UnsafePointer<Int8>, _ PWC: Int, _ W: Int, _ wts: UnsafePointer<Int8>, _ K: Int,
                        _ bias16: SIMD16<Int32>, _ best: UnsafeMutablePointer<Int32>, _ column: UnsafePointer<Int32>) {
    @inline(__always) func wv(_ t: Int) -> SIMD16<Int32> {
        widen16(UnsafeRawPointer(wts + t &* K).loadUnaligned(as: SIMD16<Int8>.self))
    }
    let w0 = wv(0), w1 = wv(1), w2 = wv(2), w3 = wv(3), w4 = wv(4), w5 = wv(5), w6 = wv(6), w7 = wv(7), w8 = wv(8)
    let r0 = rows, r1 = rows + PWC, r2 = rows + 2 &* PWC
    @inline(__always) func b(_ v: Int8) -> SIMD16<Int32> { SIMD16<Int32>(repeating: Int32(v)) }
    var x = 0
    while x < W {
        var a = bias16
        a &+= w0 &* b(r0[x]); a &+= w1 &* b(r0[x &+ 1]); a &+= w2 &* b(r0[x &+ 2])
        a &+= w3 &* b(r1[x]); a &+= w4 &* b(r1[x &+ 1]); a &+= w5 &* b(r1[x &+ 2])
        a &+= w6 &* b(r2[x]); a &+= w7 &* b(r2[x &+ 1]); a &+= w8 &* b(r2[x &+ 2])
        poolMax(best, column[x], a)
        x &+= 1
    }
}

/// Sign-extends 16 int8 lanes (written lane by lane: the generic SIMD conversion initializer is not inlined).
@inline(__always)
func widen16(_ v: SIMD16<Int8>) -> SIMD16<Int32> {
    var r = SIMD16<Int32>()
    for i in 0..<16 { r[i] = Int32(v[i]) }
    return r
}

/// The portable variant's accumulators: one SIMD16<Int32>, folded by the driver's `poolMax`.
extension SIMD16: Conv2dPixelAccumulator where Scalar == Int32 {
    @inline(__always) func poolMax(_ best: UnsafeMutablePointer<Int32>) { conv2dPoolMax16(best, self) }
}

@inline(__always) private func conv2dPoolMax16(_ best: UnsafeMutablePointer<Int32>, _ acc: SIMD16<Int32>) {
    poolMax(best, 0, acc)
}
