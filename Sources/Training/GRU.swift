// GRU with Keras semantics: reset_after=True, gate order (z, r, h) in the kernel columns,
// recurrent activation sigmoid, activation tanh, zero initial state, two bias vectors.
//
// inp is (N,T,D); kernel is [D,3U]; recurrent_kernel is [U,3U]; bias is [2,3U] (row 0 input bias,
// row 1 recurrent bias); out is (N,T,U) with return_sequences, else (N,U) (the last step).
//
// Per step (xp = x_t @ kernel + b_in, hp = h_{t-1} @ recurrent_kernel + b_rec, split in thirds):
//   z = sigmoid(xp_z + hp_z); r = sigmoid(xp_r + hp_r); hh = tanh(xp_h + r * hp_h)
//   h_t = z * h_{t-1} + (1 - z) * hh
import Foundation

@inline(__always) func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

public final class GRU: RecurrentLayer, Layer {
    public var kindName: String { "GRU" }
    // Caches (time-major per step) besides hs: z, r, hh, hpH (T,N,U).
    private var zs: [Float] = [], rs: [Float] = [], hhs: [Float] = [], hpHs: [Float] = []

    public init(name: String, inputSize: Int, units: Int, returnSequences: Bool, rng: inout SeededRNG) {
        super.init(name: name, inputSize: inputSize, units: units, returnSequences: returnSequences, gates: 3,
                   biasShape: [2, 3 * units], biasValue: [Float](repeating: 0, count: 6 * units), rng: &rng)
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let xp = beginForward(x)   // (N,T,G): x_t @ kernel + input bias
        let u = units, g = 3 * u
        zs = [Float](repeating: 0, count: t * n * u); rs = zs; hhs = zs; hpHs = zs
        var hp = [Float](repeating: 0, count: n * g)
        for step in 0..<t {
            for row in 0..<n { for j in 0..<g { hp[row * g + j] = bias.value[g + j] } }
            recurrentStep(hs, step: step, n: n, u: u, g: g, recurrentKernel: recurrentKernel.value, into: &hp)
            for row in 0..<n {
                let xo = (row * t + step) * g, ho = row * g
                for j in 0..<u {
                    let c = (step * n + row) * u + j
                    let z = sigmoid(xp[xo + j] + hp[ho + j])
                    let r = sigmoid(xp[xo + u + j] + hp[ho + u + j])
                    let hpH = hp[ho + 2 * u + j]
                    let hh = tanh(xp[xo + 2 * u + j] + r * hpH)
                    let hPrev = hs[c]
                    zs[c] = z; rs[c] = r; hhs[c] = hh; hpHs[c] = hpH
                    hs[c + n * u] = z * hPrev + (1 - z) * hh
                }
            }
        }
        return forwardOutput()
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let u = units, g = 3 * u
        // dhp: the step's gradient of hp (N,3U); dh_{t-1} = dh * z here, + dhp @ U^T in backwardThroughTime (beta 1).
        return backwardThroughTime(dy, recurrentBeta: 1) { step, dh, dhPrev, dxp, dhp in
            for row in 0..<n {
                let xo = (row * t + step) * g, ho = row * g
                for j in 0..<u {
                    let c = (step * n + row) * u + j
                    let z = zs[c], r = rs[c], hh = hhs[c], hPrev = hs[c]
                    let dht = dh[row * u + j]
                    let daH = dht * (1 - z) * (1 - hh * hh)
                    let daZ = dht * (hPrev - hh) * z * (1 - z)
                    let daR = daH * hpHs[c] * r * (1 - r)
                    dxp[xo + j] = daZ; dxp[xo + u + j] = daR; dxp[xo + 2 * u + j] = daH
                    dhp[ho + j] = daZ; dhp[ho + u + j] = daR; dhp[ho + 2 * u + j] = daH * r
                    dhPrev[row * u + j] = dht * z
                }
            }
            // recurrent bias += sums of dhp (recurrent_kernel grad += h_{t-1}^T @ dhp follows in backwardThroughTime).
            for row in 0..<n { for j in 0..<g { bias.grad[g + j] += dhp[row * g + j] } }
        }
    }
}
