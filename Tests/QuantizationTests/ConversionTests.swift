import CRNNRuntime
import Foundation
import SplitMix
import XCTest
@testable import Quantization

/// The float -> fixed-point conversions of the host quantizer (docs/quantization.md sections 1, 3, 4, 5).
final class ConversionTests: XCTestCase {
    // MARK: Q31 multiplier and shift

    func testMultiplierExamples() throws {
        XCTAssertEqual(try QuantizedMultiplier(0.75), QuantizedMultiplier(multiplier: 1_610_612_736, shift: 0))
        XCTAssertEqual(try QuantizedMultiplier(3.0), QuantizedMultiplier(multiplier: 1_610_612_736, shift: 2))
        XCTAssertEqual(try QuantizedMultiplier(0.5), QuantizedMultiplier(multiplier: 1 << 30, shift: 0))
        XCTAssertEqual(try QuantizedMultiplier(0), QuantizedMultiplier(multiplier: 0, shift: 0))
        // f * 2^31 rounds up to 2^31: carried into 2^30 and the next exponent.
        XCTAssertEqual(try QuantizedMultiplier(1 - 0x1p-40), QuantizedMultiplier(multiplier: 1 << 30, shift: 1))
        // Below 2^-32: denormalised at shift -31.
        XCTAssertEqual(try QuantizedMultiplier(0x1p-40), QuantizedMultiplier(multiplier: 1 << 22, shift: -31))
        XCTAssertEqual(try QuantizedMultiplier(0x1p-70), QuantizedMultiplier(multiplier: 0, shift: -31))
        // The largest storable: just below 2^30 (shift 30).
        XCTAssertEqual(try QuantizedMultiplier(0x1p30 * (1 - 0x1p-20)).shift, 30)
        XCTAssertThrowsError(try QuantizedMultiplier(0x1p30))
        XCTAssertThrowsError(try QuantizedMultiplier(-1))
        XCTAssertThrowsError(try QuantizedMultiplier(.nan))
    }

    /// Round trip over 20 000 multipliers spread over 2^-31 ... 2^29: normalised, valid for the runtime, and
    /// within half a unit of the 31-bit mantissa (relative error <= 2^-31).
    func testMultiplierRoundTrip() throws {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let e = Double.random(in: -31...29, using: &g)
            let real = pow(2, e) * Double.random(in: 1...2, using: &g)
            let q = try QuantizedMultiplier(real)
            XCTAssertTrue(isValidQuantizedMultiplier(q.multiplier, q.shift), "\(real) -> \(q)")
            XCTAssertGreaterThanOrEqual(q.multiplier, 1 << 30, "\(real) not normalised")
            XCTAssertLessThanOrEqual(abs(q.realValue - real) / real, 0x1p-31, "\(real) -> \(q)")
        }
    }

    /// The pair means what the runtime's MBQM computes: x * M rounded (ties up), for random x and M.
    func testMultiplierAgreesWithRuntimeRequantization() throws {
        var g = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let real = pow(2, Double.random(in: -20...8, using: &g))
            let x = Int32.random(in: -(1 << 20)...(1 << 20), using: &g)
            let q = try QuantizedMultiplier(real)
            let got = multiplyByQuantizedMultiplier(x, q.multiplier, q.shift)
            // Exact product of x and the stored multiplier, rounded half up: equals the runtime's result.
            let exact = Double(x) * q.realValue
            XCTAssertEqual(Double(got), (exact + 0.5).rounded(.down), "x \(x) M \(real)")
            // And within one rounding of the real product.
            XCTAssertLessThanOrEqual(abs(Double(got) - Double(x) * real), 0.5 + abs(Double(x)) * real * 0x1p-31 + 1e-9)
        }
    }

    // MARK: Activations

    func testActivationQuantization() {
        let relu = ActivationQuantization(min: 0, max: 6)
        XCTAssertEqual(relu.zeroPoint, -128)
        XCTAssertEqual(relu.scale, 6.0 / 255, accuracy: 1e-15)
        XCTAssertEqual(relu.dequantize(-128), 0)
        XCTAssertEqual(relu.dequantize(127), 6, accuracy: 1e-12)
        // Asymmetric: 0 is exactly representable and [min, max] is covered to within half a step.
        for (lo, hi) in [(-3.0, 5.0), (-0.1, 9.7), (-7.0, 0.2), (2.0, 3.0)] {
            let q = ActivationQuantization(min: lo, max: hi)
            XCTAssertEqual(q.dequantize(Int8(q.zeroPoint)), 0, "\(lo)...\(hi)")
            XCTAssertLessThanOrEqual(q.representableRange.lowerBound, min(lo, 0) + q.scale / 2)
            XCTAssertGreaterThanOrEqual(q.representableRange.upperBound, max(hi, 0) - q.scale / 2)
            for x in stride(from: min(lo, 0), through: max(hi, 0), by: (hi - lo) / 97) {
                XCTAssertLessThanOrEqual(abs(q.dequantize(q.quantize(x)) - x), q.scale / 2 + 1e-12)
            }
        }
    }

    // MARK: Weights

    func testPerChannelWeightQuantization() {
        // Doc example.
        let ex = ChannelQuantizedWeights(channelMajor: [0.5, -1.0, 0.25], channels: 1)
        XCTAssertEqual(ex.values, [64, -127, 32])
        // Weights that are integer multiples of their channel's scale come back exactly.
        let scales = [0.01, 0.37, 2.5e-4]
        var w: [Float] = [], codes: [Int8] = []
        var g = SystemRandomNumberGenerator()
        for s in scales {
            var c = (0..<20).map { _ in Int8.random(in: -126...126, using: &g) }
            c[7] = 127  // the channel's largest magnitude
            codes += c
            w += c.map { Float(Double($0) * s) }
        }
        let q = ChannelQuantizedWeights(channelMajor: w, channels: 3)
        XCTAssertEqual(q.values, codes)
        for c in 0..<3 { XCTAssertEqual(q.scales[c], Double(Float(127 * scales[c])) / 127, accuracy: 1e-15) }
        // Random weights: error at most half a step per channel, the largest magnitude maps to +-127.
        let r = (0..<(8 * 50)).map { i in Float.random(in: -3...3, using: &g) * Float(1 + i / 50) }
        let rq = ChannelQuantizedWeights(channelMajor: r, channels: 8)
        for c in 0..<8 {
            XCTAssertEqual(rq.values[(c * 50)..<(c * 50 + 50)].map { abs(Int($0)) }.max(), 127)
            for k in 0..<50 {
                XCTAssertLessThanOrEqual(abs(rq.dequantized(c, k) - Double(r[c * 50 + k])), rq.scales[c] / 2 + 1e-9)
            }
        }
        // An all-zero channel: zero codes, scale 1.
        let z = ChannelQuantizedWeights(channelMajor: [0, 0, 1, 2], channels: 2)
        XCTAssertEqual(Array(z.values[0..<2]), [0, 0])
        XCTAssertEqual(z.scales[0], 1)
    }

    func testBiasAndTranspose() {
        XCTAssertEqual(quantizeBias(1.0, scale: 0.001), 1000)
        XCTAssertEqual(quantizeBias(-0.0025, scale: 0.001), -3)  // half away from zero
        XCTAssertEqual(quantizeBias(1e9, scale: 1e-3), Int32((1 << 30) - 1))
        // Keras [in, out] -> runtime [out, in].
        XCTAssertEqual(transposed([1, 2, 3, 4, 5, 6], rows: 2, cols: 3), [1, 4, 2, 5, 3, 6])
    }

    // MARK: Batch norm

    /// SplitMix64 as a `RandomNumberGenerator` (the same draws on every machine).
    struct SeededGenerator: RandomNumberGenerator {
        var s: SplitMix64
        init(_ s: SplitMix64) { self.s = s }
        mutating func next() -> UInt64 { s.next() }
    }

    func randomBN<G: RandomNumberGenerator>(_ n: Int, _ g: inout G) -> BatchNormAffine {
        BatchNormAffine(gamma: (0..<n).map { _ in Float.random(in: -2...2, using: &g) },
                        beta: (0..<n).map { _ in Float.random(in: -1...1, using: &g) },
                        movingMean: (0..<n).map { _ in Float.random(in: -3...3, using: &g) },
                        movingVariance: (0..<n).map { _ in Float.random(in: 0.01...4, using: &g) })
    }

    func testBatchNormAffineMatchesKerasFormula() {
        let bn = BatchNormAffine(gamma: [2], beta: [0.5], movingMean: [1], movingVariance: [0.999])
        // y = gamma (x - mean) / sqrt(var + 1e-3) + beta = 2 (x - 1) + 0.5
        XCTAssertEqual(bn.apply(3, channel: 0), 4.5, accuracy: 1e-6)  // 0.999 is not exact in Float
    }

    /// BN3 folded into the next layer's input weights equals BN followed by the layer (reshape (T, W*C) and
    /// flatten are channels-last, so input i belongs to channel i % C).
    func testBatchNormFoldingEqualsUnfoldedMath() {
        var g = SystemRandomNumberGenerator()
        let C = 5, inputs = 3 * C, outputs = 7
        let bn = randomBN(C, &g)
        let layer = InputProjection(kernel: (0..<(inputs * outputs)).map { _ in Double.random(in: -1...1, using: &g) },
                                    bias: (0..<outputs).map { _ in Double.random(in: -1...1, using: &g) },
                                    inputs: inputs, outputs: outputs)
        let folded = layer.foldingBatchNorm(bn)
        for _ in 0..<50 {
            let x = (0..<inputs).map { _ in Double.random(in: -4...4, using: &g) }
            let unfolded = layer.apply(x.enumerated().map { bn.apply($1, channel: $0 % C) })
            let y = folded.apply(x)
            for o in 0..<outputs { XCTAssertEqual(y[o], unfolded[o], accuracy: 1e-12 * max(1, abs(unfolded[o]))) }
        }
    }

    /// affineS8 with the host's constants (run by the runtime's kernel) against the float batch norm: within
    /// 0.51 LSB of the output wherever the result is not clamped, for 64 seeded random batch norms with a dead
    /// channel and a tiny-a, large-b one each. (It drew from the system generator before and failed about one
    /// run in two: the dead channel's bias was rounded to a multiple of the input scale, up to 0.154 LSB more.)
    func testAffineConstantsAgainstFloatBatchNorm() throws {
        for seed in UInt64(1)...64 { try affineConstantsAgainstFloatBatchNorm(seed: seed) }
    }

    func affineConstantsAgainstFloatBatchNorm(seed: UInt64) throws {
        var g = SeededGenerator(SplitMix64(seed: seed))
        let C = 16
        var bn = randomBN(C, &g)
        bn.a[3] = 0           // a dead channel
        bn.a[4] = 1e-7; bn.b[4] = 0.9  // tiny a, large b: the weight code is lowered so |bias| < 2^30
        let qx = ActivationQuantization(min: 0, max: 4), qy = ActivationQuantization(min: -6, max: 7)
        let k = try AffineS8Constants(bn, input: qx, output: qy)
        XCTAssertLessThan(abs(k.weights[4]), 32767)
        XCTAssertEqual(k.weights[3], 0)
        let input = (0..<(256 * C)).map { Int8(truncatingIfNeeded: $0 / C - 128) }
        var out = [Int8](repeating: 0, count: input.count)
        let mult = k.requant.map(\.multiplier), shifts = k.requant.map(\.shift)
        mult.withUnsafeBufferPointer { m in shifts.withUnsafeBufferPointer { s in
            k.weights.withUnsafeBufferPointer { w in k.bias.withUnsafeBufferPointer { b in
                input.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { y in
                    affineS8(AffineS8Params(positions: 256, channels: C, inputZeroPoint: qx.zeroPoint, outputZeroPoint: qy.zeroPoint,
                                            activationMin: -128, activationMax: 127),
                             input: x, weights: w, bias: b, requant: ChannelRequant(multipliers: m, shifts: s), output: y,
                             scratch: UnsafeMutableRawBufferPointer(start: nil, count: 0))
                } }
            } }
        } }
        var worst = 0.0
        for i in 0..<input.count {
            let c = i % C
            let exact = Double(qy.zeroPoint) + bn.apply(qx.dequantize(input[i]), channel: c) / qy.scale
            if exact <= -128 || exact >= 127 { continue }
            worst = max(worst, abs(Double(out[i]) - exact))
        }
        XCTAssertLessThanOrEqual(worst, 0.51, "seed \(seed)")
    }

    /// Input standardisation fused with the int8 cast (section 5) against (x - mean) / std quantized in float.
    func testInputQuantizeConstants() throws {
        let mean: [Double] = [-250.5, 80.25, 3.1], std: [Double] = [60, 20, 7.5]
        let q = ActivationQuantization(min: -5, max: 6)
        var worst = 0.0
        for c in 0..<3 {
            let meanQ = Int32((256 * mean[c]).rounded(.toNearestOrAwayFromZero))
            let m = try QuantizedMultiplier(1 / (256 * std[c] * q.scale))
            for step in 0..<400 {
                let x = mean[c] + std[c] * (Double(step) / 40 - 5)
                let xq = Int32((x * 256).rounded(.toNearestOrAwayFromZero))
                let code = Double(q.zeroPoint) + Double(multiplyByQuantizedMultiplier(xq - meanQ, m.multiplier, m.shift))
                let exact = Double(q.zeroPoint) + (x - mean[c]) / std[c] / q.scale
                if exact <= -128 || exact >= 127 { continue }
                worst = max(worst, abs(code - exact))
            }
        }
        // 0.5 LSB output rounding plus the Q8 rounding of x and of the mean (1/256 / (std * S) LSB at most).
        XCTAssertLessThanOrEqual(worst, 0.5 + 1.0 / 256 / (7.5 * q.scale) + 1e-9)
    }
}
