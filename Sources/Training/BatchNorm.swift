// BatchNormalization over the last axis (channels), Keras 3 semantics:
// training mode normalises with the batch mean and the BIASED batch variance over (N,H,W) and
// updates moving = moving * momentum + batch * (1 - momentum) for both statistics (Keras 3 also
// uses the biased variance there); inference mode uses the moving statistics. epsilon 1e-3,
// momentum 0.99, gamma = 1, beta = 0, moving_mean = 0, moving_variance = 1 initially.
//
// inp/out are (M, C) with M = N*H*W (or N*T): any shape whose last axis is C.

/// Training-mode forward. Writes out, xhat (M,C), mean (C) and invstd (C) = 1/sqrt(var + eps).
func batchNormTrainForward(out: UnsafeMutablePointer<Float>, xhat: UnsafeMutablePointer<Float>,
                           mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                           invstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                           gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, m: Int, c: Int, epsilon: Float) {
    var sum = [Double](repeating: 0, count: c)
    for r in 0..<m { for ch in 0..<c { sum[ch] += Double(inp[r * c + ch]) } }
    for ch in 0..<c { mean[ch] = Float(sum[ch] / Double(m)) }
    var sq = [Double](repeating: 0, count: c)
    for r in 0..<m {
        for ch in 0..<c {
            let d = Double(inp[r * c + ch] - mean[ch])
            sq[ch] += d * d
        }
    }
    for ch in 0..<c {
        variance[ch] = Float(sq[ch] / Double(m))
        invstd[ch] = 1 / (variance[ch] + epsilon).squareRoot()
    }
    for r in 0..<m {
        for ch in 0..<c {
            let xh = (inp[r * c + ch] - mean[ch]) * invstd[ch]
            xhat[r * c + ch] = xh
            out[r * c + ch] = gamma[ch] * xh + beta[ch]
        }
    }
}

/// Training-mode backward: dgamma += sum(dout*xhat), dbeta += sum(dout),
/// din = gamma*invstd/M * (M*dout - sum(dout) - xhat*sum(dout*xhat)).
func batchNormTrainBackward(din: UnsafeMutablePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
                            dbeta: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, xhat: UnsafePointer<Float>,
                            gamma: UnsafePointer<Float>, invstd: UnsafePointer<Float>, m: Int, c: Int) {
    var sumD = [Double](repeating: 0, count: c)
    var sumDX = [Double](repeating: 0, count: c)
    for r in 0..<m {
        for ch in 0..<c {
            let d = Double(dout[r * c + ch])
            sumD[ch] += d
            sumDX[ch] += d * Double(xhat[r * c + ch])
        }
    }
    let fm = Float(m)
    var k = [Float](repeating: 0, count: c), sd = [Float](repeating: 0, count: c), sdx = [Float](repeating: 0, count: c)
    for ch in 0..<c {
        dgamma[ch] += Float(sumDX[ch])
        dbeta[ch] += Float(sumD[ch])
        k[ch] = gamma[ch] * invstd[ch] / fm
        sd[ch] = Float(sumD[ch])
        sdx[ch] = Float(sumDX[ch])
    }
    for r in 0..<m {
        for ch in 0..<c {
            let i = r * c + ch
            din[i] = k[ch] * (fm * dout[i] - sd[ch] - xhat[i] * sdx[ch])
        }
    }
}

public final class BatchNorm: Layer {
    public let name: String
    public var kindName: String { "BatchNormalization" }
    public let channels: Int
    public let momentum: Float
    public let epsilon: Float
    public let gamma: Parameter, beta: Parameter
    public let movingMean: Parameter, movingVariance: Parameter
    private var xhat: [Float] = []
    private var invstd: [Float] = []
    private var lastMode: Mode = .training

    public init(name: String, channels: Int, momentum: Float = 0.99, epsilon: Float = 1e-3) {
        self.name = name
        self.channels = channels
        self.momentum = momentum
        self.epsilon = epsilon
        gamma = Parameter(name: "\(name)/gamma", shape: [channels], value: [Float](repeating: 1, count: channels))
        beta = Parameter(name: "\(name)/beta", shape: [channels], value: [Float](repeating: 0, count: channels))
        movingMean = Parameter(name: "\(name)/moving_mean", shape: [channels],
                               value: [Float](repeating: 0, count: channels), trainable: false)
        movingVariance = Parameter(name: "\(name)/moving_variance", shape: [channels],
                                   value: [Float](repeating: 1, count: channels), trainable: false)
    }

    /// Keras' get_weights() order.
    public var parameters: [Parameter] { [gamma, beta, movingMean, movingVariance] }
    public func outputShape(for s: [Int]) -> [Int] { s }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let c = channels
        precondition(x.shape.last == c)
        let m = x.count / c
        lastMode = mode
        var y = [Float](repeating: 0, count: x.count)
        invstd = [Float](repeating: 0, count: c)
        if mode == .training {
            xhat = [Float](repeating: 0, count: x.count)
            var mean = [Float](repeating: 0, count: c), variance = [Float](repeating: 0, count: c)
            x.data.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    xhat.withUnsafeMutableBufferPointer { hp in
                        batchNormTrainForward(out: yp.baseAddress!, xhat: hp.baseAddress!, mean: &mean,
                                              variance: &variance, invstd: &invstd, inp: xp.baseAddress!,
                                              gamma: gamma.value, beta: beta.value, m: m, c: c, epsilon: epsilon)
                    }
                }
            }
            for ch in 0..<c {
                movingMean.value[ch] = movingMean.value[ch] * momentum + mean[ch] * (1 - momentum)
                movingVariance.value[ch] = movingVariance.value[ch] * momentum + variance[ch] * (1 - momentum)
            }
        } else {
            xhat = []
            var scale = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
            for ch in 0..<c {
                invstd[ch] = 1 / (movingVariance.value[ch] + epsilon).squareRoot()
                scale[ch] = gamma.value[ch] * invstd[ch]
                shift[ch] = beta.value[ch] - movingMean.value[ch] * scale[ch]
            }
            for r in 0..<m {
                for ch in 0..<c { y[r * c + ch] = x.data[r * c + ch] * scale[ch] + shift[ch] }
            }
            // Keep what the inference-mode backward needs (xhat with the moving statistics).
            xhat = [Float](repeating: 0, count: x.count)
            for r in 0..<m {
                for ch in 0..<c { xhat[r * c + ch] = (x.data[r * c + ch] - movingMean.value[ch]) * invstd[ch] }
            }
        }
        return Tensor(shape: x.shape, data: y)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let c = channels
        let m = dy.count / c
        var dx = [Float](repeating: 0, count: dy.count)
        if lastMode == .training {
            dy.data.withUnsafeBufferPointer { dp in
                xhat.withUnsafeBufferPointer { hp in
                    dx.withUnsafeMutableBufferPointer { dxp in
                        batchNormTrainBackward(din: dxp.baseAddress!, dgamma: &gamma.grad, dbeta: &beta.grad,
                                               dout: dp.baseAddress!, xhat: hp.baseAddress!, gamma: gamma.value,
                                               invstd: invstd, m: m, c: c)
                    }
                }
            }
        } else {
            // Inference mode is an affine map per channel.
            for r in 0..<m {
                for ch in 0..<c {
                    let i = r * c + ch
                    gamma.grad[ch] += dy.data[i] * xhat[i]
                    beta.grad[ch] += dy.data[i]
                    dx[i] = dy.data[i] * gamma.value[ch] * invstd[ch]
                }
            }
        }
        return Tensor(shape: dy.shape, data: dx)
    }
}
