// Keras parity (llm.c test_gpt2 style). tools/reference/keras_parity.py built the same cnn-gru / cnn-lstm
// in Keras, loaded the initial weights this file's export test wrote, ran one training-mode
// forward + backward (dropout rate 0) on a fixed batch of 4 inputs 130x23x1 and one Adam step, and
// wrote the golden debug state: logits, loss, the gradient of every weight, every weight after the
// step (incl. the batch-norm moving statistics) and the inference-mode logits after the step.
//
// The Adam step is checked in isolation (our Adam on Keras' gradients), see runParity.
// Tolerance, elementwise per tensor: |ours - keras| <= atol + rtol * |keras| with rtol = 1e-3 and
// atol = 1e-5 * max(1, max|keras| over the tensor) (float32 summation-order differences only).
//
// Regenerate (needs Python + TensorFlow; see tools/reference/keras_parity.py):
//   KERAS_PARITY_EXPORT_DIR=/tmp/training-parity swift test --filter KerasParityTests/testExportInitialState
//   python tools/reference/keras_parity.py /tmp/training-parity Tests/TrainingTests/Fixtures
import Foundation
import XCTest
@testable import Training

final class KerasParityTests: XCTestCase {
    static let configs: [ModelConfig] = [
        ModelConfig(kind: .cnnGRU, filters: 8, rnnUnits: 20, dropoutRate: 0),
        ModelConfig(kind: .cnnLSTM, filters: 8, rnnUnits: 30, dropoutRate: 0),
    ]
    static let rtol: Float = 1e-3
    static let atolScale: Float = 1e-5

    override func setUp() { TrainingThreads.configure(workers: 2) }

    /// Writes the seeded initial weights and the batch (not part of the normal run).
    func testExportInitialState() throws {
        guard let dir = ProcessInfo.processInfo.environment["KERAS_PARITY_EXPORT_DIR"] else {
            throw XCTSkip("set KERAS_PARITY_EXPORT_DIR to export the Keras parity inputs")
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (i, config) in Self.configs.enumerated() {
            let model = Model(config: config, seed: 2024 + UInt64(i))
            var rng = SeededRNG(seed: 77)
            let x = randomTensor([4] + config.inputShape, rng: &rng)
            let labels: [Float] = [1, 4, 7, 9]
            var a = TensorArchive()
            a.meta = ["kind": config.kind.rawValue, "filters": "\(config.filters)", "rnn_units": "\(config.rnnUnits)",
                      "classes": "\(config.classes)", "made_by": "TrainingTests/KerasParityTests.testExportInitialState"]
            a.add("input", x)
            a.add("labels", Tensor(shape: [4], data: labels))
            for p in model.parameters { a.add("init/\(p.name)", Tensor(shape: p.shape, data: p.value)) }
            try a.write(to: URL(fileURLWithPath: dir).appendingPathComponent("init_\(config.kind.rawValue).bin"))
        }
    }

    /// Compares two tensors; returns (max abs diff, worst ratio to the allowed error).
    func compare(_ name: String, _ ours: [Float], _ keras: Tensor, report: inout [String]) -> Float {
        XCTAssertEqual(ours.count, keras.count, name)
        let scale = max(1, keras.data.map(abs).max() ?? 0)
        var maxDiff: Float = 0, worst: Float = 0
        for i in 0..<min(ours.count, keras.count) {
            let d = abs(ours[i] - keras.data[i])
            maxDiff = max(maxDiff, d)
            worst = max(worst, d / (Self.atolScale * scale + Self.rtol * abs(keras.data[i])))
        }
        report.append(String(format: "  %-44@ max|diff| %.3e  (%.2f of tolerance)", name as NSString, maxDiff, worst))
        return worst
    }

    func runParity(_ kind: ModelKind) throws {
        guard let url = Bundle.module.url(forResource: "Fixtures/keras_parity_\(kind.rawValue)", withExtension: "bin") else {
            XCTFail("missing golden keras_parity_\(kind.rawValue).bin"); return
        }
        let g = try TensorArchive(contentsOf: url)
        let config = ModelConfig(kind: kind, filters: Int(g.meta["filters"]!)!, rnnUnits: Int(g.meta["rnn_units"]!)!,
                                 classes: Int(g.meta["classes"]!)!, dropoutRate: 0)
        let model = Model(config: config, seed: 0)
        for p in model.parameters {
            let t = try XCTUnwrap(g["init/\(p.name)"], "golden lacks init/\(p.name)")
            XCTAssertEqual(t.shape, p.shape, p.name)
            try model.setParameter(p.name, to: t.data)
        }
        let x = try XCTUnwrap(g["input"])
        let labels = try XCTUnwrap(g["labels"]).data.map { Int($0) }
        var report = ["Keras parity \(kind.rawValue) (\(g.meta["generator"] ?? "?")):"]
        var failures: [String] = []
        func check(_ name: String, _ ours: [Float]) throws {
            let keras = try XCTUnwrap(g[name], "golden lacks \(name)")
            if compare(name, ours, keras, report: &report) > 1 { failures.append(name) }
        }
        let (loss, logits) = model.lossAndGradients(x, labels: labels)
        try check("logits", logits.data)
        try check("loss", [loss])
        for p in model.trainableParameters { try check("grad/\(p.name)", p.grad) }
        // Batch-norm moving statistics after the one training-mode forward.
        for p in model.parameters where !p.trainable { try check("step/\(p.name)", p.value) }
        // The Adam step, isolated: our Adam applied to KERAS' gradients must give Keras' weights.
        // (Applied to our own gradients, weights whose gradient is ~1e-8, i.e. float noise, e.g. a
        // conv bias that batch norm cancels, move by a noise-driven ~1e-5: Adam normalises the
        // gradient. That end-to-end difference is printed below, not asserted.)
        let ownGrads = model.trainableParameters.map(\.grad)
        let ownValues = model.trainableParameters.map(\.value)
        for p in model.trainableParameters { p.grad = try XCTUnwrap(g["grad/\(p.name)"]).data }
        let adam = Adam()
        adam.step(model.trainableParameters)
        for p in model.trainableParameters { try check("step/\(p.name)", p.value) }
        try check("inference_logits", model.forward(x, mode: .inference).data)
        var endToEnd: Float = 0
        for (k, p) in model.trainableParameters.enumerated() {
            let own = Adam()
            let q = Parameter(name: p.name, shape: p.shape, value: ownValues[k])
            q.grad = ownGrads[k]
            own.step([q])
            let keras = try XCTUnwrap(g["step/\(p.name)"]).data
            for i in 0..<q.count { endToEnd = max(endToEnd, abs(q.value[i] - keras[i])) }
        }
        report.append(String(format: "  (end to end, Adam on our own gradients: max|diff| %.3e over all weights)", endToEnd))
        print(report.joined(separator: "\n"))
        XCTAssertTrue(failures.isEmpty, "outside tolerance: \(failures)")
    }

    func testCNNGRUMatchesKeras() throws { try runParity(.cnnGRU) }
    func testCNNLSTMMatchesKeras() throws { try runParity(.cnnLSTM) }
}
