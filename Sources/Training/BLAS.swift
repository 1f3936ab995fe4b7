// The only door to OpenBLAS: a row-major sgemm and the thread-count control.
import COpenBLAS

public enum BLAS {
    /// Sets OpenBLAS' thread count. Results of a GEMM can differ with the thread count (the
    /// reduction is split differently); pin it where a run must repeat bit for bit.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
}

/// C (M,N) = alpha * op(A) (M,K) * op(B) (K,N) + beta * C, all row-major.
/// op(A) = A (M,K) or, with `transA`, A is stored (K,M). Same for B.
@inline(__always)
func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
           alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
           beta: Float, c: UnsafeMutablePointer<Float>) {
    if m == 0 || n == 0 { return }
    let lda = transA ? m : k
    let ldb = transB ? k : n
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
}
