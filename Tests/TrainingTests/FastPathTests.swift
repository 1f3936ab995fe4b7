// The fast paths of the trainer against the implementations they replaced (kept as references):
// the tiled Conv2D (im2col per row tile, input gradient as a convolution with the flipped kernel)
// against the whole-batch im2col + GEMM + col2im, and the 8-channel SIMD max-pool forward against
// the scalar one. Same maths, different summation order: conv results agree to float rounding;
// max-pool results (values and winners) are identical.
import XCTest
@testable import Training

final class FastPathTests: XCTestCase {
    override func tearDown() { TrainingThreads.configure(workers: 2) }

    private func maxAbs(_ a: [Float]) -> Float { a.reduce(0) { max($0, abs($1)) } }

    private func assertClose(_ a: [Float], _ b: [Float], _ what: String, rel: Float = 2e-6,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        var d: Float = 0
        for i in 0..<min(a.count, b.count) { d = max(d, abs(a[i] - b[i])) }
        let bound = rel * max(maxAbs(b), 1) * 10
        print("\(what): max |tiled - reference| = \(d) (bound \(bound))")
        XCTAssertLessThanOrEqual(d, bound, what, file: file, line: line)
    }

    func testTiledConv2DMatchesWholeBatchReference() {
        // Shapes chosen so that row tiles (conv2dTileRows) cross sample boundaries and the last tile is
        // partial: Cin 16 -> 910 rows per tile, 3 samples of 20x17 = 1020 rows.
        for workers in [1, 2] {
            TrainingThreads.configure(workers: workers)
            for (n, h, w, ci, co) in [(3, 20, 17, 16, 8), (2, 9, 5, 8, 32), (4, 65, 12, 32, 32)] {
                var rng = SeededRNG(seed: UInt64(100 + ci + co + workers))
                let conv = Conv2D(name: "c", inChannels: ci, filters: co, rng: &rng)
                XCTAssertGreaterThanOrEqual(ci, Conv2D.tiledMinChannels)
                conv.bias.value = (0..<co).map { Float($0) * 0.1 - 1 }
                let x = randomTensor([n, h, w, ci], rng: &rng)
                let dy = randomTensor([n, h, w, co], rng: &rng)
                let ref = conv2dReference(x: x, kernel: conv.kernel.value, bias: conv.bias.value, cout: co, dy: dy)
                let y = conv.forward(x, mode: .training)
                let dx = conv.backward(dy)
                let tag = "n\(n) \(h)x\(w) \(ci)->\(co) workers \(workers)"
                assertClose(y.data, ref.out, "\(tag) output")
                assertClose(conv.kernel.grad, ref.dkernel, "\(tag) kernel grad")
                assertClose(conv.bias.grad, ref.dbias, "\(tag) bias grad")
                assertClose(dx.data, ref.dx, "\(tag) input grad")
                XCTAssertEqual(dx.shape, x.shape)
            }
        }
    }

    func testTiledConv2DIsDeterministic() {
        TrainingThreads.configure(workers: 2)
        var rng = SeededRNG(seed: 7)
        let conv = Conv2D(name: "c", inChannels: 32, filters: 32, rng: &rng)
        let x = randomTensor([5, 30, 12, 32], rng: &rng)
        let dy = randomTensor([5, 30, 12, 32], rng: &rng)
        var runs: [[Float]] = []
        for _ in 0..<2 {
            conv.kernel.zeroGrad()
            let y = conv.forward(x, mode: .training)
            let dx = conv.backward(dy)
            runs.append(y.data + dx.data + conv.kernel.grad)
        }
        XCTAssertEqual(runs[0], runs[1])
    }

    func testSIMDMaxPoolMatchesScalarReference() {
        for workers in [1, 2] {
            TrainingThreads.configure(workers: workers)
            for (n, h, w, c, pool) in [(3, 130, 23, 32, 2), (2, 65, 12, 8, 3), (2, 22, 4, 16, 4), (2, 7, 5, 3, 2)] {
                var rng = SeededRNG(seed: UInt64(200 + c + pool))
                // Values on a coarse grid so that windows contain ties (the first maximum in scan order wins).
                let x = (0..<(n * h * w * c)).map { _ in Float((rng.normal() * 2).rounded()) }
                let (ho, _) = samePooling(size: h, pool: pool), (wo, _) = samePooling(size: w, pool: pool)
                let count = n * ho * wo * c
                var out = [Float](repeating: 0, count: count), ref = out
                var arg = [Int32](repeating: -1, count: count), refArg = arg
                maxPoolForward(out: &out, argmax: &arg, inp: x, n: n, h: h, w: w, c: c, pool: pool)
                maxPoolForwardReference(out: &ref, argmax: &refArg, inp: x, n: n, h: h, w: w, c: c, pool: pool)
                XCTAssertEqual(out, ref, "n\(n) \(h)x\(w)x\(c) pool \(pool)")
                XCTAssertEqual(arg, refArg, "n\(n) \(h)x\(w)x\(c) pool \(pool) winners")
            }
        }
    }

    func testWindowMaxPoolBackwardMatchesScatterReference() {
        for (n, h, w, c, pool, relu) in [(2, 130, 23, 32, 2, true), (2, 65, 12, 8, 3, false), (3, 22, 4, 16, 4, true),
                                         (2, 7, 5, 3, 2, true), (2, 7, 5, 3, 3, false)] {
            var rng = SeededRNG(seed: UInt64(300 + c + pool))
            let x = (0..<(n * h * w * c)).map { _ in Float((rng.normal() * 2).rounded()) }
            let (ho, _) = samePooling(size: h, pool: pool), (wo, _) = samePooling(size: w, pool: pool)
            let count = n * ho * wo * c
            var out = [Float](repeating: 0, count: count), arg = [Int32](repeating: 0, count: count)
            maxPoolForward(out: &out, argmax: &arg, inp: x, n: n, h: h, w: w, c: c, pool: pool, reluFirst: relu)
            let dout = (0..<count).map { _ in Float(rng.normal()) }
            var fast = [Float](repeating: .nan, count: x.count), ref = [Float](repeating: .nan, count: x.count)
            maxPoolBackwardWindows(din: &fast, dout: dout, argmax: arg, n: n, h: h, w: w, c: c, pool: pool)
            maxPoolBackward(din: &ref, dout: dout, argmax: arg, inCount: x.count, outCount: count)
            XCTAssertEqual(fast, ref, "n\(n) \(h)x\(w)x\(c) pool \(pool) relu \(relu)")
        }
    }

    func testReLUMaxPoolFusionMatchesSeparateLayers() {
        // Model.forward/backward fuse ReLU -> MaxPool2D; running the layers one by one does not. Same
        // seed => same weights and dropout masks: logits and every gradient must be bit-identical.
        for kind in [ModelKind.cnnGRU, .cnnLSTM, .cnn] {
            for workers in [1, 2] {
                TrainingThreads.configure(workers: workers)
                let config = ModelConfig(kind: kind, filters: 8, rnnUnits: 5, inputShape: [48, 8, 1], classes: 3)
                var rng = SeededRNG(seed: 9)
                let x = randomTensor([5] + config.inputShape, rng: &rng)
                let labels = [0, 1, 2, 1, 0]
                let fused = Model(config: config, seed: 4), separate = Model(config: config, seed: 4)
                let (lossA, logitsA) = fused.lossAndGradients(x, labels: labels)
                separate.zeroGrad()
                var h = x
                for l in separate.layers { h = l.forward(h, mode: .training) }
                let (lossB, d) = SoftmaxCrossEntropy.lossAndGradient(logits: h, labels: labels)
                var g = d
                for l in separate.layers.reversed() { g = l.backward(g) }
                XCTAssertEqual(logitsA, h, "\(kind) logits")
                XCTAssertEqual(lossA, lossB, "\(kind) loss")
                for (a, b) in zip(fused.parameters, separate.parameters) {
                    XCTAssertEqual(a.grad, b.grad, "\(kind) workers \(workers) \(a.name)")
                    XCTAssertEqual(a.value, b.value, "\(kind) workers \(workers) \(a.name) (BN moving statistics)")
                }
            }
        }
    }
}
