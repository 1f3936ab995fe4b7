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

public final class LSTM: Layer {
    public let name: String
    public var kindName: String { "LSTM" }
    public let inputSize: Int, units: Int
    public let returnSequences: Bool
    public let kernel: Parameter, recurrentKernel: Parameter, bias: Parameter
    // Caches, time-major: hs and cs (T+1,N,U) with zero initial states; gates (T,N,4U) after activation.
    private var inp: [Float] = []
    private var hs: [Float] = [], cs: [Float] = [], gates: [Float] = []
    private var n = 0, t = 0

    public init(name: String, inputSize: Int, units: Int, returnSequences: Bool, rng: inout SeededRNG) {
        self.name = name
        self.inputSize = inputSize
        self.units = units
        self.returnSequences = returnSequences
        (kernel, recurrentKernel) = recurrentKernels(name: name, inputSize: inputSize, units: units, gates: 4, rng: &rng)
        var b = [Float](repeating: 0, count: 4 * units)
        for j in units..<(2 * units) { b[j] = 1 }
        bias = Parameter(name: "\(name)/bias", shape: [4 * units], value: b)
    }

    public var parameters: [Parameter] { [kernel, recurrentKernel, bias] }

    public func outputShape(for s: [Int]) -> [Int] { returnSequences ? [s[0], units] : [units] }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        n = x.shape[0]; t = x.shape[1]
        let d = inputSize, u = units, g = 4 * u
        precondition(x.shape[2] == d, "\(name): expected input size \(d), got \(x.shape)")
        inp = x.data
        // xp (N,T,G) = inp (N*T,D) @ kernel + input bias.
        let xp = recurrentInputProjection(x.data, rows: n * t, d: d, g: g, kernel: kernel.value, bias: bias.value)
        hs = [Float](repeating: 0, count: (t + 1) * n * u); cs = hs
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
        return recurrentOutput(hs, n: n, t: t, u: u, returnSequences: returnSequences)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let d = inputSize, u = units, g = 4 * u
        var dxp = [Float](repeating: 0, count: n * t * g)   // dL/da per step, (N,T,4U)
        var da = [Float](repeating: 0, count: n * g)
        var dh = [Float](repeating: 0, count: n * u), dc = [Float](repeating: 0, count: n * u)
        var dhPrev = [Float](repeating: 0, count: n * u)
        for step in stride(from: t - 1, through: 0, by: -1) {
            addOutputGradient(dy, step: step, n: n, t: t, u: u, returnSequences: returnSequences, into: &dh)
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
            recurrentStepBackward(hs, step: step, n: n, u: u, g: g, da, recurrentKernel: recurrentKernel, dhPrev: &dhPrev, beta: 0)
            swap(&dh, &dhPrev)
        }
        // kernel grad += inp^T @ dxp; input bias += sums; dinp = dxp @ kernel^T.
        let dx = recurrentInputProjectionBackward(inp, dxp, rows: n * t, d: d, g: g, kernel: kernel, bias: bias)
        return Tensor(shape: [n, t, d], data: dx)
    }
}
