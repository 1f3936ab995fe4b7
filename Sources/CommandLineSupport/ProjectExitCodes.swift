// What crnn-train and crnn-quantize share as command-line programs (crnn-infer has no ArgumentParser and its own
// entry point).
import ArgumentParser
import Foundation

extension ParsableCommand {
    /// As ArgumentParser's `main()`, but a usage error exits with 1 (the project's convention: 0 ok, 1 usage,
    /// 2 bad input) instead of its 64.
    public static func mainWithProjectExitCodes() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                writeStandardError(fullMessage(for: error))
                Foundation.exit(1)
            }
            exit(withError: error)
        }
    }
}

/// Writes a line to standard error.
public func writeStandardError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
