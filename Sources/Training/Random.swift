// A small seeded random-number generator and the Keras weight initialisers built on it.
// Deterministic across runs and platforms (integer arithmetic only until the final conversion).
import Features
import Foundation

/// The project's seeded generator (SplitMix64, in Features) with the draws the initialisers need.
public typealias SeededRNG = SeededGenerator

extension SeededGenerator {
    /// Standard normal (Box-Muller; one value per call, the partner is discarded for simplicity).
    public mutating func normal() -> Double {
        var u1 = uniform()
        while u1 <= 0 { u1 = uniform() }
        let u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}


/// Keras' initialisers (the distributions, not Keras' random streams: weights are exported to
/// Keras for parity, never regenerated there).
public enum Initializer {
    /// glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)). For a conv kernel
    /// [kh,kw,cin,cout]: fan_in = kh*kw*cin, fan_out = kh*kw*cout; for a matrix [in,out]: in, out.
    public static func glorotUniform(shape: [Int], rng: inout SeededRNG) -> [Float] {
        let receptive = shape.dropLast(2).reduce(1, *)
        let fanIn = Double(shape[shape.count - 2] * receptive)
        let fanOut = Double(shape[shape.count - 1] * receptive)
        let limit = (6.0 / (fanIn + fanOut)).squareRoot()
        return (0..<shape.reduce(1, *)).map { _ in Float(rng.uniform(-limit, limit)) }
    }

    /// orthogonal (gain 1), as Keras: rows = prod(shape[:-1]), cols = shape[-1]; a normal matrix of
    /// shape (max, min) is QR-factorised, Q's columns are sign-fixed so that diag(R) > 0 (Gram-Schmidt
    /// gives that directly), and Q is transposed when rows < cols. So a GRU recurrent kernel
    /// [u, 3u] has orthonormal rows.
    public static func orthogonal(shape: [Int], rng: inout SeededRNG) -> [Float] {
        let rows = shape.dropLast().reduce(1, *)
        let cols = shape[shape.count - 1]
        let m = max(rows, cols), n = min(rows, cols)
        // a is (m, n) column-major here: column j is a[j*m ..< (j+1)*m].
        var a = (0..<(m * n)).map { _ in rng.normal() }
        // Modified Gram-Schmidt, twice for numerical orthogonality.
        for j in 0..<n {
            for _ in 0..<2 {
                for k in 0..<j {
                    var dot = 0.0
                    for i in 0..<m { dot += a[k * m + i] * a[j * m + i] }
                    for i in 0..<m { a[j * m + i] -= dot * a[k * m + i] }
                }
            }
            var norm = 0.0
            for i in 0..<m { norm += a[j * m + i] * a[j * m + i] }
            norm = norm.squareRoot()
            for i in 0..<m { a[j * m + i] /= norm }
        }
        var out = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                // Q is (m, n); if rows >= cols the result is Q itself (r < m, c < n), else Q^T.
                out[r * cols + c] = Float(rows >= cols ? a[c * m + r] : a[r * m + c])
            }
        }
        return out
    }
}
