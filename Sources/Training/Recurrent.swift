// The sequence scaffolding GRU and LSTM share (their gate arithmetic is their own): the weights, the input projection
// (every time step's x_t @ kernel + input bias at once, as one GEMM over all N*T rows) and its backward, the
// recurrent GEMM of a step and its backward, the output (every step or the last) and its gradient.
// Caches are time-major: hs is (T+1,N,U) with h_0 = 0, so step s reads h_{s} at hs[s*N*U] and writes h_{s+1}.

/// kernel [D, gates*U] (Glorot uniform) and recurrent_kernel [U, gates*U] (orthogonal), drawn in that order.
func recurrentKernels(name: String, inputSize: Int, units: Int, gates: Int, rng: inout SeededRNG) -> (Parameter, Parameter) {
    let kernel = Parameter(name: "\(name)/kernel", shape: [inputSize, gates * units],
                           value: Initializer.glorotUniform(shape: [inputSize, gates * units], rng: &rng))
    let recurrentKernel = Parameter(name: "\(name)/recurrent_kernel", shape: [units, gates * units],
                                    value: Initializer.orthogonal(shape: [units, gates * units], rng: &rng))
    return (kernel, recurrentKernel)
}

/// out (N, G) += h_step (N, U) @ recurrentKernel (U, G), h_step read from the time-major cache `hs`.
func recurrentStep(_ hs: [Float], step: Int, n: Int, u: Int, g: Int, recurrentKernel: [Float], into out: inout [Float]) {
    hs.withUnsafeBufferPointer { hsp in
        out.withUnsafeMutableBufferPointer { o in
            sgemm(m: n, n: g, k: u, a: hsp.baseAddress! + step * n * u, b: recurrentKernel, beta: 1, c: o.baseAddress!)
        }
    }
}

/// Backward of `recurrentStep`: recurrentKernel.grad += h_step^T @ dOut; dhPrev = dOut @ recurrentKernel^T
/// + beta * dhPrev (beta 1 adds to what the gates already put there, 0 overwrites).
func recurrentStepBackward(_ hs: [Float], step: Int, n: Int, u: Int, g: Int, _ dOut: [Float], recurrentKernel: Parameter,
                           dhPrev: inout [Float], beta: Float) {
    hs.withUnsafeBufferPointer { hsp in
        dOut.withUnsafeBufferPointer { dp in
            recurrentKernel.grad.withUnsafeMutableBufferPointer { gk in
                sgemm(transA: true, m: u, n: g, k: n, a: hsp.baseAddress! + step * n * u, b: dp.baseAddress!,
                      beta: 1, c: gk.baseAddress!)
            }
            dhPrev.withUnsafeMutableBufferPointer { o in
                sgemm(transB: true, m: n, n: u, k: g, a: dp.baseAddress!, b: recurrentKernel.value, beta: beta,
                      c: o.baseAddress!)
            }
        }
    }
}

/// The layer's output from the hidden-state cache: (N,T,U) with return_sequences, else (N,U) (the last step).
func recurrentOutput(_ hs: [Float], n: Int, t: Int, u: Int, returnSequences: Bool) -> Tensor {
    if returnSequences {
        var y = [Float](repeating: 0, count: n * t * u)
        for step in 0..<t {
            for row in 0..<n {
                for j in 0..<u { y[(row * t + step) * u + j] = hs[((step + 1) * n + row) * u + j] }
            }
        }
        return Tensor(shape: [n, t, u], data: y)
    }
    return Tensor(shape: [n, u], data: Array(hs[(t * n * u)..<((t + 1) * n * u)]))
}

/// Backward of `recurrentOutput` at one step: dh (N, U) += the output gradient of h_{step+1}.
func addOutputGradient(_ dy: Tensor, step: Int, n: Int, t: Int, u: Int, returnSequences: Bool, into dh: inout [Float]) {
    for row in 0..<n {
        for j in 0..<u {
            if returnSequences { dh[row * u + j] += dy.data[(row * t + step) * u + j] }
            else if step == t - 1 { dh[row * u + j] += dy.data[row * u + j] }
        }
    }
}

/// xp (rows, G) = inp (rows, D) @ kernel (D, G) + bias[0..<G] (the input bias row), row-major.
func recurrentInputProjection(_ inp: [Float], rows: Int, d: Int, g: Int, kernel: [Float], bias: [Float]) -> [Float] {
    var xp = [Float](repeating: 0, count: rows * g)
    for row in 0..<rows { for j in 0..<g { xp[row * g + j] = bias[j] } }
    inp.withUnsafeBufferPointer { ip in
        xp.withUnsafeMutableBufferPointer { o in
            sgemm(m: rows, n: g, k: d, a: ip.baseAddress!, b: kernel, beta: 1, c: o.baseAddress!)
        }
    }
    return xp
}

/// Backward of `recurrentInputProjection`: kernel.grad += inp^T @ dxp; bias.grad[0..<G] += column sums of dxp;
/// returns dinp (rows, D) = dxp @ kernel^T.
func recurrentInputProjectionBackward(_ inp: [Float], _ dxp: [Float], rows: Int, d: Int, g: Int,
                                      kernel: Parameter, bias: Parameter) -> [Float] {
    var dx = [Float](repeating: 0, count: rows * d)
    for row in 0..<rows { for j in 0..<g { bias.grad[j] += dxp[row * g + j] } }
    inp.withUnsafeBufferPointer { ip in
        dxp.withUnsafeBufferPointer { dp in
            kernel.grad.withUnsafeMutableBufferPointer { gk in
                sgemm(transA: true, m: d, n: g, k: rows, a: ip.baseAddress!, b: dp.baseAddress!, beta: 1,
                      c: gk.baseAddress!)
            }
            dx.withUnsafeMutableBufferPointer { o in
                sgemm(transB: true, m: rows, n: d, k: g, a: dp.baseAddress!, b: kernel.value, beta: 0,
                      c: o.baseAddress!)
            }
        }
    }
    return dx
}

/// What GRU and LSTM hold and do alike: the three weights (kernel and recurrent kernel drawn by `recurrentKernels`,
/// the bias given by the subclass), the hidden-state cache, the input projection at the start of `forward` and its
/// gradient at the end of `backward`. The subclasses add their gates.
public class RecurrentLayer {
    public let name: String
    public let inputSize: Int, units: Int
    public let returnSequences: Bool
    public let kernel: Parameter, recurrentKernel: Parameter, bias: Parameter
    /// The last forward's input (N,T,D) and sizes, and its hidden states hs (T+1,N,U) with h_0 = 0.
    var inp: [Float] = [], hs: [Float] = []
    var n = 0, t = 0
    /// Gates per unit: GRU 3, LSTM 4 (the kernels' column blocks).
    let gateCount: Int

    init(name: String, inputSize: Int, units: Int, returnSequences: Bool, gates: Int, biasShape: [Int],
         biasValue: [Float], rng: inout SeededRNG) {
        self.name = name
        self.inputSize = inputSize
        self.units = units
        self.returnSequences = returnSequences
        self.gateCount = gates
        (kernel, recurrentKernel) = recurrentKernels(name: name, inputSize: inputSize, units: units, gates: gates, rng: &rng)
        bias = Parameter(name: "\(name)/bias", shape: biasShape, value: biasValue)
    }

    public var parameters: [Parameter] { [kernel, recurrentKernel, bias] }

    public func outputShape(for s: [Int]) -> [Int] { returnSequences ? [s[0], units] : [units] }

    /// Starts a forward pass: keeps x and its sizes, zeroes hs, returns xp (N,T,G) = x (N*T,D) @ kernel + input bias.
    func beginForward(_ x: Tensor) -> [Float] {
        n = x.shape[0]; t = x.shape[1]
        precondition(x.shape[2] == inputSize, "\(name): expected input size \(inputSize), got \(x.shape)")
        inp = x.data
        hs = [Float](repeating: 0, count: (t + 1) * n * units)
        return recurrentInputProjection(x.data, rows: n * t, d: inputSize, g: gateCount * units,
                                        kernel: kernel.value, bias: bias.value)
    }

    /// The output of the forward pass from hs: every step (N,T,U) or the last (N,U).
    func forwardOutput() -> Tensor { recurrentOutput(hs, n: n, t: t, u: units, returnSequences: returnSequences) }

    /// A backward pass through time, last step first. For each step, `step(t, dh, &dhPrev, &dxp, &dRec)` gets dh =
    /// dL/dh_t (the output's gradient at t plus what step t + 1 passed back) and writes the step's gate gradients
    /// into dxp (N,T,G), the gradient of the step's recurrent GEMM output into dRec (N,G) and, with `recurrentBeta` 1,
    /// its own term of dL/dh_{t-1} into dhPrev. Then `recurrentStepBackward` adds h_{t-1}^T @ dRec to the recurrent
    /// kernel's gradient and makes dhPrev = dRec @ recurrent_kernel^T + recurrentBeta * dhPrev, which becomes the next
    /// step's dh. Ends with endBackward.
    func backwardThroughTime(_ dy: Tensor, recurrentBeta: Float,
                             _ step: (Int, [Float], inout [Float], inout [Float], inout [Float]) -> Void) -> Tensor {
        let g = gateCount * units
        var dxp = [Float](repeating: 0, count: n * t * g)
        var dh = [Float](repeating: 0, count: n * units)      // dL/dh_t flowing back from step t+1
        var dhPrev = [Float](repeating: 0, count: n * units)
        var dRec = [Float](repeating: 0, count: n * g)        // every element written by every step
        for s in stride(from: t - 1, through: 0, by: -1) {
            addOutputGradient(dy, step: s, n: n, t: t, u: units, returnSequences: returnSequences, into: &dh)
            step(s, dh, &dhPrev, &dxp, &dRec)
            recurrentStepBackward(hs, step: s, n: n, u: units, g: g, dRec, recurrentKernel: recurrentKernel,
                                  dhPrev: &dhPrev, beta: recurrentBeta)
            swap(&dh, &dhPrev)
        }
        return endBackward(dxp)
    }

    /// Ends a backward pass: kernel grad += inp^T @ dxp; input bias += sums; returns dinp = dxp @ kernel^T.
    func endBackward(_ dxp: [Float]) -> Tensor {
        let dx = recurrentInputProjectionBackward(inp, dxp, rows: n * t, d: inputSize, g: gateCount * units,
                                                  kernel: kernel, bias: bias)
        return Tensor(shape: [n, t, inputSize], data: dx)
    }
}
