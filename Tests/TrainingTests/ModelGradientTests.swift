// End-to-end finite-difference check (eps 1e-3, two criteria per tensor, see `check`) of a whole tiny model: the mean cross-entropy of a batch
// against every trainable parameter (training mode: batch-norm batch statistics; dropout off so
// the function is deterministic). Input 60x6 -> 30x3 -> 10x1 -> 3x1: a 3-step sequence.
import XCTest
@testable import Training

final class ModelGradientTests: XCTestCase {
    override func setUp() { TrainingThreads.configure(workers: 2) }

    func check(_ kind: ModelKind, eps: Float, floor: Double) -> (GradCheckResult, GradCheckResult) {
        let config = ModelConfig(kind: kind, filters: 3, rnnUnits: 4, inputShape: [60, 6, 1], classes: 5, dropoutRate: 0)
        let model = Model(config: config, seed: 3)
        var rng = SeededRNG(seed: 17)
        // Non-trivial biases and batch-norm affine parameters.
        for p in model.trainableParameters where p.name.hasSuffix("bias") || p.name.hasSuffix("beta") {
            for i in 0..<p.count { p.value[i] += Float(rng.normal() * 0.2) }
        }
        for p in model.trainableParameters where p.name.hasSuffix("gamma") {
            for i in 0..<p.count { p.value[i] = Float(rng.uniform(0.5, 1.5)) }
        }
        // Conv biases of +3 keep (almost) every pre-activation away from ReLU's kink. Without this,
        // channels that are mostly zero after ReLU have a tiny batch variance, batch norm amplifies
        // kink crossings ~30x and central differences measure the kinks, not the gradient.
        for p in model.trainableParameters where p.name.hasPrefix("conv2d") && p.name.hasSuffix("bias") {
            for i in 0..<p.count { p.value[i] = 3 }
        }
        let x = randomTensor([3, 60, 6, 1], rng: &rng)
        let labels = [0, 3, 4]
        model.lossAndGradients(x, labels: labels)
        let analytic = model.trainableParameters.map { ($0, $0.grad) }
        func loss() -> Double { SoftmaxCrossEntropy.lossValue(logits: model.forward(x, mode: .training), labels: labels) }
        var entries = GradCheckResult(), directional = GradCheckResult()
        for (p, grad) in analytic {
            // (1) every entry: max |analytic - numeric| over the tensor, normalised by the
            //     tensor's largest analytic gradient (at least 1e-2; float32 noise is absolute,
            //     ~1e-4..5e-4 at eps 1e-3). Pass: < 5e-2.
            var maxDiff = 0.0, maxGrad = 0.0
            for i in 0..<p.count {
                let v = p.value[i]
                p.value[i] = v + eps; let lp = loss()
                p.value[i] = v - eps; let lm = loss()
                p.value[i] = v
                maxDiff = max(maxDiff, abs(Double(grad[i]) - (lp - lm) / (2 * Double(eps))))
                maxGrad = max(maxGrad, abs(Double(grad[i])))
            }
            entries.worst[p.name] = maxDiff / max(maxGrad, 1e-2)
            // (2) the whole tensor at once: the derivative along a random unit direction d,
            //     grad . d against (L(w + eps d) - L(w - eps d)) / 2eps, relative error.
            let d = randomTensor([p.count], rng: &rng).data
            let norm = Float(dot(d, d).squareRoot())
            let unit = d.map { $0 / norm }
            let w = p.value
            p.value = zip(w, unit).map { $0 + eps * $1 }; let lp = loss()
            p.value = zip(w, unit).map { $0 - eps * $1 }; let lm = loss()
            p.value = w
            // Pass: |a - n| <= 2e-2 * max(|a|, |n|) + 1e-3 (the absolute part is ~2x the measured
            // float32 noise of a central difference at eps 1e-3); reported as the ratio to that bound.
            let a = dot(grad, unit), n = (lp - lm) / (2 * Double(eps))
            directional.worst[p.name] = abs(a - n) / (2e-2 * max(abs(a), abs(n)) + 1e-3)
        }
        return (entries, directional)
    }

    func run(_ kind: ModelKind) {
        let (entries, directional) = check(kind, eps: 1e-3, floor: 1e-3)
        print("\(kind.rawValue) model grad check, per entry (max \(String(format: "%.2e", entries.maxError))):", entries.report)
        print("\(kind.rawValue) model grad check, directional (max \(String(format: "%.2e", directional.maxError))):", directional.report)
        XCTAssertLessThan(entries.maxError, 5e-2)
        XCTAssertLessThan(directional.maxError, 1)
    }

    func testCNNGRUModelGradients() { run(.cnnGRU) }
    func testCNNLSTMModelGradients() { run(.cnnLSTM) }
    func testCNNModelGradients() { run(.cnn) }
}
