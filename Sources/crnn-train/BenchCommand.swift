import ArgumentParser
import Features
import Training

struct BenchMFCCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-mfcc",
        abstract: "Single-thread float MFCC throughput (paper config); tools/reference/bench_mfcc.py compares it with librosa.",
        discussion: "Validates the extractor on silence first, then times N segments on one thread. Build with -c release.")

    @Option(help: "Number of 3-s segments to time.")
    var segments: Int = 500

    func run() throws {
        guard segments > 0 else { throw ValidationError("--segments must be positive") }
        print(try MFCCBenchmark.run(segments: segments).summaryLine)
    }
}

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-train",
        abstract: "Seconds per training epoch of cnn-gru and cnn-lstm on synthetic input; tools/reference/keras_bench.py compares with Keras.",
        discussion: "Prints one line per model: `swift-epoch <model> <seconds>`. Build with -c release.")

    @Option(help: "Segments per epoch.")
    var segments: Int = 800

    @Option(help: "Mini-batch size.")
    var batch: Int = 32

    @Option(help: "Worker threads.")
    var threads: Int = 2

    @Option(help: "Models to time.")
    var models: [String] = ["cnn-gru", "cnn-lstm"]

    func run() throws {
        guard segments > 0, batch > 0, threads > 0 else { throw ValidationError("--segments, --batch and --threads must be positive") }
        for name in models {
            let s = try TrainingBenchmark.epochSeconds(model: name, segments: segments, batch: batch, threads: threads)
            print("swift-epoch \(name) \(String(format: "%.3f", s))")
        }
    }
}
