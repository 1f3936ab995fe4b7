// Conv2D, 3x3 kernel, stride 1, 'same' padding (one cell each side, as TF for k=3), with bias.
// im2col + one sgemm for the whole batch.
//
// inp is (N,H,W,Cin), kernel is [3,3,Cin,Cout] (Keras layout; as a matrix [9*Cin, Cout] with rows
// ordered (kh,kw,ci)), bias is (Cout), out is (N,H,W,Cout).

/// cols is (N*H*W, 9*Cin): cols[(n,h,w), (kh,kw,ci)] = inp[n, h+kh-1, w+kw-1, ci], zero outside.
func im2col3x3(cols: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, n: Int, h: Int, w: Int, c: Int) {
    let rowLen = 9 * c
    let colsBox = UncheckedSendable(cols), inpBox = UncheckedSendable(inp)
    Parallel.forEachChunk(n) { range in
        let cols = colsBox.value, inp = inpBox.value
        for b in range {
            for y in 0..<h {
                for x in 0..<w {
                    let row = cols + ((b * h + y) * w + x) * rowLen
                    for kh in 0..<3 {
                        let yy = y + kh - 1
                        for kw in 0..<3 {
                            let xx = x + kw - 1
                            let dst = row + (kh * 3 + kw) * c
                            if yy < 0 || yy >= h || xx < 0 || xx >= w {
                                dst.update(repeating: 0, count: c)
                            } else {
                                dst.update(from: inp + ((b * h + yy) * w + xx) * c, count: c)
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of im2col3x3: dinp[n, h+kh-1, w+kw-1, ci] += dcols[(n,h,w), (kh,kw,ci)]. dinp is overwritten.
func col2im3x3(dinp: UnsafeMutablePointer<Float>, dcols: UnsafePointer<Float>, n: Int, h: Int, w: Int, c: Int) {
    let rowLen = 9 * c
    let dinpBox = UncheckedSendable(dinp), dcolsBox = UncheckedSendable(dcols)
    Parallel.forEachChunk(n) { range in
        let dinp = dinpBox.value, dcols = dcolsBox.value
        for b in range {
            (dinp + b * h * w * c).update(repeating: 0, count: h * w * c)
            for y in 0..<h {
                for x in 0..<w {
                    let row = dcols + ((b * h + y) * w + x) * rowLen
                    for kh in 0..<3 {
                        let yy = y + kh - 1
                        if yy < 0 || yy >= h { continue }
                        for kw in 0..<3 {
                            let xx = x + kw - 1
                            if xx < 0 || xx >= w { continue }
                            let src = row + (kh * 3 + kw) * c
                            let dst = dinp + ((b * h + yy) * w + xx) * c
                            for ci in 0..<c { dst[ci] += src[ci] }
                        }
                    }
                }
            }
        }
    }
}

/// out (N*H*W, Cout) = cols (N*H*W, 9*Cin) @ kernel (9*Cin, Cout) + bias.
func conv2dForward(out: UnsafeMutablePointer<Float>, cols: UnsafePointer<Float>, kernel: UnsafePointer<Float>,
                   bias: UnsafePointer<Float>, rows: Int, cin: Int, cout: Int) {
    for r in 0..<rows { (out + r * cout).update(from: bias, count: cout) }
    sgemm(m: rows, n: cout, k: 9 * cin, a: cols, b: kernel, beta: 1, c: out)
}

/// dkernel += cols^T @ dout; dbias += column sums of dout; dcols = dout @ kernel^T (if requested).
func conv2dBackward(dcols: UnsafeMutablePointer<Float>?, dkernel: UnsafeMutablePointer<Float>,
                    dbias: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, cols: UnsafePointer<Float>,
                    kernel: UnsafePointer<Float>, rows: Int, cin: Int, cout: Int) {
    sgemm(transA: true, m: 9 * cin, n: cout, k: rows, a: cols, b: dout, beta: 1, c: dkernel)
    for r in 0..<rows {
        let d = dout + r * cout
        for o in 0..<cout { dbias[o] += d[o] }
    }
    if let dcols {
        sgemm(transB: true, m: rows, n: 9 * cin, k: cout, a: dout, b: kernel, beta: 0, c: dcols)
    }
}

public final class Conv2D: Layer {
    public let name: String
    public var kindName: String { "Conv2D" }
    public let inChannels: Int, filters: Int
    public let kernel: Parameter, bias: Parameter
    /// The first layer of a model needs no input gradient; skipping it saves a GEMM and a col2im.
    public var computesInputGradient = true
    private var cols: [Float] = []
    private var inShape: [Int] = []

    public init(name: String, inChannels: Int, filters: Int, rng: inout SeededRNG) {
        self.name = name
        self.inChannels = inChannels
        self.filters = filters
        let kshape = [3, 3, inChannels, filters]
        kernel = Parameter(name: "\(name)/kernel", shape: kshape,
                           value: Initializer.glorotUniform(shape: kshape, rng: &rng))
        bias = Parameter(name: "\(name)/bias", shape: [filters], value: [Float](repeating: 0, count: filters))
    }

    public var parameters: [Parameter] { [kernel, bias] }

    public func outputShape(for s: [Int]) -> [Int] { [s[0], s[1], filters] }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(c == inChannels, "\(name): expected \(inChannels) channels, got \(c)")
        inShape = x.shape
        let rows = n * h * w
        if cols.count != rows * 9 * c { cols = [Float](repeating: 0, count: rows * 9 * c) }
        var out = [Float](repeating: 0, count: rows * filters)
        x.data.withUnsafeBufferPointer { xp in
            cols.withUnsafeMutableBufferPointer { cp in
                im2col3x3(cols: cp.baseAddress!, inp: xp.baseAddress!, n: n, h: h, w: w, c: c)
            }
        }
        cols.withUnsafeBufferPointer { cp in
            kernel.value.withUnsafeBufferPointer { kp in
                bias.value.withUnsafeBufferPointer { bp in
                    out.withUnsafeMutableBufferPointer { op in
                        conv2dForward(out: op.baseAddress!, cols: cp.baseAddress!, kernel: kp.baseAddress!,
                                      bias: bp.baseAddress!, rows: rows, cin: c, cout: filters)
                    }
                }
            }
        }
        return Tensor(shape: [n, h, w, filters], data: out)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (n, h, w, c) = (inShape[0], inShape[1], inShape[2], inShape[3])
        let rows = n * h * w
        var dcols = computesInputGradient ? [Float](repeating: 0, count: rows * 9 * c) : []
        var dx = [Float](repeating: 0, count: computesInputGradient ? rows * c : 0)
        dy.data.withUnsafeBufferPointer { dp in
            cols.withUnsafeBufferPointer { cp in
                kernel.value.withUnsafeBufferPointer { kp in
                    kernel.grad.withUnsafeMutableBufferPointer { dkp in
                        bias.grad.withUnsafeMutableBufferPointer { dbp in
                            dcols.withUnsafeMutableBufferPointer { dcp in
                                conv2dBackward(dcols: computesInputGradient ? dcp.baseAddress! : nil,
                                               dkernel: dkp.baseAddress!, dbias: dbp.baseAddress!,
                                               dout: dp.baseAddress!, cols: cp.baseAddress!, kernel: kp.baseAddress!,
                                               rows: rows, cin: c, cout: filters)
                            }
                        }
                    }
                }
            }
        }
        if !computesInputGradient { return Tensor(shape: [0], data: []) }
        dcols.withUnsafeBufferPointer { dcp in
            dx.withUnsafeMutableBufferPointer { dxp in
                col2im3x3(dinp: dxp.baseAddress!, dcols: dcp.baseAddress!, n: n, h: h, w: w, c: c)
            }
        }
        return Tensor(shape: inShape, data: dx)
    }
}
