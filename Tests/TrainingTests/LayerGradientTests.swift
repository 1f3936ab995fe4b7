// Finite-difference gradient checks for every layer (input gradient and every parameter gradient).
// Tolerances: max entry error (see GradCheck.swift) < 1e-2 with eps = 1e-2 and floor 1e-3 for the
// smooth layers; the float32 forward limits the attainable accuracy to roughly 1e-4..1e-3.
import XCTest
@testable import Training

final class LayerGradientTests: XCTestCase {
    override func setUp() { TrainingThreads.configure(workers: 2) }

    func testConv2D() {
        var rng = SeededRNG(seed: 1)
        let conv = Conv2D(name: "conv2d", inChannels: 2, filters: 3, rng: &rng)
        // Non-zero bias so that the bias gradient is checked away from a trivial point.
        conv.bias.value = [0.1, -0.2, 0.3]
        let x = randomTensor([2, 5, 4, 2], rng: &rng)
        let r = gradCheck(conv, x, eps: 1e-2, floor: 1e-3)
        print("Conv2D grad check:", r.report)
        XCTAssertLessThan(r.maxError, 1e-2)
    }

    func testConv2DForwardMatchesDirectSum() {
        // The im2col + GEMM path against a naive 'same' convolution.
        var rng = SeededRNG(seed: 2)
        let (n, h, w, ci, co) = (2, 4, 3, 2, 3)
        let conv = Conv2D(name: "c", inChannels: ci, filters: co, rng: &rng)
        conv.bias.value = [0.5, -1, 2]
        let x = randomTensor([n, h, w, ci], rng: &rng)
        let y = conv.forward(x, mode: .inference)
        var maxDiff: Float = 0
        for b in 0..<n { for yy in 0..<h { for xx in 0..<w { for o in 0..<co {
            var s = Double(conv.bias.value[o])
            for kh in 0..<3 { for kw in 0..<3 {
                let sy = yy + kh - 1, sx = xx + kw - 1
                guard sy >= 0, sy < h, sx >= 0, sx < w else { continue }
                for c in 0..<ci {
                    s += Double(x.data[((b * h + sy) * w + sx) * ci + c]) * Double(conv.kernel.value[((kh * 3 + kw) * ci + c) * co + o])
                }
            } }
            maxDiff = max(maxDiff, abs(Float(s) - y.data[((b * h + yy) * w + xx) * co + o]))
        } } } }
        XCTAssertLessThan(maxDiff, 1e-5)
    }

    func testReLU() {
        var rng = SeededRNG(seed: 3)
        // Inputs kept at least 0.05 away from the kink at 0 (eps is 1e-2).
        let x = randomTensor([3, 4, 5], rng: &rng, avoidZero: 0.05)
        let r = gradCheck(ReLU(name: "re_lu"), x, eps: 1e-2, floor: 1e-3)
        print("ReLU grad check:", r.report)
        XCTAssertLessThan(r.maxError, 1e-3)
    }

    func testMaxPoolSamePaddingShapes() {
        // (size, pool, output, padding before): the paper's shapes under Keras 'same'.
        for (size, pool, out, pad) in [(130, 2, 65, 0), (23, 2, 12, 0), (65, 3, 22, 0), (12, 3, 4, 0), (22, 4, 6, 1), (4, 4, 1, 0)] {
            XCTAssertEqual(samePooling(size: size, pool: pool).out, out, "\(size) / \(pool)")
            XCTAssertEqual(samePooling(size: size, pool: pool).padBefore, pad, "\(size) / \(pool)")
        }
    }

    func testMaxPoolPaddedWindows() {
        // 1 x 6 x 1 x 1 with pool 4: out 2, total pad 2 -> windows rows {0,1,2}(pad before) and {3,4,5}.
        // All-negative values show that padded cells (which would be 0) never win.
        let x = Tensor(shape: [1, 6, 1, 1], data: [-5, -1, -3, -2, -9, -4])
        let y = MaxPool2D(name: "p", pool: 4).forward(x, mode: .inference)
        XCTAssertEqual(y.shape, [1, 2, 1, 1])
        XCTAssertEqual(y.data, [-1, -2])
    }

    func testMaxPool() {
        // Distinct values at least 0.05 apart so that no perturbation changes a window's winner.
        var rng = SeededRNG(seed: 4)
        let shape = [2, 7, 5, 2]
        let count = shape.reduce(1, *)
        var values = (0..<count).map { Float($0) * 0.05 - 3 }
        values.shuffle(using: &rng)
        for pool in [2, 3, 4] {
            let r = gradCheck(MaxPool2D(name: "max_pooling2d", pool: pool), Tensor(shape: shape, data: values),
                              eps: 1e-2, floor: 1e-3)
            print("MaxPool2D(\(pool)) grad check:", r.report)
            XCTAssertLessThan(r.maxError, 1e-3)
        }
    }

    func testDropout() {
        var rng = SeededRNG(seed: 5)
        let x = randomTensor([4, 50, 10], rng: &rng, avoidZero: 0.01)
        let layer = Dropout(name: "dropout", rate: 0.1, seed: 42)
        let y = layer.forward(x, mode: .training)
        let dy = randomTensor(x.shape, rng: &rng)
        let dx = layer.backward(dy)
        var kept = 0
        for i in 0..<x.count {
            let m = y.data[i] / x.data[i]
            if m != 0 {
                kept += 1
                XCTAssertEqual(m, 1 / 0.9, accuracy: 1e-5)
            }
            // The mask applied in forward is the one applied in backward.
            XCTAssertEqual(dx.data[i], dy.data[i] * (m == 0 ? 0 : 1 / 0.9), accuracy: 1e-5)
        }
        let keepFraction = Double(kept) / Double(x.count)
        XCTAssertEqual(keepFraction, 0.9, accuracy: 0.03)
        // Inference mode is the identity; the same seed repeats the same mask.
        XCTAssertEqual(layer.forward(x, mode: .inference), x)
        XCTAssertEqual(Dropout(name: "d", rate: 0.1, seed: 42).forward(x, mode: .training), y)
    }

    func testBatchNormTraining() {
        var rng = SeededRNG(seed: 6)
        let bn = BatchNorm(name: "batch_normalization", channels: 3)
        bn.gamma.value = [1.5, 0.7, -1.2]
        bn.beta.value = [0.1, -0.3, 0.2]
        let x = randomTensor([2, 3, 2, 3], rng: &rng, scale: 2)
        let r = gradCheck(bn, x, mode: .training, eps: 1e-2, floor: 1e-3)
        print("BatchNorm(training) grad check:", r.report)
        XCTAssertLessThan(r.maxError, 1e-2)
    }

    func testBatchNormInference() {
        var rng = SeededRNG(seed: 7)
        let bn = BatchNorm(name: "batch_normalization", channels: 2)
        bn.gamma.value = [1.5, -0.7]
        bn.movingMean.value = [0.3, -0.2]
        bn.movingVariance.value = [2, 0.5]
        let x = randomTensor([3, 2, 2, 2], rng: &rng)
        let r = gradCheck(bn, x, mode: .inference, eps: 1e-2, floor: 1e-3)
        print("BatchNorm(inference) grad check:", r.report)
        XCTAssertLessThan(r.maxError, 1e-2)
    }

    func testBatchNormStatistics() {
        // Biased batch variance, momentum 0.99 update of both moving statistics.
        let bn = BatchNorm(name: "bn", channels: 1)
        let x = Tensor(shape: [4, 1], data: [1, 2, 3, 6])   // mean 3, biased var 3.5
        let y = bn.forward(x, mode: .training)
        XCTAssertEqual(bn.movingMean.value[0], 0.03, accuracy: 1e-6)
        XCTAssertEqual(bn.movingVariance.value[0], 0.99 + 0.035, accuracy: 1e-6)
        XCTAssertEqual(y.data[3], 3 / (3.5 + 1e-3).squareRoot(), accuracy: 1e-5)
        let yi = bn.forward(x, mode: .inference)
        XCTAssertEqual(yi.data[3], (6 - 0.03) / (1.025 + 1e-3).squareRoot(), accuracy: 1e-5)
    }

    func testDense() {
        var rng = SeededRNG(seed: 8)
        let d = Dense(name: "dense", inputSize: 5, units: 4, rng: &rng)
        d.bias.value = [0.1, 0.2, -0.1, 0.3]
        let r = gradCheck(d, randomTensor([3, 5], rng: &rng), eps: 1e-2, floor: 1e-3)
        print("Dense grad check:", r.report)
        XCTAssertLessThan(r.maxError, 1e-2)
    }

    func testGRU() {
        checkRecurrent("GRU", seed: 9) { returnSequences, rng in
            let g = GRU(name: "gru", inputSize: 3, units: 4, returnSequences: returnSequences, rng: &rng)
            g.bias.value = (0..<g.bias.count).map { _ in Float(rng.normal() * 0.3) }
            return g
        }
    }

    func testLSTM() {
        checkRecurrent("LSTM", seed: 10) { returnSequences, rng in
            let l = LSTM(name: "lstm", inputSize: 3, units: 4, returnSequences: returnSequences, rng: &rng)
            for i in 0..<l.bias.count { l.bias.value[i] += Float(rng.normal() * 0.3) }
            return l
        }
    }

    /// A recurrent layer (3 inputs, 4 units, a perturbed bias) returning every step and the last, on a [2, 5, 3] input:
    /// finite differences against backward.
    func checkRecurrent(_ name: String, seed: UInt64, _ make: (Bool, inout SeededRNG) -> Layer) {
        for returnSequences in [true, false] {
            var rng = SeededRNG(seed: seed)
            let layer = make(returnSequences, &rng)
            let r = gradCheck(layer, randomTensor([2, 5, 3], rng: &rng), eps: 1e-2, floor: 1e-3)
            print("\(name)(return_sequences: \(returnSequences)) grad check:", r.report)
            XCTAssertLessThan(r.maxError, 1e-2)
        }
    }

    func testReshape() {
        let x = Tensor(shape: [2, 3, 2, 4], data: (0..<48).map(Float.init))
        let seq = Reshape(name: "reshape", flatten: false)
        let y = seq.forward(x, mode: .training)
        XCTAssertEqual(y.shape, [2, 3, 8])
        XCTAssertEqual(y.data, x.data)
        XCTAssertEqual(seq.backward(y).shape, x.shape)
        XCTAssertEqual(Reshape(name: "flatten", flatten: true).forward(x, mode: .training).shape, [2, 24])
    }

    func testSoftmaxCrossEntropy() {
        var rng = SeededRNG(seed: 11)
        var logits = randomTensor([3, 5], rng: &rng, scale: 2)
        let labels = [4, 0, 2]
        let (loss, d) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels)
        // Loss against a direct formula in Float64.
        var direct = 0.0
        for r in 0..<3 {
            let row = (0..<5).map { Double(logits.data[r * 5 + $0]) }
            direct += log(row.map(exp).reduce(0, +)) - row[labels[r]]
        }
        XCTAssertEqual(Double(loss), direct / 3, accuracy: 1e-6)
        var worst = 0.0
        let eps: Float = 1e-2
        for i in 0..<logits.count {
            let v = logits.data[i]
            logits.data[i] = v + eps; let lp = SoftmaxCrossEntropy.lossValue(logits: logits, labels: labels)
            logits.data[i] = v - eps; let lm = SoftmaxCrossEntropy.lossValue(logits: logits, labels: labels)
            logits.data[i] = v
            worst = max(worst, entryError(Double(d.data[i]), (lp - lm) / (2 * Double(eps)), floor: 1e-3))
        }
        print("SoftmaxCrossEntropy grad check: \(worst)")
        XCTAssertLessThan(worst, 1e-3)
        // Stable for huge logits.
        let big = SoftmaxCrossEntropy.lossAndGradient(logits: Tensor(shape: [1, 2], data: [1000, -1000]), labels: [1])
        XCTAssertEqual(big.loss, 2000, accuracy: 1e-2)
        XCTAssertTrue(big.dlogits.data.allSatisfy(\.isFinite))
    }
}
