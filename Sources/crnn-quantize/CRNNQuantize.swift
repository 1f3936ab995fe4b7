import ArgumentParser
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

/// Prints `error: <message>` on standard error and returns the exit status for bad input (2).
func badInput(_ message: String) -> ExitCode {
    warn("error: " + message)
    return ExitCode(2)
}
