import CSndFile
import Foundation
import XCTest

/// Hostile audio through `crnn-train`: a dataset folder mixing good clips with truncated, forged and garbage
/// files gives features for the good ones and names every bad one in `skipped:`; `predict` and `convert`
/// refuse each bad file with exit 2 and a message naming it; nothing crashes or hangs.
final class HostileAudioCLITests: XCTestCase {
    /// Generous per-command bound (debug build, loaded machine); a hang would be far longer.
    let timeBound = 120.0

    func timedRun(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> CLIRun {
        let start = Date()
        let r = try run(args)
        let seconds = Date().timeIntervalSince(start)
        XCTAssertTrue(r.exited, "crnn-train crashed (signal \(r.status)) on \(args): \(r.stderr)", file: file, line: line)
        XCTAssertLessThan(seconds, timeBound, "\(args) took \(seconds) s", file: file, line: line)
        return r
    }

    /// A float32 WAV whose samples are `values` (cliWAV's float layout: 44-byte header, then the samples).
    func floatWAV(_ values: [Float]) -> Data {
        var d = cliWAV([Int16](repeating: 0, count: values.count), kind: .float32)
        for (i, v) in values.enumerated() {
            let bits = v.bitPattern
            for k in 0..<4 { d[44 + 4 * i + k] = UInt8(truncatingIfNeeded: bits >> (8 * k)) }
        }
        return d
    }

    /// Bad files whose outcome does not depend on the libsndfile version: name -> (bytes, words the message holds).
    func badFiles() -> [(name: String, bytes: Data, reason: String)] {
        let good = cliWAV(cliAudio(seconds: 3.5, seed: 31))
        var nan = (0..<77_175).map { Float(sin(Double($0) * 0.05)) * 0.3 }
        nan[40_000] = .nan
        var noise = [UInt8](), s: UInt32 = 2_463_534_242
        for _ in 0..<20_000 { s ^= s << 13; s ^= s >> 17; s ^= s << 5; noise.append(UInt8(truncatingIfNeeded: s) % 0xFF) }  // no 0xFF: no MP3 sync
        return [
            ("cut-header.wav", good.prefix(30), "libsndfile"),
            ("rate-1hz.wav", cliWAV(cliAudio(seconds: 3.5, seed: 32), rate: 1), "sample rate of 1 Hz"),
            ("rate-1ghz.wav", cliWAV(cliAudio(seconds: 3.5, seed: 33), rate: 1_000_000_000), "sample rate of 1000000000 Hz"),
            ("nan.wav", floatWAV(nan), "non-finite sample"),
            ("huge-values.wav", floatWAV([Float](repeating: 1e30, count: 77_175)), "non-finite MFCCs"),
            ("noise.mp3", Data(noise), "libsndfile"),
            ("empty.wav", Data(), "empty file"),
            ("short.wav", cliWAV(cliAudio(seconds: 1, seed: 34)), "too short"),
        ]
    }

    /// A FLAC whose STREAMINFO claims 2^36 - 1 frames (it used to abort crnn-train allocating for the claim).
    func forgedFLAC(_ path: String) throws {
        var info = SF_INFO()
        info.samplerate = 22_050; info.channels = 1; info.format = Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16)
        guard let h = sf_open(path, Int32(SFM_WRITE), &info) else { throw XCTSkip("libsndfile cannot write FLAC here") }
        let x = cliAudio(seconds: 3.5, seed: 35)
        _ = x.withUnsafeBufferPointer { sf_writef_short(h, $0.baseAddress, sf_count_t(x.count)) }
        sf_close(h)
        var b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        b[21] |= 0x0F; b[22] = 0xFF; b[23] = 0xFF; b[24] = 0xFF; b[25] = 0xFF  // low 36 bits of bytes 18..<26
        try Data(b).write(to: URL(fileURLWithPath: path))
    }

    func testDatasetWithBadFilesSkipsAndNamesThem() throws {
        let dir = tempDir()
        let data = dir + "/data"
        for g in ["drone", "sweep"] { try FileManager.default.createDirectory(atPath: data + "/" + g, withIntermediateDirectories: true) }
        var good = 0
        for g in 0..<2 {
            for k in 0..<3 {
                let p = data + "/" + ["drone", "sweep"][g] + "/good\(k).wav"
                XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: cliWAV(cliAudio(seconds: 3.5, seed: UInt64(10 * g + k)))))
                good += 1
            }
        }
        try forgedFLAC(data + "/drone/claims-2e36-frames.flac")  // decodable: counts as good
        good += 1
        let bad = badFiles()
        for (i, f) in bad.enumerated() {
            XCTAssertTrue(FileManager.default.createFile(atPath: data + "/" + ["drone", "sweep"][i % 2] + "/" + f.name, contents: f.bytes))
        }

        let r = try timedRun(["features", "--data", data, "--out", dir + "/f.bin", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("clips: \(good), segments: \(good), skipped: \(bad.count), "), r.stdout)
        for (i, f) in bad.enumerated() {
            let path = data + "/" + ["drone", "sweep"][i % 2] + "/" + f.name
            let line = r.stderr.split(separator: "\n").first { $0.contains("warning: skipped \(path): ") }
            XCTAssertNotNil(line, "\(f.name) not named in:\n\(r.stderr)")
            XCTAssertTrue(line?.contains(f.reason) ?? false, "\(f.name): expected '\(f.reason)' in \(line ?? "")")
        }
        XCTAssertFalse(r.stderr.contains("claims-2e36-frames"), r.stderr)

        // fit --data goes through the same extraction: it trains on the good clips and names the bad ones.
        let fit = try timedRun(["fit", "--data", data, "--epochs", "1", "--min-epochs", "1", "--filters", "4", "--batch", "4",
                                "--quiet", "--out", dir + "/run"])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertTrue(fit.stderr.contains("clips: \(good), segments: \(good), skipped: \(bad.count), "), fit.stderr)
        for f in bad { XCTAssertTrue(fit.stderr.contains("/" + f.name + ": "), "\(f.name) not named by fit") }
    }

    func testPredictAndConvertRefuseEachBadFileNamingIt() throws {
        let dir = tempDir()
        let checkpoint = packageRoot().appendingPathComponent("models/cnn-gru.ckpt").path
        guard FileManager.default.fileExists(atPath: checkpoint) else { throw XCTSkip("no shipped checkpoint at \(checkpoint)") }
        let goodPath = dir + "/good.wav"
        XCTAssertTrue(FileManager.default.createFile(atPath: goodPath, contents: cliWAV(cliAudio(seconds: 3.5, seed: 36))))
        let forged = dir + "/claims-2e36-frames.flac"
        try forgedFLAC(forged)
        var badPaths: [String] = []
        for f in badFiles() {
            let p = dir + "/" + f.name
            XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: f.bytes))
            badPaths.append(p)
            let predict = try timedRun(["predict", "--checkpoint", checkpoint, p, "--json"])
            XCTAssertEqual(predict.status, 2, "\(f.name): \(predict.stderr)")
            XCTAssertTrue(predict.stderr.contains("error: \(p): ") && predict.stderr.contains(f.reason), "\(f.name): \(predict.stderr)")
            XCTAssertEqual(predict.stdout, "", f.name)
            if f.reason == "non-finite MFCCs" || f.reason == "too short" { continue }  // convert needs no features
            let convert = try timedRun(["convert", p, "--out-dir", dir + "/out"])
            XCTAssertEqual(convert.status, 2, "\(f.name): \(convert.stderr)")
            XCTAssertTrue(convert.stderr.contains("error: \(p): ") && convert.stderr.contains(f.reason), "\(f.name): \(convert.stderr)")
        }
        // Mixed with good files: the good ones are classified / converted, the run still exits 2.
        let mixed = try timedRun(["predict", "--checkpoint", checkpoint, goodPath, forged, "--json"] + badPaths)
        XCTAssertEqual(mixed.status, 2)
        let lines = try jsonLines(mixed.stdout)
        XCTAssertEqual(lines.map { $0["file"] as! String }, [goodPath, forged])
        XCTAssertEqual(lines.map { $0["segments"] as! Int }, [1, 1])
        for p in badPaths { XCTAssertTrue(mixed.stderr.contains("error: \(p): "), "\(p) not named") }
        let conv = try timedRun(["convert", goodPath, forged] + badPaths + ["--out-dir", dir + "/out"])
        XCTAssertEqual(conv.status, 2)
        XCTAssertTrue(conv.stdout.contains("converted 4 of \(2 + badPaths.count) files"), conv.stdout)  // + 2 with features-only faults
    }
}

/// The package root, from this file's location (Tests/CLITests/<file>).
private func packageRoot(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
