import CRNNRuntime
import XCTest
@testable import Training

final class CheckpointTests: XCTestCase {
    func sample(withState: Bool) -> Checkpoint {
        let meta = CheckpointMeta(model: "cnn-gru", modelOptions: ["filters": "8"], labels: ["a", "b"],
                                  inputMean: [1, 2], inputStd: [3, 4], split: "track", splitSeed: 9,
                                  trainTracks: ["a.1"], validationTracks: ["a.2"], testTracks: ["b.1"])
        let w = [NamedTensor(name: "conv2d/kernel", shape: [3, 3, 1, 2], values: (0..<18).map { Float($0) * 0.5 }),
                 NamedTensor(name: "dense/bias", shape: [2], values: [-1, 1])]
        let state = TrainingState(completedEpochs: 3, optimizerStep: 30, bestEpoch: 2, bestValidationLoss: 0.7,
                                  epochsSinceImprovement: 1, history: [], rngState: 12345)
        return Checkpoint(featureConfig: .paper, meta: meta, weights: w, state: withState ? state : nil,
                          optimizer: withState ? [NamedTensor(name: "adam/m/dense/bias", shape: [2], values: [0.1, 0.2])] : [])
    }

    func testRoundTrip() throws {
        for withState in [false, true] {
            let c = sample(withState: withState)
            let back = try Checkpoint(bytes: c.encoded())
            XCTAssertEqual(back.meta, c.meta)
            XCTAssertEqual(back.weights, c.weights)
            XCTAssertEqual(back.state, c.state)
            XCTAssertEqual(back.optimizer, c.optimizer)
            XCTAssertEqual(back.featureConfig, .paper)
            XCTAssertEqual(back.weightBytes, 80)
        }
    }

    func testCorruptForeignTruncatedAndNewerFilesAreRefused() {
        let good = sample(withState: true).encoded()
        func reason(_ b: [UInt8]) -> String {
            do { _ = try Checkpoint(bytes: b); return "accepted" } catch { return error.description }
        }
        XCTAssertTrue(reason(Array("CRNNFEAT\u{1}\0\0\0".utf8)).contains("not a float checkpoint"))
        XCTAssertTrue(reason(Array("hello world, not a model".utf8)).contains("bad magic"))
        for cut in stride(from: 12, to: good.count, by: max(1, good.count / 37)) {
            XCTAssertNotEqual(reason(Array(good[0..<cut])), "accepted", "truncated at \(cut)")
        }
        var flipped = good
        flipped[good.count / 2] ^= 1
        XCTAssertTrue(reason(flipped).contains("checksum") || reason(flipped).contains("truncated"), reason(flipped))
        var newer = good
        newer[8] = 7
        XCTAssertTrue(reason(newer).contains("newer"))
        XCTAssertTrue(reason(good + [0]).contains("trailing"))
    }

    func testWriteIsAtomicAndReadable() throws {
        let path = NSTemporaryDirectory() + "ckpt-\(UUID().uuidString)/model.ckpt"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try sample(withState: false).write(to: path)
        XCTAssertEqual(try Checkpoint(contentsOf: path).weights.count, 2)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        XCTAssertEqual(leftovers, ["model.ckpt"])
        XCTAssertThrowsError(try Checkpoint(contentsOf: path + ".missing"))
    }
}
