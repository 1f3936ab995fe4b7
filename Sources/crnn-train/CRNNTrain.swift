import ArgumentParser
import CommandLineSupport
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

    /// Usage errors exit with 1, not ArgumentParser's 64 (CommandLineSupport).
    static func main() { mainWithProjectExitCodes() }
}

/// Writes a line to standard error.
func warn(_ s: String) { writeStandardError(s) }
