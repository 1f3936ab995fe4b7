// BatchNormalization over the last axis (channels), Keras 3 semantics:
// training mode normalises with the batch mean and the BIASED batch variance over (N,H,W) and
// updates moving = moving * momentum + batch * (1 - momentum) for both statistics (Keras 3 also
// uses the biased variance there); inference mode uses the moving statistics. epsilon 1e-3,
// momentum 0.99, gamma = 1, beta = 0, moving_mean = 0, moving_variance = 1 initially.
//
// inp/out are (M, C) with M = N*H*W (or N*T): any shape whose last axis is C.

@inline(__always) private func loadF8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}
@inline(__always) private func loadF8(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { loadF8(UnsafePointer(p)) }
@inline(__always) private func storeF8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// Per-channel Double sums over rows, split into Parallel.chunks(m) contiguous row ranges whose
/// partial sums are added in chunk order (so the result depends on the worker count only; with one
/// worker it is the plain sequential sum). `body(rowRange, partial)` adds its rows into `partial`
/// (`width` Doubles, zeroed). Returns the `width` totals.
private func chunkedRowSums(m: Int, width: Int, _ body: (Range<Int>, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
    let chunks = Parallel.chunks(m)
    var partials = [Double](repeating: 0, count: chunks * width)
    partials.withUnsafeMutableBufferPointer { pp in
        let base = UncheckedSendable(pp.baseAddress!)
        Parallel.forEachChunk(m) { chunk, rows in body(rows, base.value + chunk * width) }
    }
    var total = [Double](repeating: 0, count: width)
    for chunk in 0..<chunks { for i in 0..<width { total[i] += partials[chunk * width + i] } }
    return total
}

/// Training-mode forward. Writes out, xhat (M,C), mean (C) and invstd (C) = 1/sqrt(var + eps).
/// Two passes (mean, then squared deviations) in Double; rows split over the workers.
func batchNormTrainForward(out: UnsafeMutablePointer<Float>, xhat: UnsafeMutablePointer<Float>,
                           mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>,
                           invstd: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
                           gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, m: Int, c: Int, epsilon: Float) {
    let inpBox = UncheckedSendable(inp)
    let sum = chunkedRowSums(m: m, width: c) { rows, acc in
        let inp = inpBox.value
        if c % 8 == 0 {
            // 8 channels at a time in registers (same per-channel order of additions as the scalar loop).
            for g in stride(from: 0, to: c, by: 8) {
                var a = SIMD8<Double>()
                for r in rows { a += SIMD8<Double>(loadF8(inp + r * c + g)) }
                for j in 0..<8 { acc[g + j] += a[j] }
            }
            return
        }
        for r in rows { for ch in 0..<c { acc[ch] += Double(inp[r * c + ch]) } }
    }
    for ch in 0..<c { mean[ch] = Float(sum[ch] / Double(m)) }
    let meanBox = UncheckedSendable(UnsafePointer(mean))
    let sq = chunkedRowSums(m: m, width: c) { rows, acc in
        let inp = inpBox.value, mean = meanBox.value
        if c % 8 == 0 {
            for g in stride(from: 0, to: c, by: 8) {
                let mu = loadF8(mean + g)
                var a = SIMD8<Double>()
                for r in rows {
                    let d = SIMD8<Double>(loadF8(inp + r * c + g) - mu)
                    a += d * d
                }
                for j in 0..<8 { acc[g + j] += a[j] }
            }
            return
        }
        for r in rows {
            for ch in 0..<c {
                let d = Double(inp[r * c + ch] - mean[ch])
                acc[ch] += d * d
            }
        }
    }
    for ch in 0..<c {
        variance[ch] = Float(sq[ch] / Double(m))
        invstd[ch] = 1 / (variance[ch] + epsilon).squareRoot()
    }
    let ptrs = UncheckedSendable((out, xhat, UnsafePointer(invstd), gamma, beta))
    Parallel.forEachChunk(m) { _, rows in
        let inp = inpBox.value, mean = meanBox.value
        let (out, xhat, invstd, gamma, beta) = ptrs.value
        if c % 8 == 0 {
            for g in stride(from: 0, to: c, by: 8) {
                let mu = loadF8(mean + g), s = loadF8(invstd + g), ga = loadF8(gamma + g), be = loadF8(beta + g)
                for r in rows {
                    let xh = (loadF8(inp + r * c + g) - mu) * s
                    storeF8(xh, xhat + r * c + g)
                    storeF8(ga * xh + be, out + r * c + g)
                }
            }
            return
        }
        for r in rows {
            for ch in 0..<c {
                let xh = (inp[r * c + ch] - mean[ch]) * invstd[ch]
                xhat[r * c + ch] = xh
                out[r * c + ch] = gamma[ch] * xh + beta[ch]
            }
        }
    }
}

/// Training-mode backward: dgamma += sum(dout*xhat), dbeta += sum(dout),
/// din = gamma*invstd/M * (M*dout - sum(dout) - xhat*sum(dout*xhat)). Rows split over the workers.
func batchNormTrainBackward(din: UnsafeMutablePointer<Float>, dgamma: UnsafeMutablePointer<Float>,
                            dbeta: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, xhat: UnsafePointer<Float>,
                            gamma: UnsafePointer<Float>, invstd: UnsafePointer<Float>, m: Int, c: Int) {
    let inBox = UncheckedSendable((dout, xhat))
    // One pass: [sum(dout) per channel | sum(dout*xhat) per channel].
    let sums = chunkedRowSums(m: m, width: 2 * c) { rows, acc in
        let (dout, xhat) = inBox.value
        if c % 8 == 0 {
            for g in stride(from: 0, to: c, by: 8) {
                var a = SIMD8<Double>(), b = SIMD8<Double>()
                for r in rows {
                    let d = SIMD8<Double>(loadF8(dout + r * c + g))
                    a += d
                    b += d * SIMD8<Double>(loadF8(xhat + r * c + g))
                }
                for j in 0..<8 { acc[g + j] += a[j]; acc[c + g + j] += b[j] }
            }
            return
        }
        for r in rows {
            for ch in 0..<c {
                let d = Double(dout[r * c + ch])
                acc[ch] += d
                acc[c + ch] += d * Double(xhat[r * c + ch])
            }
        }
    }
    let fm = Float(m)
    var k = [Float](repeating: 0, count: c), sd = [Float](repeating: 0, count: c), sdx = [Float](repeating: 0, count: c)
    for ch in 0..<c {
        dgamma[ch] += Float(sums[c + ch])
        dbeta[ch] += Float(sums[ch])
        k[ch] = gamma[ch] * invstd[ch] / fm
        sd[ch] = Float(sums[ch])
        sdx[ch] = Float(sums[c + ch])
    }
    k.withUnsafeBufferPointer { kp in
        sd.withUnsafeBufferPointer { sdp in
            sdx.withUnsafeBufferPointer { sdxp in
                let ptrs = UncheckedSendable((din, kp.baseAddress!, sdp.baseAddress!, sdxp.baseAddress!))
                Parallel.forEachChunk(m) { _, rows in
                    let (dout, xhat) = inBox.value
                    let (din, k, sd, sdx) = ptrs.value
                    if c % 8 == 0 {
                        for g in stride(from: 0, to: c, by: 8) {
                            let kk = loadF8(k + g), s1 = loadF8(sd + g), s2 = loadF8(sdx + g)
                            for r in rows {
                                let i = r * c + g
                                storeF8(kk * (fm * loadF8(dout + i) - s1 - loadF8(xhat + i) * s2), din + i)
                            }
                        }
                        return
                    }
                    for r in rows {
                        for ch in 0..<c {
                            let i = r * c + ch
                            din[i] = k[ch] * (fm * dout[i] - sd[ch] - xhat[i] * sdx[ch])
                        }
                    }
                }
            }
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
            // Reuse the previous batch's xhat storage when the size matches (every value is overwritten).
            if xhat.count != x.count { xhat = [Float](repeating: 0, count: x.count) }
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
