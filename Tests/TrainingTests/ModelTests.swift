// Model construction: shapes, parameter counts (Keras' count_params() for the same architectures,
// from tools/reference/keras_common.build_model with tensorflow 2.20.0 / keras 3.15.1), names, summary,
// activations, determinism, and a few Adam steps that lower the loss.
import XCTest
@testable import Training

final class ModelTests: XCTestCase {
    override func setUp() { TrainingThreads.configure(workers: 2) }

    func testShapesAndParameterCountsMatchKeras() throws {
        // (total, trainable) as Keras reports them for filters 32, 10 classes.
        let expected: [String: (Int, Int)] = ["cnn-gru": (25170, 24978), "cnn-lstm": (34390, 34198), "cnn": (21130, 20938)]
        for (name, (total, trainable)) in expected {
            let m = try Model(named: name)
            XCTAssertEqual(m.parameterCount, total, name)
            XCTAssertEqual(m.trainableParameterCount, trainable, name)
        }
        let m = try Model(named: "cnn-gru")
        let shapes = Dictionary(uniqueKeysWithValues: m.outputShapes().map { ($0.layer.name, $0.shape) })
        XCTAssertEqual(shapes["max_pooling2d"], [65, 12, 32])
        XCTAssertEqual(shapes["max_pooling2d_1"], [22, 4, 32])
        XCTAssertEqual(shapes["max_pooling2d_2"], [6, 1, 32])
        XCTAssertEqual(shapes["reshape"], [6, 32])
        XCTAssertEqual(shapes["gru"], [6, 20])
        XCTAssertEqual(shapes["gru_1"], [20])
        XCTAssertEqual(shapes["dense"], [10])
        XCTAssertEqual(m.parameter(named: "gru/recurrent_kernel")?.shape, [20, 60])
        XCTAssertEqual(m.parameter(named: "gru/bias")?.shape, [2, 60])
        XCTAssertEqual(m.parameter(named: "conv2d_1/kernel")?.shape, [3, 3, 32, 32])
        XCTAssertEqual(m.parameter(named: "dense/kernel")?.shape, [20, 10])
        XCTAssertEqual(try Model(named: "cnn-lstm").parameter(named: "lstm_1/kernel")?.shape, [30, 120])
        XCTAssertThrowsError(try Model(named: "rnn"))
        let summary = m.summary()
        print(summary)
        XCTAssertTrue(summary.contains("gru_1 (GRU)"))
        XCTAssertTrue(summary.contains("Total params: 25170"))
        XCTAssertTrue(summary.contains("Non-trainable params: 192"))
    }

    func testInitialisation() throws {
        let m = try Model(named: "cnn-lstm", seed: 5)
        let bias = try XCTUnwrap(m.parameter(named: "lstm/bias")).value
        XCTAssertEqual(Array(bias[30..<60]), [Float](repeating: 1, count: 30))   // unit_forget_bias
        XCTAssertEqual(Array(bias[0..<30]), [Float](repeating: 0, count: 30))
        // Orthogonal recurrent kernel [30,120]: orthonormal rows.
        let rk = try XCTUnwrap(m.parameter(named: "lstm/recurrent_kernel")).value
        for a in 0..<30 {
            for b in 0..<30 {
                var s: Float = 0
                for j in 0..<120 { s += rk[a * 120 + j] * rk[b * 120 + j] }
                XCTAssertEqual(s, a == b ? 1 : 0, accuracy: 1e-5)
            }
        }
        // Glorot uniform conv kernel: limit sqrt(6 / (9*32 + 9*32)).
        let k = try XCTUnwrap(m.parameter(named: "conv2d_1/kernel")).value
        let limit = Float((6.0 / 576.0).squareRoot())
        XCTAssertLessThanOrEqual(k.map(abs).max()!, limit)
        XCTAssertGreaterThan(k.map(abs).max()!, 0.95 * limit)
        // Same seed, same weights; another seed, other weights.
        XCTAssertEqual(try Model(named: "cnn-lstm", seed: 5).parameterValues(), m.parameterValues())
        XCTAssertNotEqual(try Model(named: "cnn-lstm", seed: 6).parameterValues()["conv2d/kernel"],
                          m.parameterValues()["conv2d/kernel"])
    }

    func tinyBatch(_ config: ModelConfig, n: Int, seed: UInt64) -> (Tensor, [Int]) {
        var rng = SeededRNG(seed: seed)
        let x = randomTensor([n] + config.inputShape, rng: &rng)
        return (x, (0..<n).map { $0 % config.classes })
    }

    func testTrainingIsDeterministicAndLearns() {
        let config = ModelConfig(kind: .cnnGRU, filters: 4, rnnUnits: 6, inputShape: [48, 8, 1], classes: 4)
        let (x, labels) = tinyBatch(config, n: 8, seed: 3)
        func run() -> [Float] {
            let m = Model(config: config, seed: 11)
            let adam = Adam(learningRate: 1e-2)
            var losses: [Float] = []
            for _ in 0..<30 {
                losses.append(m.lossAndGradients(x, labels: labels).loss)
                adam.step(m.trainableParameters)
            }
            return losses
        }
        let a = run(), b = run()
        XCTAssertEqual(a, b, "two runs with the same seed and worker count must agree bit for bit")
        XCTAssertLessThan(a.last!, 0.7 * a.first!, "30 Adam steps on one batch should overfit it: \(a)")
    }

    func testActivationsAndInference() throws {
        let config = ModelConfig(kind: .cnnLSTM, filters: 4, rnnUnits: 5, inputShape: [48, 8, 1], classes: 3)
        let m = Model(config: config, seed: 2)
        let (x, _) = tinyBatch(config, n: 2, seed: 4)
        let acts = m.activations(x)
        XCTAssertEqual(acts.map(\.layer), m.layers.map(\.name))
        XCTAssertEqual(acts.first?.output.shape, [2, 48, 8, 4])
        XCTAssertEqual(acts.last?.output.shape, [2, 3])
        // Inference mode: no dropout, moving statistics => repeatable and equal to forward.
        XCTAssertEqual(acts.last?.output, m.forward(x, mode: .inference))
        let p = m.predict(x)
        for r in 0..<2 { XCTAssertEqual((0..<3).map { p.data[r * 3 + $0] }.reduce(0, +), 1, accuracy: 1e-5) }
    }

    func testWorkerCountDoesNotChangeResultsBeyondRounding() {
        let config = ModelConfig(kind: .cnn, filters: 4, inputShape: [48, 8, 1], classes: 3, dropoutRate: 0)
        let (x, labels) = tinyBatch(config, n: 5, seed: 8)
        var grads: [[Float]] = []
        for workers in [1, 2] {
            TrainingThreads.configure(workers: workers)
            let m = Model(config: config, seed: 1)
            m.lossAndGradients(x, labels: labels)
            grads.append(m.parameter(named: "conv2d/kernel")!.grad)
        }
        for i in grads[0].indices { XCTAssertEqual(grads[0][i], grads[1][i], accuracy: 1e-5 * max(1, abs(grads[0][i]))) }
    }
}
