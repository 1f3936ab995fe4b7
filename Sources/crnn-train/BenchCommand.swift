import ArgumentParser
import Features

struct BenchMFCCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-mfcc",
        abstract: "Single-thread float MFCC throughput (paper config); tools/bench_mfcc.py compares it with librosa.",
        discussion: "Validates the extractor on silence first, then times N segments on one thread. Build with -c release.")

    @Option(help: "Number of 3-s segments to time.")
    var segments: Int = 500

    func run() throws {
        guard segments > 0 else { throw ValidationError("--segments must be positive") }
        print(try MFCCBenchmark.run(segments: segments).summaryLine)
    }
}
