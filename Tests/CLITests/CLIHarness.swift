import Foundation
import XCTest

/// Runs a built executable (`crnn-train` by default) as a subprocess (it sits beside the test bundle).
struct CLIRun { var status: Int32; var stdout: String; var stderr: String }

func cliBinary(_ name: String) -> URL {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    if FileManager.default.fileExists(atPath: beside.path) { return beside }
    return Bundle.main.bundleURL.appendingPathComponent(name)
}

func crnnTrainBinary() -> URL { cliBinary("crnn-train") }

func runCLI(_ args: [String], binary: String = "crnn-train") throws -> CLIRun {
    let p = Process()
    p.executableURL = cliBinary(binary)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Read both pipes concurrently so a chatty child cannot block on a full pipe.
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let done = DispatchSemaphore(value: 0)
    let errHandle = err.fileHandleForReading
    DispatchQueue.global().async { errBox.data = errHandle.readDataToEndOfFile(); done.signal() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    done.wait()
    return CLIRun(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: errBox.data, as: UTF8.self))
}

extension XCTestCase {
    func run(_ args: [String]) throws -> CLIRun { try runCLI(args) }

    /// A fresh temporary folder, removed when the test ends.
    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "crnn-cli-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }
}
