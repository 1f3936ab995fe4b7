// Conv2D, 3x3 kernel, stride 1, 'same' padding (one cell each side, as TF for k=3), with bias.
// im2col + sgemm, the batch split into Parallel.workers chunks (one single-threaded GEMM each).
//
// inp is (N,H,W,Cin), kernel is [3,3,Cin,Cout] (Keras layout; as a matrix [9*Cin, Cout] with rows
// ordered (kh,kw,ci)), bias is (Cout), out is (N,H,W,Cout).

/// For samples b in `batch`: cols[(b,h,w), (kh,kw,ci)] = inp[b, h+kh-1, w+kw-1, ci], zero outside.
/// cols is (N*H*W, 9*Cin) (only the rows of `batch` are written).
func im2col3x3(cols: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, batch: Range<Int>, h: Int, w: Int, c: Int) {
    // The rows of `batch` are one contiguous range of (N*H*W): the tiled im2col over that range, written in place.
    let hw = h * w
    im2col3x3Rows(cols: cols + batch.lowerBound * hw * 9 * c, inp: inp,
                  rows: (batch.lowerBound * hw)..<(batch.upperBound * hw), h: h, w: w, c: c)
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

/// im2col over the flattened output rows `rows` of (N,H,W) (any range, crossing samples allowed):
/// cols[r - rows.lowerBound, (kh,kw,ci)] = inp[b, y+kh-1, x+kw-1, ci], zero outside, for r = (b,y,x).
/// Used on row tiles small enough to stay in cache between im2col and the GEMM that reads them.
func im2col3x3Rows(cols: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows: Range<Int>,
                   h: Int, w: Int, c: Int) {
    let hw = h * w, rowLen = 9 * c
    if c == 1 {
        for r in rows {
            let b = r / hw, y = (r - b * hw) / w, x = r - b * hw - y * w
            let img = inp + b * hw
            let row = cols + (r - rows.lowerBound) * 9
            for kh in 0..<3 {
                let yy = y + kh - 1
                for kw in 0..<3 {
                    let xx = x + kw - 1
                    row[kh * 3 + kw] = yy >= 0 && yy < h && xx >= 0 && xx < w ? img[yy * w + xx] : 0
                }
            }
        }
        return
    }
    typealias V = SIMD8<Float>
    let vec = c % 8 == 0
    for r in rows {
        let b = r / hw, y = (r - b * hw) / w, x = r - b * hw - y * w
        let row = cols + (r - rows.lowerBound) * rowLen
        for kh in 0..<3 {
            let yy = y + kh - 1
            for kw in 0..<3 {
                let xx = x + kw - 1
                let dst = row + (kh * 3 + kw) * c
                if yy < 0 || yy >= h || xx < 0 || xx >= w {
                    dst.update(repeating: 0, count: c)
                } else if vec {
                    // Inline 8-wide copies: c is small (32), a memmove call per tap costs more than the copy.
                    let src = UnsafeRawPointer(inp + ((b * h + yy) * w + xx) * c)
                    let d = UnsafeMutableRawPointer(dst)
                    var o = 0
                    while o < c * 4 {
                        d.storeBytes(of: src.loadUnaligned(fromByteOffset: o, as: V.self), toByteOffset: o, as: V.self)
                        o += 32
                    }
                } else {
                    dst.update(from: inp + ((b * h + yy) * w + xx) * c, count: c)
                }
            }
        }
    }
}

/// Rows per im2col tile: about `bytes` of columns (9*c floats per row), at least 64 rows.
func conv2dTileRows(channels c: Int, bytes: Int = 512 * 1024) -> Int { max(64, bytes / (9 * c * 4)) }

/// The kernel for the input gradient as a convolution of dout: flipped[(kh,kw,co), ci] = kernel[(2-kh,2-kw,ci), co],
/// so that dx = im2col(dout) @ flipped (a 'same' 3x3 convolution with the kernel rotated by 180 degrees
/// and its channel axes swapped). flipped is (9*cout, cin).
func conv2dFlippedKernel(_ kernel: UnsafePointer<Float>, cin: Int, cout: Int, into flipped: UnsafeMutablePointer<Float>) {
    for kh in 0..<3 {
        for kw in 0..<3 {
            for co in 0..<cout {
                for ci in 0..<cin {
                    flipped[((kh * 3 + kw) * cout + co) * cin + ci] = kernel[(((2 - kh) * 3 + (2 - kw)) * cin + ci) * cout + co]
                }
            }
        }
    }
}

/// The whole-batch im2col + GEMM + col2im implementation the layer used before the tiled one:
/// kept as the reference the tests compare the tiled path with. Returns out (N,H,W,Cout);
/// with dy also returns dkernel, dbias (per-chunk partials summed in chunk order) and dx.
func conv2dReference(x: Tensor, kernel: [Float], bias: [Float], cout: Int, dy: Tensor?)
    -> (out: [Float], dkernel: [Float], dbias: [Float], dx: [Float]) {
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let rows = n * h * w, hw = h * w, kcount = 9 * c * cout
    var cols = [Float](repeating: 0, count: rows * 9 * c)
    var out = [Float](repeating: 0, count: rows * cout)
    x.data.withUnsafeBufferPointer { xp in
        cols.withUnsafeMutableBufferPointer { cp in
            im2col3x3(cols: cp.baseAddress!, inp: xp.baseAddress!, batch: 0..<n, h: h, w: w, c: c)
            conv2dForward(out: &out, cols: cp.baseAddress!, kernel: kernel, bias: bias, rows: rows, cin: c, cout: cout)
        }
    }
    guard let dy else { return (out, [], [], []) }
    let chunks = Parallel.chunks(n)
    var dk = [Float](repeating: 0, count: kcount), db = [Float](repeating: 0, count: cout)
    var dcols = [Float](repeating: 0, count: rows * 9 * c), dx = [Float](repeating: 0, count: rows * c)
    var pk = [Float](repeating: 0, count: kcount), pb = [Float](repeating: 0, count: cout)
    for chunk in 0..<chunks {
        let batch = (n * chunk / chunks)..<(n * (chunk + 1) / chunks)
        let r0 = batch.lowerBound * hw
        dy.data.withUnsafeBufferPointer { dp in
            cols.withUnsafeBufferPointer { cp in
                dcols.withUnsafeMutableBufferPointer { dcp in
                    conv2dBackward(dcols: dcp.baseAddress! + r0 * 9 * c, dkernel: &pk, dbias: &pb, dout: dp.baseAddress! + r0 * cout,
                                   cols: cp.baseAddress! + r0 * 9 * c, kernel: kernel, rows: batch.count * hw, cin: c, cout: cout)
                    col2im3x3(dinp: &dx, dcols: dcp.baseAddress!, batch: batch, h: h, w: w, c: c)
                }
            }
        }
        for i in 0..<kcount { dk[i] += pk[i] }
        for o in 0..<cout { db[o] += pb[o] }
    }
    return (out, dk, db, dx)
}

public final class Conv2D: Layer {
    public let name: String
    public var kindName: String { "Conv2D" }
    public let inChannels: Int, filters: Int
    public let kernel: Parameter, bias: Parameter
    /// The first layer of a model needs no input gradient; skipping it saves a GEMM and an im2col.
    public var computesInputGradient = true
    /// The input of the last forward pass (shared storage, not a copy): backward recomputes its
    /// im2col tile by tile instead of keeping an N*H*W x 9*Cin matrix.
    private var input = Tensor(shape: [0], data: [])
    /// Per-worker im2col tiles, reused across calls.
    private var scratch: [Float] = []
    private var flipped: [Float] = []
    private var partialKernel: [Float] = []
    private var partialBias: [Float] = []
    /// Below this many input channels (the first layer, Cin = 1) the columns are small (9*Cin floats
    /// per row against Cout output floats): im2col once into `cols` for the whole batch and keep them
    /// for backward, as before the tiled path; recomputing them per tile was slower there.
    static let tiledMinChannels = 8
    private var cols: [Float] = []

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

    private func ensure(_ a: inout [Float], _ count: Int) {
        if a.count < count { a = [Float](repeating: 0, count: count) }
    }

    // Row tiles: each worker takes a contiguous chunk of samples (Parallel.forEachChunk) and walks its
    // rows (b,y,x) in tiles of conv2dTileRows: im2col of the tile into the worker's scratch (~512 KB,
    // stays in L2), then the GEMM on it. Results depend on the worker count only (chunk boundaries),
    // never on timing.
    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(c == inChannels, "\(name): expected \(inChannels) channels, got \(c)")
        input = x
        let hw = h * w, cout = filters
        if c < Conv2D.tiledMinChannels { return forwardCached(x) }
        let tile = conv2dTileRows(channels: c), stride = tile * 9 * c
        let chunks = Parallel.chunks(n)
        ensure(&scratch, chunks * stride)
        return forwardChunks(x, columns: &scratch) { chunk, batch, xp, sp, kp, bp, op in
            let cols = sp + chunk * stride
            var r = batch.lowerBound * hw
            let end = batch.upperBound * hw
            while r < end {
                let r1 = min(r + tile, end)
                im2col3x3Rows(cols: cols, inp: xp, rows: r..<r1, h: h, w: w, c: c)
                conv2dForward(out: op + r * cout, cols: cols, kernel: kp, bias: bp, rows: r1 - r, cin: c, cout: cout)
                r = r1
            }
        }
    }

    /// The frame of both forward passes: a new output (N,H,W,filters), and for every chunk of the batch
    /// (Parallel.forEachChunk) `body(chunk, batch, x, columns, kernel, bias, out)` with pointers to the first element.
    private func forwardChunks(_ x: Tensor, columns: inout [Float],
                               _ body: (Int, Range<Int>, UnsafePointer<Float>, UnsafeMutablePointer<Float>,
                                        UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void)
        -> Tensor {
        let (n, h, w) = (x.shape[0], x.shape[1], x.shape[2])
        let count = n * h * w * filters
        var out = [Float](unsafeUninitializedCapacity: count) { _, k in k = count }
        x.data.withUnsafeBufferPointer { xp in
            columns.withUnsafeMutableBufferPointer { cp in
                kernel.value.withUnsafeBufferPointer { kp in
                    bias.value.withUnsafeBufferPointer { bp in
                        out.withUnsafeMutableBufferPointer { op in
                            let ptrs = UncheckedSendable((xp.baseAddress!, cp.baseAddress!, kp.baseAddress!,
                                                          bp.baseAddress!, op.baseAddress!))
                            Parallel.forEachChunk(n) { chunk, batch in
                                let (xp, cp, kp, bp, op) = ptrs.value
                                body(chunk, batch, xp, cp, kp, bp, op)
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, h, w, filters], data: out)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let x = input
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let hw = h * w, cout = filters, kcount = 9 * c * cout
        let chunks = Parallel.chunks(n)
        let needDx = computesInputGradient
        if c < Conv2D.tiledMinChannels { return backwardCached(dy) }
        // One tile size for both im2cols (of x with c channels, of dy with cout channels).
        let tile = conv2dTileRows(channels: needDx ? max(c, cout) : c)
        let stride = tile * 9 * (needDx ? max(c, cout) : c)
        ensure(&scratch, chunks * stride)
        ensure(&partialKernel, chunks * kcount)
        ensure(&partialBias, chunks * cout)
        if needDx {
            ensure(&flipped, kcount)
            kernel.value.withUnsafeBufferPointer { kp in
                flipped.withUnsafeMutableBufferPointer { fp in
                    conv2dFlippedKernel(kp.baseAddress!, cin: c, cout: cout, into: fp.baseAddress!)
                }
            }
        }
        var dx = needDx ? [Float](unsafeUninitializedCapacity: n * hw * c) { _, k in k = n * hw * c } : []
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dp in
                scratch.withUnsafeMutableBufferPointer { sp in
                    flipped.withUnsafeBufferPointer { fp in
                        partialKernel.withUnsafeMutableBufferPointer { dkp in
                            partialBias.withUnsafeMutableBufferPointer { dbp in
                                dx.withUnsafeMutableBufferPointer { dxp in
                                    let ptrs = UncheckedSendable((xp.baseAddress!, dp.baseAddress!, sp.baseAddress!,
                                                                  fp.baseAddress, dkp.baseAddress!, dbp.baseAddress!,
                                                                  dxp.baseAddress))
                                    Parallel.forEachChunk(n) { chunk, batch in
                                        let (xp, dp, sp, fp, dkp, dbp, dxp) = ptrs.value
                                        let cols = sp + chunk * stride
                                        let dk = dkp + chunk * kcount, db = dbp + chunk * cout
                                        dk.update(repeating: 0, count: kcount)
                                        db.update(repeating: 0, count: cout)
                                        var r = batch.lowerBound * hw
                                        let end = batch.upperBound * hw
                                        while r < end {
                                            let r1 = min(r + tile, end)
                                            // dkernel += cols^T @ dout over the tile.
                                            im2col3x3Rows(cols: cols, inp: xp, rows: r..<r1, h: h, w: w, c: c)
                                            sgemm(transA: true, m: 9 * c, n: cout, k: r1 - r, a: cols, b: dp + r * cout,
                                                  beta: 1, c: dk)
                                            if needDx {
                                                // dx = im2col(dout) @ flipped kernel: no dcols matrix, no scatter-add.
                                                im2col3x3Rows(cols: cols, inp: dp, rows: r..<r1, h: h, w: w, c: cout)
                                                sgemm(m: r1 - r, n: c, k: 9 * cout, a: cols, b: fp!, beta: 0, c: dxp! + r * c)
                                            }
                                            r = r1
                                        }
                                        for row in (batch.lowerBound * hw)..<end {
                                            let d = dp + row * cout
                                            for o in 0..<cout { db[o] += d[o] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        kernel.grad.withUnsafeMutableBufferPointer { gk in
            bias.grad.withUnsafeMutableBufferPointer { gb in
                partialKernel.withUnsafeBufferPointer { pk in
                    partialBias.withUnsafeBufferPointer { pb in
                        for chunk in 0..<chunks {
                            for i in 0..<kcount { gk[i] += pk[chunk * kcount + i] }
                            for o in 0..<cout { gb[o] += pb[chunk * cout + o] }
                        }
                    }
                }
            }
        }
        if !needDx { return Tensor(shape: [0], data: []) }
        return Tensor(shape: [n, h, w, c], data: dx)
    }

    // MARK: Small Cin: whole-batch columns kept from forward to backward

    private func forwardCached(_ x: Tensor) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let rows = n * h * w, hw = h * w, cout = filters
        if cols.count != rows * 9 * c { cols = [Float](repeating: 0, count: rows * 9 * c) }
        return forwardChunks(x, columns: &cols) { _, batch, xp, cp, kp, bp, op in
            im2col3x3(cols: cp, inp: xp, batch: batch, h: h, w: w, c: c)
            let r0 = batch.lowerBound * hw
            conv2dForward(out: op + r0 * cout, cols: cp + r0 * 9 * c, kernel: kp, bias: bp,
                          rows: batch.count * hw, cin: c, cout: cout)
        }
    }

    private func backwardCached(_ dy: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let hw = h * w, cout = filters, kcount = 9 * c * cout
        let chunks = Parallel.chunks(n)
        let needDx = computesInputGradient
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
        return Tensor(shape: input.shape, data: dx)
    }
}
