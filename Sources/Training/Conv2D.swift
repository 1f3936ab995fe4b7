// Conv2D, 3x3 kernel, stride 1, 'same' padding (one cell each side, as TF for k=3), with bias.
// im2col + sgemm, the batch split into Parallel.workers chunks (one single-threaded GEMM each).
//
// inp is (N,H,W,Cin), kernel is [3,3,Cin,Cout] (Keras layout; as a matrix [9*Cin, Cout] with rows
// ordered (kh,kw,ci)), bias is (Cout), out is (N,H,W,Cout).

/// For samples b in `batch`: cols[(b,h,w), (kh,kw,ci)] = inp[b, h+kh-1, w+kw-1, ci], zero outside.
/// cols is (N*H*W, 9*Cin) (only the rows of `batch` are written).
func im2col3x3(cols: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, batch: Range<Int>, h: Int, w: Int, c: Int) {
    let rowLen = 9 * c
    if c == 1 {
        // One input channel (the first conv): nine scalar taps per row, no per-tap copy calls.
        for b in batch {
            let img = inp + b * h * w
            for y in 0..<h {
                for x in 0..<w {
                    let row = cols + (b * h + y) * w * 9 + x * 9
                    for kh in 0..<3 {
                        let yy = y + kh - 1
                        for kw in 0..<3 {
                            let xx = x + kw - 1
                            row[kh * 3 + kw] = yy >= 0 && yy < h && xx >= 0 && xx < w ? img[yy * w + xx] : 0
                        }
                    }
                }
            }
        }
        return
    }
    for b in batch {
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

/// The adjoint of im2col3x3 for samples in `batch`: dinp[b, h+kh-1, w+kw-1, ci] = sum of
/// dcols[(b,h,w), (kh,kw,ci)]. Those samples of dinp are overwritten.
func col2im3x3(dinp: UnsafeMutablePointer<Float>, dcols: UnsafePointer<Float>, batch: Range<Int>, h: Int, w: Int, c: Int) {
    let rowLen = 9 * c
    for b in batch {
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

/// out rows (M, Cout) = cols rows (M, 9*Cin) @ kernel (9*Cin, Cout) + bias, for M rows starting at the pointers.
func conv2dForward(out: UnsafeMutablePointer<Float>, cols: UnsafePointer<Float>, kernel: UnsafePointer<Float>,
                   bias: UnsafePointer<Float>, rows: Int, cin: Int, cout: Int) {
    for r in 0..<rows { (out + r * cout).update(from: bias, count: cout) }
    sgemm(m: rows, n: cout, k: 9 * cin, a: cols, b: kernel, beta: 1, c: out)
}

/// dkernel = cols^T @ dout (overwritten, beta 0); dbias = column sums of dout (overwritten);
/// dcols = dout @ kernel^T (if requested). All over the same M rows.
func conv2dBackward(dcols: UnsafeMutablePointer<Float>?, dkernel: UnsafeMutablePointer<Float>,
                    dbias: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, cols: UnsafePointer<Float>,
                    kernel: UnsafePointer<Float>, rows: Int, cin: Int, cout: Int) {
    sgemm(transA: true, m: 9 * cin, n: cout, k: rows, a: cols, b: dout, beta: 0, c: dkernel)
    dbias.update(repeating: 0, count: cout)
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
        let rows = n * h * w, hw = h * w, cout = filters
        if cols.count != rows * 9 * c { cols = [Float](repeating: 0, count: rows * 9 * c) }
        var out = [Float](unsafeUninitializedCapacity: rows * cout) { _, k in k = rows * cout }
        x.data.withUnsafeBufferPointer { xp in
            cols.withUnsafeMutableBufferPointer { cp in
                kernel.value.withUnsafeBufferPointer { kp in
                    bias.value.withUnsafeBufferPointer { bp in
                        out.withUnsafeMutableBufferPointer { op in
                            let ptrs = UncheckedSendable((xp.baseAddress!, cp.baseAddress!, kp.baseAddress!,
                                                          bp.baseAddress!, op.baseAddress!))
                            Parallel.forEachChunk(n) { _, batch in
                                let (xp, cp, kp, bp, op) = ptrs.value
                                im2col3x3(cols: cp, inp: xp, batch: batch, h: h, w: w, c: c)
                                let r0 = batch.lowerBound * hw
                                conv2dForward(out: op + r0 * cout, cols: cp + r0 * 9 * c, kernel: kp, bias: bp,
                                              rows: batch.count * hw, cin: c, cout: cout)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, h, w, cout], data: out)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let (n, h, w, c) = (inShape[0], inShape[1], inShape[2], inShape[3])
        let hw = h * w, cout = filters, kcount = 9 * c * cout
        let chunks = Parallel.chunks(n)
        let needDx = computesInputGradient
        // Per-chunk partial weight gradients, summed in chunk order below.
        var dk = [Float](repeating: 0, count: chunks * kcount)
        var db = [Float](repeating: 0, count: chunks * cout)
        var dcols = needDx ? [Float](unsafeUninitializedCapacity: n * hw * 9 * c) { _, k in k = n * hw * 9 * c } : []
        var dx = needDx ? [Float](unsafeUninitializedCapacity: n * hw * c) { _, k in k = n * hw * c } : []
        dy.data.withUnsafeBufferPointer { dp in
            cols.withUnsafeBufferPointer { cp in
                kernel.value.withUnsafeBufferPointer { kp in
                    dk.withUnsafeMutableBufferPointer { dkp in
                        db.withUnsafeMutableBufferPointer { dbp in
                            dcols.withUnsafeMutableBufferPointer { dcp in
                                dx.withUnsafeMutableBufferPointer { dxp in
                                    let ptrs = UncheckedSendable((dp.baseAddress!, cp.baseAddress!, kp.baseAddress!,
                                                                  dkp.baseAddress!, dbp.baseAddress!, dcp.baseAddress,
                                                                  dxp.baseAddress))
                                    Parallel.forEachChunk(n) { chunk, batch in
                                        let (dp, cp, kp, dkp, dbp, dcp, dxp) = ptrs.value
                                        let r0 = batch.lowerBound * hw
                                        conv2dBackward(dcols: needDx ? dcp! + r0 * 9 * c : nil, dkernel: dkp + chunk * kcount,
                                                       dbias: dbp + chunk * cout, dout: dp + r0 * cout, cols: cp + r0 * 9 * c,
                                                       kernel: kp, rows: batch.count * hw, cin: c, cout: cout)
                                        if needDx { col2im3x3(dinp: dxp!, dcols: dcp!, batch: batch, h: h, w: w, c: c) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        for chunk in 0..<chunks {
            for i in 0..<kcount { kernel.grad[i] += dk[chunk * kcount + i] }
            for o in 0..<cout { bias.grad[o] += db[chunk * cout + o] }
        }
        if !needDx { return Tensor(shape: [0], data: []) }
        return Tensor(shape: inShape, data: dx)
    }
}
