import Foundation
import CRNNRuntime

/// The orthonormal DCT-II as a matrix, truncated to the first `nMFCC` rows: what
/// `scipy.fft.dct(x, type=2, norm='ortho')[:nMFCC]` computes along the mel axis.
///
/// `D[k][n] = s_k * cos(pi * k * (2n + 1) / (2 N))` with `s_0 = sqrt(1/N)` and `s_k = sqrt(2/N)` otherwise
/// (N = nMels); computed in Float64, stored as Float32.
///
/// Example: for N = 128, `values[0] == Float(1 / sqrt(128.0))` and every row has unit norm.
public struct DCTMatrix: Sendable {
    /// Output coefficients (rows).
    public let nMFCC: Int
    /// Input length (columns): the mel band count.
    public let nMels: Int
    /// `nMFCC x nMels`, row-major (row = coefficient).
    public let values: [Float]
    /// The transpose, `nMels x nMFCC` row-major (one mel band's contributions to every coefficient).
    public let transposed: [Float]

    public init(config: FeatureConfig) { self.init(nMFCC: Int(config.nMFCC), nMels: Int(config.nMels)) }

    public init(nMFCC: Int, nMels: Int) {
        precondition(nMFCC > 0 && nMels > 0 && nMFCC <= nMels)
        var v = [Float](repeating: 0, count: nMFCC * nMels)
        var t = v
        let n = Double(nMels)
        for k in 0..<nMFCC {
            let scale = k == 0 ? (1.0 / n).squareRoot() : (2.0 / n).squareRoot()
            for i in 0..<nMels {
                let x = Float(scale * cos(Double.pi * Double(k) * Double(2 * i + 1) / (2.0 * n)))
                v[k * nMels + i] = x
                t[i * nMFCC + k] = x
            }
        }
        self.nMFCC = nMFCC
        self.nMels = nMels
        values = v
        transposed = t
    }
}
