import ArgumentParser
import CRNNRuntime
import Foundation
import Quantization

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print an int8 model file: header, sections, tensors (shape, type, scales), operators, labels, feature configuration.",
        discussion: """
            The file is validated by CRNNRuntime's reader first; a truncated, corrupt, foreign or newer-version file \
            exits with status 2 and the reader's error message.
            """)

    @Argument(help: "Model file (.crnn) written by crnn-quantize.")
    var model: String

    func run() throws {
        guard let data = FileManager.default.contents(atPath: model) else {
            throw badInput("\(model): cannot read the model file (missing or unreadable)")
        }
        do {
            print(try ModelInspector.describe([UInt8](data)))
        } catch {
            throw badInput("\(model): \(error.message)")
        }
    }
}
