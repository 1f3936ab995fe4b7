import Foundation
import XCTest
@testable import CRNNRuntime

/// Each kernel on small hand-checkable cases, then against a Double reference written here. The Double
/// reference uses the same (dequantized) int8 operands, so the only admissible difference is the final
/// rounding to the output grid: |q - y| <= 0.5 LSB (plus 1e-6 for the Q31 representation of the multiplier).
final class KernelTests: XCTestCase {
    // MARK: conv2dS8

    func conv(_ p: Conv2dS8Params, _ x: [Int8], _ w: [Int8], _ b: [Int32], _ m: [Int32], _ s: [Int32]) -> [Int8] {
        runRequantKernel(x, w, b, m, s, count: p.outputCount, fill: 99) {
            conv2dS8(p, input: $0, weights: $1, bias: $2, requant: $3, output: $4, scratch: noScratch)
        }
    }

    func testConvHandChecked() {
        // Doc example: 1x1 input 5, centre weight 2, bias 1, x0.5 -> round(5.5) = 6.
        var p = Conv2dS8Params(inputHeight: 1, inputWidth: 1, inputChannels: 1, outputChannels: 1,
                               inputZeroPoint: 0, outputZeroPoint: 0)
        XCTAssertEqual(conv(p, [5], [0, 0, 0, 0, 2, 0, 0, 0, 0], [1], [1 << 30], [0]), [6])
        // 3x3 ones, all-ones kernel, zero point 1 for the input (so the real input is 2 everywhere), scale 1.0:
        // corners see 4 cells, edges 6, centre 9 (padding contributes nothing), times 2.
        p = Conv2dS8Params(inputHeight: 3, inputWidth: 3, inputChannels: 1, outputChannels: 1,
                           inputZeroPoint: 1, outputZeroPoint: -3)
        let ones = [Int8](repeating: 1, count: 9)
        XCTAssertEqual(conv(p, [Int8](repeating: 3, count: 9), ones, [0], [1 << 30], [1]),
                       [5, 9, 5, 9, 15, 9, 5, 9, 5])
        // Fused ReLU: activationMin = outputZeroPoint clamps negatives.
        p.activationMin = -3
        XCTAssertEqual(conv(p, [Int8](repeating: -1, count: 9), ones, [0], [1 << 30], [1]),
                       [-3, -3, -3, -3, -3, -3, -3, -3, -3])
        // Fused pool 2x2 on the 3x3 result [5 9 5 / 9 15 9 / 5 9 5]: padding 1 after -> [15 9 / 9 5].
        p.activationMin = -128; p.poolHeight = 2; p.poolWidth = 2
        XCTAssertEqual(conv(p, [Int8](repeating: 3, count: 9), ones, [0], [1 << 30], [1]), [15, 9, 9, 5])
    }

    func testConvAgainstDoubleReferenceWithFusedPool() {
        var rng = SplitMix64(seed: 11)
        for (h, w, cin, cout, pool) in [(7, 5, 1, 3, 1), (13, 23, 1, 4, 2), (11, 8, 3, 2, 3), (22, 4, 2, 3, 4)] {
            let zi: Int32 = -5, zo: Int32 = -20, sIn = 0.05, sOut = 0.1
            let x = (0..<(h * w * cin)).map { _ in rng.int8() }
            let wt = (0..<(cout * 9 * cin)).map { _ in rng.int8() }
            let b = (0..<cout).map { _ in Int32(rng.int(-3000, 3000)) }
            let sW = (0..<cout).map { _ in 0.001 + Double(rng.int(0, 1000)) * 1e-5 }
            let (m, s) = requantArrays(sW.map { sIn * $0 / sOut })
            let p = Conv2dS8Params(inputHeight: h, inputWidth: w, inputChannels: cin, outputChannels: cout,
                                   inputZeroPoint: zi, outputZeroPoint: zo, activationMin: zo, activationMax: 127,
                                   poolHeight: pool, poolWidth: pool)
            let q = conv(p, x, wt, b, m, s)
            // Double reference: conv (same padding) -> ReLU -> TF-same max-pool.
            var full = [Double](repeating: 0, count: h * w * cout)
            for y in 0..<h { for xx in 0..<w { for co in 0..<cout {
                var acc = Double(b[co])
                for ky in 0..<3 { for kx in 0..<3 { for ci in 0..<cin {
                    let iy = y + ky - 1, ix = xx + kx - 1
                    if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                    acc += Double(Int32(x[(iy * w + ix) * cin + ci]) - zi) * Double(wt[((co * 3 + ky) * 3 + kx) * cin + ci])
                } } }
                let real = sIn * sW[co] * acc
                full[(y * w + xx) * cout + co] = max(real, 0)  // ReLU in real units
            } } }
            let oh = (h + pool - 1) / pool, ow = (w + pool - 1) / pool
            let padY = (oh * pool - h) / 2, padX = (ow * pool - w) / 2
            XCTAssertEqual(q.count, oh * ow * cout)
            for oy in 0..<oh { for ox in 0..<ow { for co in 0..<cout {
                var best = -Double.infinity
                for py in 0..<pool { for px in 0..<pool {
                    let y = oy * pool + py - padY, xx = ox * pool + px - padX
                    if y >= 0 && y < h && xx >= 0 && xx < w { best = max(best, full[(y * w + xx) * cout + co]) }
                } }
                let expected = min(max(Double(zo) + best / sOut, -128), 127)
                let got = Double(q[(oy * ow + ox) * cout + co])
                XCTAssertLessThanOrEqual(abs(got - expected), 0.5 + 1e-6, "h=\(h) pool=\(pool) at \(oy),\(ox),\(co)")
            } } }
            // Fused pool == unfused conv followed by maxPool2dS8, bit for bit.
            var p1 = p; p1.poolHeight = 1; p1.poolWidth = 1
            let unpooled = conv(p1, x, wt, b, m, s)
            let pp = MaxPool2dS8Params(height: h, width: w, channels: cout, poolHeight: pool, poolWidth: pool)
            XCTAssertEqual(maxPool(pp, unpooled), q)
        }
    }

    // MARK: maxPool2dS8

    func maxPool(_ p: MaxPool2dS8Params, _ x: [Int8]) -> [Int8] {
        var out = [Int8](repeating: 99, count: p.outputCount)
        x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { op in
            maxPool2dS8(p, input: xp, output: op, scratch: noScratch)
        } }
        return out
    }

    func testMaxPoolTFSamePadding() {
        XCTAssertEqual(maxPool(MaxPool2dS8Params(height: 1, width: 3, channels: 1, poolHeight: 1, poolWidth: 2),
                               [1, 9, 4]), [9, 4])
        // 22 -> 6 with pool 4: one padded row before and one after. Column 0...21, all values negative so that
        // a padded cell taken as 0 would win and show.
        let col = (0..<22).map { Int8($0 - 100) }
        XCTAssertEqual(maxPool(MaxPool2dS8Params(height: 22, width: 1, channels: 1, poolHeight: 4, poolWidth: 1), col),
                       [2, 6, 10, 14, 18, 21].map { Int8($0 - 100) })
        // 65 -> 22 with pool 3 (one after), 23 -> 12 with pool 2 (one after); the paper's shapes.
        XCTAssertEqual(samePoolGeometry(length: 65, pool: 3).output, 22)
        XCTAssertEqual(samePoolGeometry(length: 65, pool: 3).padBefore, 0)
        XCTAssertEqual(samePoolGeometry(length: 23, pool: 2).output, 12)
        XCTAssertEqual(samePoolGeometry(length: 22, pool: 4).padBefore, 1)
        XCTAssertEqual(samePoolGeometry(length: 130, pool: 2).output, 65)
        XCTAssertEqual(samePoolGeometry(length: 4, pool: 4).output, 1)
        // Two channels interleaved (HWC) are pooled separately.
        XCTAssertEqual(maxPool(MaxPool2dS8Params(height: 2, width: 2, channels: 2, poolHeight: 2, poolWidth: 2),
                               [1, -1, 5, -7, 3, -2, 0, -9]), [5, -1])
    }

    // MARK: affineS8

    func affine(_ p: AffineS8Params, _ x: [Int8], _ w: [Int16], _ b: [Int32], _ m: [Int32], _ s: [Int32]) -> [Int8] {
        runRequantKernel(x, w, b, m, s, count: p.positions * p.channels, fill: 99) {
            affineS8(p, input: $0, weights: $1, bias: $2, requant: $3, output: $4, scratch: noScratch)
        }
    }

    func testAffineHandCheckedAndDoubleReference() {
        XCTAssertEqual(affine(AffineS8Params(positions: 1, channels: 1, inputZeroPoint: 2, outputZeroPoint: 0),
                              [10], [-3], [100], [1 << 30], [0]), [38])
        // Batch norm y = a_c x + b_c with negative and positive a_c.
        var rng = SplitMix64(seed: 12)
        let C = 5, N = 40, sIn = 0.04, sOut = 0.07, zi: Int32 = 10, zo: Int32 = -7
        let a = [1.7, -0.6, 0.02, 3.1, -2.2], bReal = [0.5, -1.0, 0.0, 2.5, 0.3]
        let sW = a.map { abs($0) / 32767 }
        let w = a.indices.map { Int16((a[$0] / sW[$0]).rounded()) }
        let b = a.indices.map { Int32((bReal[$0] / (sIn * sW[$0])).rounded()) }
        let (m, s) = requantArrays(sW.map { sIn * $0 / sOut })
        let x = (0..<(N * C)).map { _ in rng.int8() }
        let q = affine(AffineS8Params(positions: N, channels: C, inputZeroPoint: zi, outputZeroPoint: zo), x, w, b, m, s)
        for i in 0..<(N * C) {
            let c = i % C
            // Reference on the quantized operands, exactly.
            let real = sIn * sW[c] * (Double(Int32(x[i]) - zi) * Double(w[c]) + Double(b[c]))
            let expected = min(max(Double(zo) + real / sOut, -128), 127)
            XCTAssertLessThanOrEqual(abs(Double(q[i]) - expected), 0.5 + 1e-6)
            // And against the float BN itself: weight/bias quantization adds < 0.01 LSB here.
            let floatBN = min(max(Double(zo) + (a[c] * sIn * Double(Int32(x[i]) - zi) + bReal[c]) / sOut, -128), 127)
            XCTAssertLessThanOrEqual(abs(Double(q[i]) - floatBN), 0.51)
        }
    }

    // MARK: fullyConnectedS8

    func fc(_ p: FullyConnectedS8Params, _ x: [Int8], _ w: [Int8], _ b: [Int32], _ m: [Int32], _ s: [Int32]) -> [Int8] {
        runRequantKernel(x, w, b, m, s, count: p.outputSize, fill: 99) {
            fullyConnectedS8(p, input: $0, weights: $1, bias: $2, requant: $3, output: $4, scratch: noScratch)
        }
    }

    func testFullyConnected() {
        XCTAssertEqual(fc(FullyConnectedS8Params(inputSize: 2, outputSize: 1, inputZeroPoint: 0, outputZeroPoint: 0),
                          [1, 2], [3, 4], [0], [1 << 30], [1]), [11])
        XCTAssertEqual(fc(FullyConnectedS8Params(inputSize: 2, outputSize: 2, inputZeroPoint: 1, outputZeroPoint: 5,
                                                 activationMin: -128, activationMax: 10),
                          [1, 3], [3, 4, -1, -1], [-4, 100], [1 << 30, 1 << 30], [1, 1]), [9, 10])
        var rng = SplitMix64(seed: 13)
        let I = 192, O = 10, sIn = 0.02, sOut = 0.25, zi: Int32 = -3, zo: Int32 = 4
        let x = (0..<I).map { _ in rng.int8() }, w = (0..<(I * O)).map { _ in rng.int8() }
        let b = (0..<O).map { _ in Int32(rng.int(-50000, 50000)) }
        let sW = (0..<O).map { _ in 0.0005 + Double(rng.int(0, 100)) * 1e-5 }
        let (m, s) = requantArrays(sW.map { sIn * $0 / sOut })
        let q = fc(FullyConnectedS8Params(inputSize: I, outputSize: O, inputZeroPoint: zi, outputZeroPoint: zo), x, w, b, m, s)
        for o in 0..<O {
            var acc = Double(b[o])
            for i in 0..<I { acc += Double(Int32(x[i]) - zi) * Double(w[o * I + i]) }
            let expected = min(max(Double(zo) + sIn * sW[o] * acc / sOut, -128), 127)
            XCTAssertLessThanOrEqual(abs(Double(q[o]) - expected), 0.5 + 1e-6)
        }
    }

    // MARK: inputQuantizeS8

    func testInputQuantize() {
        func run(_ f: [Int32], _ mean: [Int32], _ m: [Int32], _ s: [Int32], _ zo: Int32) -> [Int8] {
            var out = [Int8](repeating: 99, count: f.count)
            f.withUnsafeBufferPointer { fp in mean.withUnsafeBufferPointer { mp in withRequant(m, s) { rq in
                out.withUnsafeMutableBufferPointer { op in
                    inputQuantizeS8(InputQuantizeS8Params(frames: f.count / mean.count, coefficients: mean.count,
                                                          outputZeroPoint: zo),
                                    features: fp, mean: mp, requant: rq, output: op, scratch: noScratch)
                }
            } } }
            return out
        }
        XCTAssertEqual(run([1280], [256], [1 << 30], [-1], -3), [127])
        XCTAssertEqual(run([1280], [256], [1 << 30], [-9], -3), [-2])
        // Standardisation of 23 coefficients against Double: q = zo + ((x - mean_c) / std_c) / s_in.
        var rng = SplitMix64(seed: 14)
        let F = 23, T = 20, sIn = 0.03, zo: Int32 = 2
        let mean = (0..<F).map { _ in Double(rng.int(-30000, 30000)) / 100 }
        let std = (0..<F).map { _ in Double(rng.int(100, 8000)) / 100 }
        let meanQ = mean.map { Int32(($0 * 256).rounded()) }
        let (m, s) = requantArrays(std.map { 1 / (256 * $0 * sIn) })
        let feats = (0..<(T * F)).map { i in Int32(((mean[i % F] + std[i % F] * Double(rng.int(-400, 400)) / 100) * 256).rounded()) }
        let q = run(feats, meanQ, m, s, zo)
        for i in 0..<(T * F) {
            let c = i % F
            let exact = min(max(Double(zo) + (Double(feats[i]) / 256 - mean[c]) / std[c] / sIn, -128), 127)
            // Rounding of the output (0.5) plus the mean's Q8 rounding (<= 1/512 / (std * sIn) < 0.07 LSB here).
            XCTAssertLessThanOrEqual(abs(Double(q[i]) - exact), 0.5 + 0.07, "i=\(i)")
        }
    }

    // MARK: argmax and softmax

    func testArgmax() {
        let v: [Int8] = [3, 7, 7, -1]
        XCTAssertEqual(v.withUnsafeBufferPointer(argmaxS8), 1)
        XCTAssertEqual([Int8]().withUnsafeBufferPointer(argmaxS8), -1)
        XCTAssertEqual(([-128, -128, -127] as [Int8]).withUnsafeBufferPointer(argmaxS8), 2)
    }

    func testSoftmaxAgainstDouble() {
        func run(_ l: [Int8], _ scale: Double) -> [Int16] {
            let (m, s) = quantizeMultiplier(scale * log2(M_E) * 65536)
            var out = [Int16](repeating: 0, count: l.count)
            withScratch(softmaxQ15ScratchSize(classes: l.count)) { sc in
                l.withUnsafeBufferPointer { lp in out.withUnsafeMutableBufferPointer { op in
                    softmaxQ15(logits: lp, multiplier: m, shift: s, output: op, scratch: sc)
                } }
            }
            return out
        }
        XCTAssertEqual(run([5, 5], 0.1), [16384, 16384])
        XCTAssertEqual(run([127, -128], 1.0), [32767, 0])
        var rng = SplitMix64(seed: 15)
        var maxErr = 0.0
        for trial in 0..<300 {
            let scale = [0.01, 0.05, 0.1, 0.3][trial % 4]
            let l = (0..<10).map { _ in rng.int8() }
            let p = run(l, scale)
            let e = l.map { exp(Double($0) * scale) }
            let sum = e.reduce(0, +)
            for i in 0..<10 { maxErr = max(maxErr, abs(Double(p[i]) - min(e[i] / sum * 32768, 32767))) }
        }
        print("softmaxQ15 max error: \(maxErr) LSB of Q0.15")
        XCTAssertLessThanOrEqual(maxErr, 2.0)
    }
}
