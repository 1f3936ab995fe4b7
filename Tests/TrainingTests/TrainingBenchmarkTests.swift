// Epoch-time benchmark, run only on request (TRAINING_BENCH=1) and meant for a release build:
//   TRAINING_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter TrainingBenchmarkTests
// tools/keras_bench.py runs this and prints the Keras figures beside it.
import Foundation
import XCTest
import Training

final class TrainingBenchmarkTests: XCTestCase {
    func testEpochSeconds() throws {
        let env = ProcessInfo.processInfo.environment
        guard env["TRAINING_BENCH"] != nil else { throw XCTSkip("set TRAINING_BENCH=1 (release build) to benchmark") }
        let segments = Int(env["TRAINING_BENCH_SEGMENTS"] ?? "") ?? 800
        let batch = Int(env["TRAINING_BENCH_BATCH"] ?? "") ?? 32
        for name in ["cnn-gru", "cnn-lstm"] {
            let s = try TrainingBenchmark.epochSeconds(model: name, segments: segments, batch: batch)
            print("swift-epoch \(name) \(String(format: "%.3f", s))")
        }
    }
}
