import ArgumentParser
import CommandLineSupport
import Foundation

@main
struct CRNNQuantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crnn-quantize",
        abstract: "Quantize a float checkpoint into an int8 model file for CRNNRuntime, and measure what it costs.",
        discussion: """
            `crnn-quantize CHECKPOINT --calibration DIR|FEATURES --out MODEL.crnn` folds, calibrates and quantizes \
            (the `quantize` subcommand, the default). `crnn-quantize inspect MODEL.crnn` prints a model file. \
            The arithmetic is in docs/quantization.md, the file format in docs/model-format.md.
            """,
        subcommands: [QuantizeCommand.self, InspectCommand.self],
        defaultSubcommand: QuantizeCommand.self)

    /// Usage errors exit with 1, not ArgumentParser's 64 (CommandLineSupport).
    static func main() { mainWithProjectExitCodes() }
}

/// Writes a line to standard error.
func warn(_ s: String) { writeStandardError(s) }

/// Prints `error: <message>` on standard error and returns the exit status for bad input (2).
func badInput(_ message: String) -> ExitCode {
    warn("error: " + message)
    return ExitCode(2)
}
