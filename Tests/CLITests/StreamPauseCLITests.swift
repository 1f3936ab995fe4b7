import Foundation
import XCTest

/// `crnn-infer MODEL --stream` fed through a pipe by a producer that stops mid-stream (in the middle of a
/// 16-bit sample) and resumes: the windows due before the pause are printed during it (nothing waits for
/// more input or for the end), and every window equals file mode on the same samples (none lost, none repeated).
final class StreamPauseCLITests: XCTestCase {
    /// Output of a child read as it arrives, with the number of complete lines at any moment.
    final class LiveOutput: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func append(_ d: Data) { lock.lock(); data.append(d); lock.unlock() }
        var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }
        var lineCount: Int { text.filter { $0 == "\n" }.count }
    }

    func testStreamThatPausesMidSampleLosesAndRepeatsNothing() throws {
        let dir = tempDir()
        let model = dir + "/tiny.crnn"
        XCTAssertTrue(FileManager.default.createFile(atPath: model, contents: Data(cliTestModel())))
        let audio = cliAudio(seconds: 7.3, seed: 41)
        let bytes = pcmBytes(audio)
        let hop = 43 * 512, seg = 66_150
        // Pause after 4.1 s and one byte: windows 0 (ends 3.0 s) and 1 (ends 4.0 s) are due before it.
        let pauseSample = 90_405
        let split = 2 * pauseSample + 1
        let beforePause = (pauseSample - seg) / hop + 1
        XCTAssertEqual(beforePause, 2)

        let p = Process()
        p.executableURL = packageBinary("crnn-infer")
        p.arguments = [model, "--stream", "--json"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input; p.standardOutput = output; p.standardError = errors
        signal(SIGPIPE, SIG_IGN)
        try p.run()
        let out = LiveOutput(), err = LiveOutput()
        let readers = DispatchGroup()
        for (pipe, sink) in [(output, out), (errors, err)] {
            let h = pipe.fileHandleForReading
            readers.enter()
            DispatchQueue.global().async {
                while true {
                    let d = h.availableData
                    if d.isEmpty { break }
                    sink.append(d)
                }
                readers.leave()
            }
        }
        let writer = input.fileHandleForWriting
        try writer.write(contentsOf: bytes.prefix(split))
        // The pause: no input for at least 1.5 s. The windows already due must be printed meanwhile (waited
        // for up to 10 s: a debug build on a loaded machine), and nothing more.
        let pauseStart = Date()
        while out.lineCount < beforePause && Date().timeIntervalSince(pauseStart) < 10 { Thread.sleep(forTimeInterval: 0.05) }
        let seenDuringPause = out.lineCount
        Thread.sleep(forTimeInterval: max(0.5, 1.5 - Date().timeIntervalSince(pauseStart)))
        XCTAssertEqual(out.lineCount, beforePause, "lines printed during the pause")
        XCTAssertTrue(p.isRunning, "crnn-infer must keep waiting for input during a pause")
        try writer.write(contentsOf: bytes.dropFirst(split))
        try writer.close()
        p.waitUntilExit()
        readers.wait()
        XCTAssertEqual(p.terminationReason, .exit)
        XCTAssertEqual(p.terminationStatus, 0, err.text)
        XCTAssertEqual(seenDuringPause, beforePause, "windows due before the pause were printed during it")
        XCTAssertFalse(err.text.contains("trailing byte"), err.text)

        var lines = try jsonLines(out.text)
        let final = lines.removeLast()
        let windows = (audio.count - seg) / hop + 1
        XCTAssertEqual(lines.count, windows)
        XCTAssertEqual(final["windows"] as? Int, windows)
        XCTAssertEqual(final["seconds"] as! Double, Double(audio.count) / 22_050, accuracy: 0.0006)
        // File mode on each window's samples, cut from the original array.
        let paths = writeStreamWindows(lines, audio: audio, hop: hop, segment: seg, windows: windows, dir: dir)
        let file = try runBinary("crnn-infer", [model, "--json"] + paths)
        XCTAssertEqual(file.status, 0, file.stderr)
        let fileLines = try jsonLines(file.stdout)
        XCTAssertEqual(fileLines.count, windows)
        var distinct = Set<String>()
        for w in 0..<min(windows, fileLines.count) {
            let a = lines[w]["scores"] as! [String: Double], b = fileLines[w]["scores"] as! [String: Double]
            XCTAssertEqual(NSDictionary(dictionary: a), NSDictionary(dictionary: b), "window \(w)")
            distinct.insert("\(a.sorted { $0.key < $1.key })")
        }
        XCTAssertGreaterThan(distinct.count, 1, "the windows must differ for the comparison to mean anything")
    }
}
