// MaxPool2D with pool size = stride = p and TF/Keras 'same' padding.
//
// inp is (N,H,W,C), out is (N,Ho,Wo,C) with Ho = ceil(H/p). Total padding per axis is
// max((Ho-1)*p + p - H, 0): floor(total/2) before, the rest after. Padded cells never win the max
// (a window is the max over its in-range cells only). E.g. 65 -> 22 with p=3 pads 0 before, 1 after;
// 22 -> 6 with p=4 pads 1 before, 1 after; 23 -> 12 with p=2 pads 0 before, 1 after.

import CRNNRuntime

/// The output size and the padding placed before the first cell, for one axis: the int8 network's
/// `samePoolGeometry` (one definition of the geometry for the float and the int8 network).
public func samePooling(size: Int, pool: Int) -> (out: Int, padBefore: Int) {
    let g = samePoolGeometry(length: size, pool: pool)
    return (g.output, g.padBefore)
}

/// One window of an (N,H,W,C) -> (N,Ho,Wo,C) pooling: sample b, its in-range input rows y0..<y1 and columns
/// x0..<x1 (the 'same' padding cut off; never empty, as padding < pool), and o, the flat index of its first output.
struct PoolWindow {
    var b: Int, y0: Int, y1: Int, x0: Int, x1: Int, o: Int
}

/// Calls body for every pooling window (pool = stride, 'same' padding), samples split over the workers: the one
/// tiling the forward passes (vectorised and reference) and the backward pass walk.
@inline(__always)
func forEachPoolWindow(n: Int, h: Int, w: Int, c: Int, pool: Int, _ body: (PoolWindow) -> Void) {
    let (ho, padH) = samePooling(size: h, pool: pool)
    let (wo, padW) = samePooling(size: w, pool: pool)
    Parallel.forEachChunk(n) { _, range in
        for b in range {
            for oy in 0..<ho {
                let y0 = max(oy * pool - padH, 0), y1 = min(oy * pool - padH + pool, h)
                for ox in 0..<wo {
                    let x0 = max(ox * pool - padW, 0), x1 = min(ox * pool - padW + pool, w)
                    body(PoolWindow(b: b, y0: y0, y1: y1, x0: x0, x1: x1, o: ((b * ho + oy) * wo + ox) * c))
                }
            }
        }
    }
}

/// argmax[o] is the flat input index (within the whole batch) of the winner of output o.
/// Channels are innermost (contiguous), so the window scan runs on 8 channels at once; the
/// comparison is the same strict '>' in the same scan order as the scalar reference, so the
/// outputs and winners are identical.
/// With `reluFirst` it pools relu(inp) (ReLU fused in front: max(relu(v)) = relu(max(v))): a window
/// whose maximum is <= 0 outputs 0 and gets argmax -1 (no gradient), exactly what ReLU's backward
/// would have zeroed.
func maxPoolForward(out: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>, inp: UnsafePointer<Float>,
                    n: Int, h: Int, w: Int, c: Int, pool: Int, reluFirst: Bool = false) {
    if c % 8 != 0 {
        maxPoolForwardReference(out: out, argmax: argmax, inp: inp, n: n, h: h, w: w, c: c, pool: pool, reluFirst: reluFirst)
        return
    }
    typealias V = SIMD8<Float>
    typealias I = SIMD8<Int32>
    let lane = I(0, 1, 2, 3, 4, 5, 6, 7)
    let raw = UnsafeRawPointer(inp)
    forEachPoolWindow(n: n, h: h, w: w, c: c, pool: pool) { win in
        let b = win.b, o = win.o
        var ch = 0
        while ch < c {
            let first = ((b * h + win.y0) * w + win.x0) * c + ch
            var best = raw.loadUnaligned(fromByteOffset: first * 4, as: V.self)
            var bestIndex = I(repeating: Int32(first)) &+ lane
            for y in win.y0..<win.y1 {
                for x in win.x0..<win.x1 {
                    let i = ((b * h + y) * w + x) * c + ch
                    let v = raw.loadUnaligned(fromByteOffset: i * 4, as: V.self)
                    let m = v .> best
                    best.replace(with: v, where: m)
                    bestIndex.replace(with: I(repeating: Int32(i)) &+ lane, where: m)
                }
            }
            if reluFirst {
                let off = best .<= V(repeating: 0)
                best.replace(with: 0, where: off)
                bestIndex.replace(with: -1, where: off)
            }
            UnsafeMutableRawPointer(out + o + ch).storeBytes(of: best, as: V.self)
            UnsafeMutableRawPointer(argmax + o + ch).storeBytes(of: bestIndex, as: I.self)
            ch += 8
        }
    }
}

/// The scalar reference for maxPoolForward (one channel at a time); tests compare the two.
func maxPoolForwardReference(out: UnsafeMutablePointer<Float>, argmax: UnsafeMutablePointer<Int32>, inp: UnsafePointer<Float>,
                    n: Int, h: Int, w: Int, c: Int, pool: Int, reluFirst: Bool = false) {
    forEachPoolWindow(n: n, h: h, w: w, c: c, pool: pool) { win in
        let b = win.b, o = win.o
        for ch in 0..<c {
            // Every window holds at least one in-range cell (padding < pool).
            var bestIndex = ((b * h + win.y0) * w + win.x0) * c + ch
            var best = inp[bestIndex]
            for y in win.y0..<win.y1 {
                for x in win.x0..<win.x1 {
                    let i = ((b * h + y) * w + x) * c + ch
                    // Strict '>' keeps the first maximum in scan order.
                    if inp[i] > best { best = inp[i]; bestIndex = i }
                }
            }
            if reluFirst && !(best > 0) { best = 0; bestIndex = -1 }
            out[o + ch] = best
            argmax[o + ch] = Int32(bestIndex)
        }
    }
}

/// din (N,H,W,C) = 0 except din[argmax[o]] += dout[o] (argmax -1: no winner). The reference for
/// maxPoolBackwardWindows.
func maxPoolBackward(din: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
                     inCount: Int, outCount: Int) {
    din.update(repeating: 0, count: inCount)
    for o in 0..<outCount where argmax[o] >= 0 { din[Int(argmax[o])] += dout[o] }
}

/// The same as maxPoolBackward in one pass without a memset: with pool = stride and 'same' padding the
/// windows tile the input exactly (each input cell is in one window), so every cell is written once,
/// dout at its window's winner and 0 elsewhere; samples split over the workers, 8 channels at a time.
func maxPoolBackwardWindows(din: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
                            n: Int, h: Int, w: Int, c: Int, pool: Int) {
    typealias V = SIMD8<Float>
    typealias I = SIMD8<Int32>
    let lane = I(0, 1, 2, 3, 4, 5, 6, 7)
    forEachPoolWindow(n: n, h: h, w: w, c: c, pool: pool) { win in
        let o = win.o
        for y in win.y0..<win.y1 {
            for x in win.x0..<win.x1 {
                let i = ((win.b * h + y) * w + x) * c
                var ch = 0
                if c % 8 == 0 {
                    while ch < c {
                        let a = UnsafeRawPointer(argmax + o + ch).loadUnaligned(as: I.self)
                        let d = UnsafeRawPointer(dout + o + ch).loadUnaligned(as: V.self)
                        let hit = a .== (I(repeating: Int32(i + ch)) &+ lane)
                        UnsafeMutableRawPointer(din + i + ch).storeBytes(
                            of: V(repeating: 0).replacing(with: d, where: hit), as: V.self)
                        ch += 8
                    }
                }
                while ch < c {
                    din[i + ch] = argmax[o + ch] == Int32(i + ch) ? dout[o + ch] : 0
                    ch += 1
                }
            }
        }
    }
}

public final class MaxPool2D: Layer {
    public let name: String
    public var kindName: String { "MaxPooling2D" }
    public let pool: Int
    private var argmax: [Int32] = []
    private var inShape: [Int] = []
    /// Whether the last forward pooled relu(x) (forwardAfterReLU): then backward returns the
    /// gradient with respect to the ReLU's input, and the ReLU layer is skipped (Model does this).
    public private(set) var lastForwardFusedReLU = false

    public init(name: String, pool: Int) {
        self.name = name
        self.pool = pool
    }

    public var parameters: [Parameter] { [] }

    public func outputShape(for s: [Int]) -> [Int] {
        [samePooling(size: s[0], pool: pool).out, samePooling(size: s[1], pool: pool).out, s[2]]
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor { pool(x, reluFirst: false) }

    /// forward(relu(x)) without materialising relu(x); backward then gives d/dx through the ReLU too.
    public func forwardAfterReLU(_ x: Tensor) -> Tensor { pool(x, reluFirst: true) }

    private func pool(_ x: Tensor, reluFirst: Bool) -> Tensor {
        lastForwardFusedReLU = reluFirst
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(x.count < Int(Int32.max), "\(name): batch too large for Int32 argmax indices")
        inShape = x.shape
        let os = [n] + outputShape(for: [h, w, c])
        let count = os.reduce(1, *)
        var y = [Float](unsafeUninitializedCapacity: count) { _, k in k = count }
        if argmax.count != count { argmax = [Int32](repeating: 0, count: count) }   // every entry is overwritten
        x.data.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                argmax.withUnsafeMutableBufferPointer { ap in
                    maxPoolForward(out: yp.baseAddress!, argmax: ap.baseAddress!, inp: xp.baseAddress!,
                                   n: n, h: h, w: w, c: c, pool: pool, reluFirst: reluFirst)
                }
            }
        }
        return Tensor(shape: os, data: y)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let inCount = inShape.reduce(1, *)
        let (n, h, w, c) = (inShape[0], inShape[1], inShape[2], inShape[3])
        var dx = [Float](unsafeUninitializedCapacity: inCount) { _, k in k = inCount }   // every cell is written
        dy.data.withUnsafeBufferPointer { dp in
            argmax.withUnsafeBufferPointer { ap in
                dx.withUnsafeMutableBufferPointer { dxp in
                    maxPoolBackwardWindows(din: dxp.baseAddress!, dout: dp.baseAddress!, argmax: ap.baseAddress!,
                                           n: n, h: h, w: w, c: c, pool: pool)
                }
            }
        }
        return Tensor(shape: inShape, data: dx)
    }
}
