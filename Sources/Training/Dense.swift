// Dense (fully connected, linear; the softmax is fused into the loss).
// inp is (N,D), kernel is [D,K] (Keras layout), bias is (K), out is (N,K).

func denseForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, kernel: UnsafePointer<Float>,
                  bias: UnsafePointer<Float>, n: Int, d: Int, k: Int) {
    for r in 0..<n { (out + r * k).update(from: bias, count: k) }
    sgemm(m: n, n: k, k: d, a: inp, b: kernel, beta: 1, c: out)
}

/// dkernel += inp^T @ dout, dbias += column sums of dout, din = dout @ kernel^T.
func denseBackward(din: UnsafeMutablePointer<Float>, dkernel: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
                   dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, kernel: UnsafePointer<Float>, n: Int, d: Int, k: Int) {
    sgemm(transA: true, m: d, n: k, k: n, a: inp, b: dout, beta: 1, c: dkernel)
    for r in 0..<n { for j in 0..<k { dbias[j] += dout[r * k + j] } }
    sgemm(transB: true, m: n, n: d, k: k, a: dout, b: kernel, beta: 0, c: din)
}

public final class Dense: Layer {
    public let name: String
    public var kindName: String { "Dense" }
    public let inputSize: Int, units: Int
    public let kernel: Parameter, bias: Parameter
    private var inp: [Float] = []

    public init(name: String, inputSize: Int, units: Int, rng: inout SeededRNG) {
        self.name = name
        self.inputSize = inputSize
        self.units = units
        kernel = Parameter(name: "\(name)/kernel", shape: [inputSize, units],
                           value: Initializer.glorotUniform(shape: [inputSize, units], rng: &rng))
        bias = Parameter(name: "\(name)/bias", shape: [units], value: [Float](repeating: 0, count: units))
    }

    public var parameters: [Parameter] { [kernel, bias] }
    public func outputShape(for s: [Int]) -> [Int] { [units] }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let n = x.shape[0]
        precondition(x.count == n * inputSize, "\(name): expected (N,\(inputSize)), got \(x.shape)")
        inp = x.data
        var y = [Float](repeating: 0, count: n * units)
        x.data.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                denseForward(out: yp.baseAddress!, inp: xp.baseAddress!, kernel: kernel.value, bias: bias.value,
                             n: n, d: inputSize, k: units)
            }
        }
        return Tensor(shape: [n, units], data: y)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let n = dy.shape[0]
        var dx = [Float](repeating: 0, count: n * inputSize)
        dy.data.withUnsafeBufferPointer { dp in
            inp.withUnsafeBufferPointer { ip in
                dx.withUnsafeMutableBufferPointer { dxp in
                    denseBackward(din: dxp.baseAddress!, dkernel: &kernel.grad, dbias: &bias.grad, dout: dp.baseAddress!,
                                  inp: ip.baseAddress!, kernel: kernel.value, n: n, d: inputSize, k: units)
                }
            }
        }
        return Tensor(shape: [n, inputSize], data: dx)
    }
}
