// Batch norm at inference as a per-channel affine map, its integer form (affineS8) and its exact fold into a
// following layer without zero padding (docs/quantization.md section 4).
import Foundation
import Training

/// Inference batch norm `y = a[c] * x + b[c]`, `a = gamma / sqrt(var + eps)`, `b = beta - a * mean` (Keras eps 1e-3).
public struct BatchNormAffine: Sendable {
    public var a: [Double]
    public var b: [Double]
    public var channels: Int { a.count }

    public init(a: [Double], b: [Double]) {
        precondition(a.count == b.count)
        self.a = a
        self.b = b
    }

    public init(gamma: [Float], beta: [Float], movingMean: [Float], movingVariance: [Float], epsilon: Double = 1e-3) {
        let n = gamma.count
        precondition(beta.count == n && movingMean.count == n && movingVariance.count == n)
        var a = [Double](repeating: 0, count: n), b = a
        for c in 0..<n {
            a[c] = Double(gamma[c]) / (Double(movingVariance[c]) + epsilon).squareRoot()
            b[c] = Double(beta[c]) - a[c] * Double(movingMean[c])
        }
        self.init(a: a, b: b)
    }

    /// Reads `<name>/gamma`, `/beta`, `/moving_mean`, `/moving_variance` from a checkpoint.
    public init(checkpoint: Checkpoint, name: String) throws(QuantizationError) {
        func w(_ s: String) throws(QuantizationError) -> [Float] {
            guard let t = checkpoint.weight("\(name)/\(s)") else { throw QuantizationError("checkpoint has no \(name)/\(s)") }
            return t.values
        }
        self.init(gamma: try w("gamma"), beta: try w("beta"), movingMean: try w("moving_mean"),
                  movingVariance: try w("moving_variance"))
    }

    public func apply(_ x: Double, channel c: Int) -> Double { a[c] * x + b[c] }
}

/// A dense-like layer `y[o] = bias[o] + sum_i x[i] * kernel[i, o]` (Keras kernel `[inputs, outputs]`, row-major).
public struct InputProjection: Sendable {
    public var kernel: [Double]
    public var bias: [Double]
    public let inputs: Int, outputs: Int

    public init(kernel: [Double], bias: [Double], inputs: Int, outputs: Int) {
        precondition(kernel.count == inputs * outputs && bias.count == outputs)
        self.kernel = kernel
        self.bias = bias
        self.inputs = inputs
        self.outputs = outputs
    }

    public func apply(_ x: [Double]) -> [Double] {
        var y = bias
        for i in 0..<inputs { for o in 0..<outputs { y[o] += x[i] * kernel[i * outputs + o] } }
        return y
    }

    /// The same projection applied after a batch norm whose channel of input `i` is `channelOf(i)`:
    /// `kernel'[i, o] = a[c(i)] * kernel[i, o]`, `bias'[o] = bias[o] + sum_i b[c(i)] * kernel[i, o]`.
    /// Exact: no padding sits between the batch norm and this layer (the reshape/flatten only renames).
    /// For the paper's reshape (6, W*C) and flatten (H*W*C), both channels-last, `c(i) = i % C`.
    public func foldingBatchNorm(_ bn: BatchNormAffine) -> InputProjection {
        let C = bn.channels
        precondition(inputs % C == 0, "input size \(inputs) is not a multiple of the batch norm's \(C) channels")
        var k = kernel, bias = self.bias
        for i in 0..<inputs {
            let c = i % C
            for o in 0..<outputs {
                bias[o] += bn.b[c] * kernel[i * outputs + o]
                k[i * outputs + o] = bn.a[c] * kernel[i * outputs + o]
            }
        }
        return InputProjection(kernel: k, bias: bias, inputs: inputs, outputs: outputs)
    }
}

/// The integer form of a batch norm that cannot be folded: `affineS8` constants (docs/quantization.md section 4).
public struct AffineS8Constants: Sendable {
    public var weights: [Int16]
    public var bias: [Int32]
    public var requant: [QuantizedMultiplier]

    /// `Sw[c] = |a_c| / 32767` (so `w = +-32767`); if `|bias|` would reach 2^30 the weight is halved (and
    /// `Sw` doubled) until it fits. `bias = round(b_c / (Sx * Sw))`, `M = Sx * Sw / Sy`. A dead channel (a_c = 0,
    /// w = 0) outputs its bias alone, so its `Sw` gives the bias the finest step that fits: |bias| = 2^29, or
    /// M = 2^-30 for a bias that small (Sw = 1 would round b_c to a multiple of Sx, up to Sx / (2 Sy) output steps
    /// off before the output's own rounding).
    public init(_ bn: BatchNormAffine, input: ActivationQuantization, output: ActivationQuantization) throws(QuantizationError) {
        var w: [Int16] = [], bias: [Int32] = [], rq: [QuantizedMultiplier] = []
        for c in 0..<bn.channels {
            let a = bn.a[c]
            var code = 32767.0
            var sw = abs(a) / code
            if a == 0 {
                code = 0
                sw = max(abs(bn.b[c]) / (input.scale * 0x1p29), output.scale * 0x1p-30 / input.scale)
            }
            while code > 1 && abs(bn.b[c] / (input.scale * sw)) >= 0x1p30 - 1 {
                code = (code / 2).rounded(.down)
                sw = abs(a) / code
            }
            let bq = (bn.b[c] / (input.scale * sw)).rounded(.toNearestOrAwayFromZero)
            guard abs(bq) < 0x1p30 else { throw QuantizationError("batch norm channel \(c): bias \(bn.b[c]) too large for its scale") }
            w.append(Int16(a < 0 ? -code : code))
            bias.append(Int32(bq))
            rq.append(try QuantizedMultiplier(input.scale * sw / output.scale))
        }
        weights = w
        self.bias = bias
        requant = rq
    }
}
