import CSndFile
import Foundation
import XCTest

@testable import AudioIO

/// Downmixing, errors on bad input, concurrent decoding and the real GTZAN clip.
final class DecodeTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws { dir = try TempDir() }
    override func tearDown() { dir.remove() }

    private func writeFloatWav(_ name: String, rate: Int, channels: [[Float]]) throws -> String {
        let path = dir.path(name)
        try writeSound(path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), sampleRate: rate,
                       channels: channels.count, samples: .float(interleave(channels)))
        return path
    }

    // MARK: downmix

    func testStereoOppositeChannelsCancel() throws {
        let s = sine(440, rate: 22_050, count: 10_000)
        let path = try writeFloatWav("opposite.wav", rate: 22_050, channels: [s, s.map { -$0 }])
        let y = try AudioDecoder.decodeMono(path: path, sampleRate: 22_050)
        XCTAssertEqual(y.count, s.count)
        XCTAssertEqual(y.map { abs($0) }.max(), 0)  // (a + -a) / 2 is exactly 0 in Float

        // Also through the resampler: still silent (to float rounding).
        let y2 = try AudioDecoder.decodeMono(path: path, sampleRate: 16_000)
        XCTAssertLessThan(y2.map { abs($0) }.max() ?? 1, 1e-6)
    }

    func testStereoEqualChannelsGiveThatChannel() throws {
        let s = sine(440, rate: 22_050, count: 10_000, amplitude: 0.9)
        let path = try writeFloatWav("equal.wav", rate: 22_050, channels: [s, s])
        XCTAssertEqual(try AudioDecoder.decodeMono(path: path, sampleRate: 22_050), s)
    }

    func testThreeChannelsGiveTheirMean() throws {
        let a = sine(300, rate: 22_050, count: 5_000, amplitude: 0.9)
        let b = sine(700, rate: 22_050, count: 5_000, amplitude: 0.6)
        let c = (0..<5_000).map { Float($0 % 100) / 200 - 0.25 }
        let path = try writeFloatWav("three.wav", rate: 22_050, channels: [a, b, c])
        let info = try AudioDecoder.decodeInfo(path: path)
        XCTAssertEqual(info.channels, 3)
        let y = try AudioDecoder.decodeMono(path: path, sampleRate: 22_050)
        let expected = (0..<5_000).map { (a[$0] + b[$0] + c[$0]) / 3 }
        XCTAssertEqual(y, expected)
    }

    func testLongStereoFileSpansManyReadBlocks() throws {
        // More frames than one read block, and not a multiple of it.
        let n = 3 * AudioDecoder.blockFrames + 17
        let l = sine(500, rate: 22_050, count: n, amplitude: 0.4)
        let r = sine(500, rate: 22_050, count: n, amplitude: 0.2)
        let path = try writeFloatWav("long.wav", rate: 22_050, channels: [l, r])
        let y = try AudioDecoder.decodeMono(path: path, sampleRate: 22_050)
        XCTAssertEqual(y, (0..<n).map { (l[$0] + r[$0]) / 2 })
    }

    // MARK: errors

    private func assertThrowsNaming(_ path: String, reasonContains: String? = nil, sampleRate: Int = 22_050,
                                    file: StaticString = #filePath, line: UInt = #line) {
        do {
            let y = try AudioDecoder.decodeMono(path: path, sampleRate: sampleRate)
            XCTFail("decoded \(y.count) samples from \(path) instead of throwing", file: file, line: line)
        } catch {
            XCTAssertEqual(error.path, path, file: file, line: line)
            XCTAssertTrue(error.description.contains(path), error.description, file: file, line: line)
            XCTAssertFalse(error.reason.isEmpty, file: file, line: line)
            if let reasonContains {
                XCTAssertTrue(error.reason.lowercased().contains(reasonContains.lowercased()),
                              "reason '\(error.reason)' lacks '\(reasonContains)'", file: file, line: line)
            }
            print("refused as expected: \(error)")
        }
    }

    func testMissingFile() {
        assertThrowsNaming(dir.path("does-not-exist.flac"), reasonContains: "no such file")
        XCTAssertThrowsError(try AudioDecoder.decodeInfo(path: dir.path("nope.wav")))
    }

    func testDirectory() {
        assertThrowsNaming(dir.url.path, reasonContains: "directory")
    }

    func testEmptyFile() throws {
        let path = dir.path("empty.wav")
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        assertThrowsNaming(path, reasonContains: "empty")
    }

    func testGarbageFile() throws {
        // Deterministic noise bytes without 0xFF, so that no MP3 frame sync (0xFF 0xEx) can
        // appear by chance and make a lenient decoder accept the file on some runs.
        var state: UInt32 = 2_463_534_242
        let bytes = (0..<4_096).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return UInt8(truncatingIfNeeded: state) % 0xFF
        }
        for name in ["garbage.wav", "garbage.flac", "garbage.mp3", "garbage.bin"] {
            let path = dir.path(name)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            assertThrowsNaming(path, reasonContains: "libsndfile")
        }
        // Text is garbage too.
        let text = dir.path("notes.ogg")
        try Data("this is not audio\n".utf8).write(to: URL(fileURLWithPath: text))
        assertThrowsNaming(text, reasonContains: "libsndfile")
    }

    func testTruncatedHeader() throws {
        let full = try writeFloatWav("full.wav", rate: 22_050, channels: [sine(440, rate: 22_050, count: 1_000)])
        let data = try Data(contentsOf: URL(fileURLWithPath: full))
        for cut in [4, 12, 20, 30] {  // inside RIFF, fmt chunk header, fmt body
            let path = dir.path("truncated-\(cut).wav")
            try data.prefix(cut).write(to: URL(fileURLWithPath: path))
            assertThrowsNaming(path)
        }
    }

    func testHeaderWithNoFrames() throws {
        let path = dir.path("no-frames.wav")
        try writeSound(path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), sampleRate: 22_050,
                       channels: 1, samples: .int16([]))
        assertThrowsNaming(path, reasonContains: "no audio frames")
    }

    func testTruncatedFlacBodyDoesNotCrash() throws {
        let path = dir.path("whole.flac")
        let ints = sine(440, rate: 22_050, count: 22_050).map { Int16(($0 * 32_767).rounded()) }
        try writeSound(path, format: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16), sampleRate: 22_050,
                       channels: 1, samples: .int16(ints))
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let cutPath = dir.path("cut.flac")
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cutPath))
        // Either an error naming the file, or the decodable prefix of the real samples.
        do {
            let y = try AudioDecoder.decodeMono(path: cutPath, sampleRate: 22_050)
            print("truncated FLAC: decoded \(y.count) of \(ints.count) samples")
            XCTAssertGreaterThan(y.count, 0)
            XCTAssertLessThan(y.count, ints.count)
            XCTAssertEqual(y, ints.prefix(y.count).map { Float($0) / 32_768 })
        } catch {
            print("truncated FLAC: \(error)")
            XCTAssertTrue(error.description.contains(cutPath))
        }
    }

    func testNonPositiveRequestedRate() throws {
        let path = try writeFloatWav("ok.wav", rate: 22_050, channels: [sine(440, rate: 22_050, count: 100)])
        assertThrowsNaming(path, reasonContains: "not positive", sampleRate: 0)
        assertThrowsNaming(path, reasonContains: "not positive", sampleRate: -22_050)
    }

    // MARK: threads

    /// Many decodes at once (good and bad files, several formats and rates) give exactly the
    /// results and the error messages of one-at-a-time decoding.
    func testConcurrentDecodesMatchSerial() throws {
        var paths: [String] = []
        paths.append(try writeFloatWav("a.wav", rate: 44_100, channels: [sine(440, rate: 44_100, count: 30_000),
                                                                        sine(660, rate: 44_100, count: 30_000)]))
        paths.append(try writeFloatWav("b.wav", rate: 48_000, channels: [sine(1_000, rate: 48_000, count: 25_000)]))
        paths.append(try writeFloatWav("c.wav", rate: 22_050, channels: [sine(300, rate: 22_050, count: 20_000)]))
        let flac = dir.path("d.flac")
        try writeSound(flac, format: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16), sampleRate: 16_000, channels: 1,
                       samples: .int16(sine(200, rate: 16_000, count: 16_000).map { Int16($0 * 30_000) }))
        paths.append(flac)
        let garbage = dir.path("e.wav")
        try Data((0..<2_000).map { UInt8(truncatingIfNeeded: $0 &* 37) }).write(to: URL(fileURLWithPath: garbage))
        paths.append(garbage)
        let text = dir.path("f.flac")
        try Data("not a flac file at all".utf8).write(to: URL(fileURLWithPath: text))
        paths.append(text)
        paths.append(dir.path("missing.ogg"))

        @Sendable func outcome(_ path: String) -> String {
            do {
                let y = try AudioDecoder.decodeMono(path: path, sampleRate: 22_050)
                return "ok \(y.count) \(y.reduce(0.0) { $0 * 1.0000001 + Double($1) })"
            } catch {
                return "error \(error)"
            }
        }
        let all = paths
        let serial = all.map(outcome)
        XCTAssertEqual(serial.filter { $0.hasPrefix("ok") }.count, 4)

        let jobs = 8 * all.count
        let results = ResultBox(count: jobs)
        DispatchQueue.concurrentPerform(iterations: jobs) { i in
            results.set(i, outcome(all[i % all.count]))
        }
        for i in 0..<jobs {
            XCTAssertEqual(results.get(i), serial[i % all.count], "job \(i)")
        }
    }

    // MARK: real data

    func testGtzanMiniBluesClip() throws {
        let folder = packageRoot().deletingLastPathComponent().appendingPathComponent("shared/data/gtzan-mini")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue else {
            throw XCTSkip("no GTZAN-mini data at \(folder.path) (only present on the project's own machines)")
        }
        let path = folder.appendingPathComponent("blues/blues.00000.flac").path
        let info = try AudioDecoder.decodeInfo(path: path)
        XCTAssertEqual(info.sampleRate, 22_050)
        XCTAssertEqual(info.channels, 1)
        XCTAssertTrue(info.format.hasPrefix("FLAC"), info.format)
        XCTAssertEqual(info.duration, 30, accuracy: 0.1)

        let y = try AudioDecoder.decodeMono(path: path, sampleRate: 22_050)
        print("blues.00000.flac: \(info), decoded \(y.count) samples")
        XCTAssertEqual(y.count, info.frames)
        XCTAssertEqual(y.count, 661_794)
        let peak = y.map { abs($0) }.max() ?? 0
        XCTAssertLessThanOrEqual(peak, 1)
        XCTAssertGreaterThan(peak, 0.05)  // real music, not silence
        XCTAssertGreaterThan(rms(y, 0..<y.count), 0.01)

        // At another rate: librosa's length and the same loudness.
        let y16 = try AudioDecoder.decodeMono(path: path, sampleRate: 16_000)
        XCTAssertEqual(y16.count, Int((Double(y.count) * 16_000 / 22_050).rounded(.up)))
        XCTAssertEqual(dB(rms(y16, 0..<y16.count) / rms(y, 0..<y.count)), 0, accuracy: 0.5)
    }
}

/// Results written by concurrent jobs, one slot each.
private final class ResultBox: @unchecked Sendable {
    private var slots: [String]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: "", count: count) }
    func set(_ i: Int, _ value: String) { lock.lock(); slots[i] = value; lock.unlock() }
    func get(_ i: Int) -> String { lock.lock(); defer { lock.unlock() }; return slots[i] }
}
