import ArgumentParser
import Foundation

@main
struct CRNNTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crnn-train",
        abstract: "Extract MFCC features and train CRNN music-genre classifiers (float32, desktop).",
        discussion: """
            A dataset is a folder with one sub-folder per genre holding audio files (GTZAN's layout: \
            DIR/blues/blues.00000.wav). Any format libsndfile reads works; audio is downmixed to mono and \
            resampled to 22050 Hz. Features are 23 MFCCs per frame (librosa defaults) over 3-s segments.

            Start with `crnn-train demo`, which needs no data: it generates a small synthetic dataset and \
            extracts its features.
            """,
        subcommands: [DemoCommand.self, FeaturesCommand.self, MergeFeaturesCommand.self, FitCommand.self, EvalCommand.self, OutOfPoolCommand.self, OutOfPoolSummaryCommand.self, PredictCommand.self, MFCCCommand.self, ConvertCommand.self, BenchMFCCCommand.self, BenchTrainCommand.self])

    /// As ArgumentParser's, but a usage error exits with 1 (the project's convention: 0 ok, 1 usage, 2 bad input)
    /// instead of its 64.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}

/// Writes a line to standard error.
func warn(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}
