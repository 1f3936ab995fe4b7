// Finite-difference gradient checking helpers.
//
// A layer is checked through the scalar L = sum(R * layer(x)) with a fixed random R (so every
// output element contributes); L is accumulated in Float64 from the float32 outputs. Numerical
// derivatives are central differences (L(w+eps) - L(w-eps)) / 2eps. The error of one entry is
//   |analytic - numeric| / (max(|analytic|, |numeric|) + floor)
// i.e. relative for large gradients and absolute (scaled by 1/floor) near zero.
import XCTest
@testable import Training

struct GradCheckResult {
    var worst: [String: Double] = [:]   // tensor name -> max error
    var maxError: Double { worst.values.max() ?? 0 }
    var report: String { worst.sorted { $0.key < $1.key }.map { "\($0.key): \(String(format: "%.2e", $0.value))" }.joined(separator: ", ") }
}

func entryError(_ a: Double, _ n: Double, floor: Double) -> Double {
    abs(a - n) / (max(abs(a), abs(n)) + floor)
}

func randomTensor(_ shape: [Int], rng: inout SeededRNG, scale: Double = 1, avoidZero: Double = 0) -> Tensor {
    let n = shape.reduce(1, *)
    return Tensor(shape: shape, data: (0..<n).map { _ in
        var v = rng.normal() * scale
        if avoidZero > 0 && abs(v) < avoidZero { v = v < 0 ? v - avoidZero : v + avoidZero }
        return Float(v)
    })
}

func dot(_ a: [Float], _ b: [Float]) -> Double {
    var s = 0.0
    for i in a.indices { s += Double(a[i]) * Double(b[i]) }
    return s
}

/// Checks dL/dx and dL/dparam of `layer` at `x` by central differences.
func gradCheck(_ layer: Layer, _ x: Tensor, mode: Mode = .training, eps: Float, floor: Double,
               checkInput: Bool = true, seed: UInt64 = 99) -> GradCheckResult {
    var rng = SeededRNG(seed: seed)
    let y0 = layer.forward(x, mode: mode)
    let r = randomTensor(y0.shape, rng: &rng)
    for p in layer.parameters { p.zeroGrad() }
    let dx = layer.backward(r)
    let analytic = layer.parameters.map(\.grad)
    func loss(_ input: Tensor) -> Double { dot(layer.forward(input, mode: mode).data, r.data) }
    var result = GradCheckResult()
    if checkInput {
        var worst = 0.0
        var xp = x
        for i in 0..<x.count {
            let v = xp.data[i]
            xp.data[i] = v + eps; let lp = loss(xp)
            xp.data[i] = v - eps; let lm = loss(xp)
            xp.data[i] = v
            worst = max(worst, entryError(Double(dx.data[i]), (lp - lm) / (2 * Double(eps)), floor: floor))
        }
        result.worst["input"] = worst
    }
    for (k, p) in layer.parameters.enumerated() where p.trainable {
        var worst = 0.0
        for i in 0..<p.count {
            let v = p.value[i]
            p.value[i] = v + eps; let lp = loss(x)
            p.value[i] = v - eps; let lm = loss(x)
            p.value[i] = v
            let e = entryError(Double(analytic[k][i]), (lp - lm) / (2 * Double(eps)), floor: floor)
            if e > worst, ProcessInfo.processInfo.environment["GRADCHECK_VERBOSE"] != nil {
                print("  \(p.name)[\(i)] analytic \(analytic[k][i]) numeric \((lp - lm) / (2 * Double(eps)))")
            }
            worst = max(worst, e)
        }
        result.worst[p.name] = worst
    }
    return result
}
