import Foundation
import XCTest

/// Runs the package's executables as subprocesses (they sit beside the test bundle).
struct CLIRun {
    var status: Int32; var stdout: String; var stderr: String
    /// False when the process died of a signal (a crash), so `status` is the signal number.
    var exited = true
}

/// A built executable of this package (`crnn-train`, `crnn-infer`...), beside the test bundle.
func packageBinary(_ name: String) -> URL {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    if FileManager.default.fileExists(atPath: beside.path) { return beside }
    return Bundle.main.bundleURL.appendingPathComponent(name)
}

func crnnTrainBinary() -> URL { packageBinary("crnn-train") }

func runCLI(_ args: [String], binary: String = "crnn-train") throws -> CLIRun { try runBinary(binary, args) }

/// Runs the executable `name` with `args`. With `stdin`, the data is written to the child's standard input
/// through a pipe (from another thread, so a large input cannot deadlock against a full stdout pipe) and the
/// pipe is closed at its end; a child that exits before reading everything is not an error here (SIGPIPE is
/// ignored in the test process). Without `stdin`, the child inherits the test's standard input, as before.
func runBinary(_ name: String, _ args: [String], stdin: Data? = nil) throws -> CLIRun {
    let p = Process()
    p.executableURL = packageBinary(name)
    p.arguments = args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let input = stdin.map { _ in Pipe() }
    if let input { p.standardInput = input }
    try p.run()
    let fed = DispatchSemaphore(value: 0)
    if let input, let stdin {
        signal(SIGPIPE, SIG_IGN)
        let handle = input.fileHandleForWriting
        DispatchQueue.global().async {
            try? handle.write(contentsOf: stdin)
            try? handle.close()
            fed.signal()
        }
    } else {
        fed.signal()
    }
    // Read both pipes concurrently so a chatty child cannot block on a full pipe.
    final class Box: @unchecked Sendable { var data = Data() }
    let errBox = Box()
    let done = DispatchSemaphore(value: 0)
    let errHandle = err.fileHandleForReading
    DispatchQueue.global().async { errBox.data = errHandle.readDataToEndOfFile(); done.signal() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    done.wait()
    fed.wait()
    return CLIRun(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: errBox.data, as: UTF8.self),
                  exited: p.terminationReason == .exit)
}

extension XCTestCase {
    func run(_ args: [String]) throws -> CLIRun { try runCLI(args) }

    /// `crnn-train demo` into `dir` without training: 5 generated clips per genre of 6.1 s (dir/data) and their
    /// features (dir/features.bin), the small dataset of the end-to-end tests.
    func makeDemoDataset(_ dir: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let demo = try run(["demo", "--out", dir, "--clips-per-genre", "5", "--seconds", "6.1", "--epochs", "0"])
        XCTAssertEqual(demo.status, 0, demo.stderr, file: file, line: line)
    }

    /// A fresh temporary folder, removed when the test ends.
    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "crnn-cli-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }
}
