// The input projection shared by GRU and LSTM: every time step's x_t @ kernel + input bias at once, as one GEMM
// over all N*T rows, and its backward.

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
