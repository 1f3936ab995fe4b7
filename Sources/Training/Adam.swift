// Adam exactly as Keras 3 computes it (defaults lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7):
//   t = iterations + 1
//   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m += (g - m) * (1 - beta1);  v += (g^2 - v) * (1 - beta2)
//   w -= alpha * m / (sqrt(v) + epsilon)
// (epsilon is added to sqrt(v) of the UNcorrected v: the "epsilon hat" form of the Adam paper.)
import Foundation

public final class Adam {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    /// Steps taken so far (Keras' `optimizer.iterations`).
    public var iterations: Int = 0
    /// First and second moments by parameter name (a checkpoint's optimizer section stores these).
    public var m: [String: [Float]] = [:]
    public var v: [String: [Float]] = [:]

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// Applies one update to every trainable parameter from its `grad`.
    public func step(_ parameters: [Parameter]) {
        let t = Float(iterations + 1)
        let alpha = learningRate * (1 - pow(beta2, t)).squareRoot() / (1 - pow(beta1, t))
        for p in parameters where p.trainable {
            var mp = m[p.name] ?? [Float](repeating: 0, count: p.count)
            var vp = v[p.name] ?? [Float](repeating: 0, count: p.count)
            precondition(mp.count == p.count && vp.count == p.count, "optimizer state of \(p.name) has the wrong size")
            let (b1, b2, eps) = (beta1, beta2, epsilon)
            p.grad.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { w in
                    mp.withUnsafeMutableBufferPointer { mm in
                        vp.withUnsafeMutableBufferPointer { vv in
                            for i in 0..<g.count {
                                mm[i] += (g[i] - mm[i]) * (1 - b1)
                                vv[i] += (g[i] * g[i] - vv[i]) * (1 - b2)
                                w[i] -= (mm[i] * alpha) / (vv[i].squareRoot() + eps)
                            }
                        }
                    }
                }
            }
            m[p.name] = mp
            v[p.name] = vp
        }
        iterations += 1
    }
}
