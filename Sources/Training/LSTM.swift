// LSTM with Keras semantics: gate order (i, f, c, o) in the kernel columns, recurrent activation
// sigmoid, activation tanh, zero initial states, one bias vector, unit_forget_bias (the forget
// slice of the bias starts at 1).
//
// inp is (N,T,D); kernel is [D,4U]; recurrent_kernel is [U,4U]; bias is (4U);
// out is (N,T,U) with return_sequences, else (N,U).
//
// Per step (a = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias, split in quarters):
//   i = sigmoid(a_i); f = sigmoid(a_f); g = tanh(a_c); o = sigmoid(a_o)
//   c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)
import Foundation

public final class LSTM: RecurrentLayer, Layer {
    public var kindName: String { "LSTM" }
    // Caches, time-major, besides hs: cs (T+1,N,U) with a zero initial state; gates (T,N,4U) after activation.
    private var cs: [Float] = [], gates: [Float] = []

    public init(name: String, inputSize: Int, units: Int, returnSequences: Bool, rng: inout SeededRNG) {
        var b = [Float](repeating: 0, count: 4 * units)
        for j in units..<(2 * units) { b[j] = 1 }
        super.init(name: name, inputSize: inputSize, units: units, returnSequences: returnSequences, gates: 4,
                   biasShape: [4 * units], biasValue: b, rng: &rng)
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let xp = beginForward(x)   // (N,T,G): x_t @ kernel + input bias
        let u = units, g = 4 * u
        cs = hs
        gates = [Float](repeating: 0, count: t * n * g)
        var a = [Float](repeating: 0, count: n * g)
        for step in 0..<t {
            for row in 0..<n { for j in 0..<g { a[row * g + j] = xp[(row * t + step) * g + j] } }
            recurrentStep(hs, step: step, n: n, u: u, g: g, recurrentKernel: recurrentKernel.value, into: &a)
            for row in 0..<n {
                let ao = row * g, go = (step * n + row) * g
                for j in 0..<u {
                    let c = (step * n + row) * u + j
                    let i = sigmoid(a[ao + j]), f = sigmoid(a[ao + u + j])
                    let gg = tanh(a[ao + 2 * u + j]), o = sigmoid(a[ao + 3 * u + j])
                    gates[go + j] = i; gates[go + u + j] = f; gates[go + 2 * u + j] = gg; gates[go + 3 * u + j] = o
                    let ct = f * cs[c] + i * gg
                    cs[c + n * u] = ct
                    hs[c + n * u] = o * tanh(ct)
                }
            }
        }
        return forwardOutput()
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let u = units, g = 4 * u
        var dc = [Float](repeating: 0, count: n * u)
        // dxp: dL/da per step, (N,T,4U); da: the step's (N,4U), whose @ U^T is all of dh_{t-1} (beta 0).
        return backwardThroughTime(dy, recurrentBeta: 0) { step, dh, _, dxp, da in
            for row in 0..<n {
                let go = (step * n + row) * g, ao = row * g
                for j in 0..<u {
                    let c = (step * n + row) * u + j
                    let i = gates[go + j], f = gates[go + u + j], gg = gates[go + 2 * u + j], o = gates[go + 3 * u + j]
                    let tc = tanh(cs[c + n * u])
                    let dht = dh[row * u + j]
                    let dct = dc[row * u + j] + dht * o * (1 - tc * tc)
                    da[ao + j] = dct * gg * i * (1 - i)
                    da[ao + u + j] = dct * cs[c] * f * (1 - f)
                    da[ao + 2 * u + j] = dct * i * (1 - gg * gg)
                    da[ao + 3 * u + j] = dht * tc * o * (1 - o)
                    dc[row * u + j] = dct * f
                    for q in 0..<4 { dxp[(row * t + step) * g + q * u + j] = da[ao + q * u + j] }
                }
            }
        }
    }
}
