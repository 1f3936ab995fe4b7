import CRNNRuntime
import Features
import Foundation
import Quantization
import TestSupport
import XCTest

// End-to-end tests of the `crnn-infer` executable, run as a subprocess on a model file the test writes.

/// The host's frontend tables (Quantization.makeFrontendTables), as crnn-quantize writes them.
func cliFrontendTables(_ c: FeatureConfig) -> FrontendTables { try! makeFrontendTables(config: c) }

/// A small CRNN on the paper's frontend (130 x 23 Q23.8 MFCC, 10 genres) with LCG weights: input quantize,
/// conv 3x3 (+ pool 2x2), affine, conv 3x3, max-pool 3x3, reshape, GRU, GRU, dense. Random weights, real
/// structure: enough to test the program, not to classify music. Seed 3: its outputs vary with the input
/// (some seeds saturate to one answer, which would make the stream-vs-file test vacuous; that test checks).
func cliTestModel(seed: UInt32 = 3, frontend: Bool = true) -> [UInt8] {
    var g = LCG(state: seed)
    func next() -> UInt32 { g.next() }
    func s8(_ n: Int) -> [Int8] { g.int8s(n) }
    func mult(_ n: Int) -> [Int32] { g.multipliers(n) }
    var b = ModelBuilder()
    b.featureConfig = .paper
    if frontend { b.frontend = cliFrontendTables(.paper) }
    let frames = 130, coeffs = 23, filters = 4, units = 6, classes = 10
    let input = b.addActivation(.int32, shape: [frames, coeffs], scaleMultiplier: 1 << 30, scaleShift: -7)
    // MFCC means: c0 around -250, the others around 0 (Q23.8); scale 1/512 per Q23.8 step.
    let mean = (0..<coeffs).map { k in k == 0 ? Int32(-250 * 256) : Int32(truncatingIfNeeded: next() >> 24) * 16 }
    var x = b.addInputQuantize(input: input, mean: mean, multipliers: [Int32](repeating: 1 << 30, count: coeffs),
                               shifts: [Int32](repeating: -8, count: coeffs), outputZeroPoint: 0)
    var channels = 1
    for block in 0..<2 {
        x = b.addConv2d(input: x, weights: s8(filters * 9 * channels), kernel: (3, 3), outputChannels: filters,
                        bias: (0..<filters).map { _ in Int32(truncatingIfNeeded: next() >> 20) - 2048 },
                        multipliers: mult(filters), shifts: [Int32](repeating: -9, count: filters),
                        outputZeroPoint: -100, activationMin: -100, activationMax: 127, pool: block == 0 ? (2, 2) : (1, 1))
        if block == 1 { x = b.addMaxPool2d(input: x, pool: (3, 3)) }
        x = b.addAffine(input: x, weights: (0..<filters).map { _ in Int16(truncatingIfNeeded: next() >> 16) },
                        bias: (0..<filters).map { _ in Int32(truncatingIfNeeded: next() >> 12) - (1 << 19) },
                        multipliers: mult(filters), shifts: [Int32](repeating: -15, count: filters), outputZeroPoint: 5)
        channels = filters
    }
    let h = samePoolGeometry(length: samePoolGeometry(length: frames, pool: 2).output, pool: 3).output
    let w = samePoolGeometry(length: samePoolGeometry(length: coeffs, pool: 2).output, pool: 3).output
    x = b.addReshape(input: x, shape: [h, w * filters])
    for layer in 0..<2 {
        let inSize = layer == 0 ? w * filters : units, rows = 3 * units
        x = b.addRecurrent(lstm: false, input: x, units: units, inputWeights: s8(rows * inSize), recurrentWeights: s8(rows * units),
                           inputBias: (0..<rows).map { _ in Int32(truncatingIfNeeded: next() >> 18) - 8192 },
                           recurrentBias: (0..<rows).map { _ in Int32(truncatingIfNeeded: next() >> 18) - 8192 },
                           inputMultipliers: mult(rows), inputShifts: [Int32](repeating: -2, count: rows),
                           recurrentMultipliers: mult(rows), recurrentShifts: [Int32](repeating: -1, count: rows),
                           returnSequences: layer == 0, cellFractionBits: 11)
    }
    x = b.addFullyConnected(input: x, weights: s8(classes * units), outputs: classes,
                            bias: (0..<classes).map { _ in Int32(truncatingIfNeeded: next() >> 20) - 2048 },
                            multipliers: mult(classes), shifts: [Int32](repeating: -6, count: classes), outputZeroPoint: 0)
    b.inputTensor = input
    b.outputTensor = x
    b.labels = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"].map { Array($0.utf8) }
    b.softmaxMultiplier = 1 << 30
    b.softmaxShift = 13
    return b.encode()
}

/// Deterministic music-like test audio at 22050 Hz: tones whose pitch and level change every half second,
/// plus noise. Integers only, so every WAV encoding below holds exactly the same samples.
func cliAudio(seconds: Double, seed: UInt64) -> [Int16] {
    var g = SplitMix64(seed: seed)
    func next() -> UInt64 { g.next() }
    let n = Int(seconds * 22050)
    var out = [Int16](repeating: 0, count: n)
    var period = 50, amp = 8000
    for i in 0..<n {
        if i % 11025 == 0 { period = 10 + Int(next() % 190); amp = 300 + Int(next() % 14000) }
        let p = i % period
        let tri = (p < period / 2 ? p : period - p) * 4 * amp / period - amp
        out[i] = Int16(clamping: tri + Int(Int16(truncatingIfNeeded: next())) / 10)
    }
    return out
}

enum WAVKind { case pcm16, pcm16Big, pcm16Stereo, pcm24, float32, extensible16 }

/// WAV bytes holding exactly `samples` (every kind decodes back to the same int16 samples).
func cliWAV(_ samples: [Int16], kind: WAVKind = .pcm16, rate: UInt32 = 22050) -> Data {
    let big = kind == .pcm16Big
    func u16(_ v: UInt16) -> [UInt8] { big ? [UInt8(v >> 8), UInt8(v & 255)] : [UInt8(v & 255), UInt8(v >> 8)] }
    func u32(_ v: UInt32) -> [UInt8] {
        let le = [UInt8(v & 255), UInt8((v >> 8) & 255), UInt8((v >> 16) & 255), UInt8(v >> 24)]
        return big ? le.reversed() : le
    }
    var channels: UInt16 = 1, bits: UInt16 = 16, tag: UInt16 = 1
    var data: [UInt8] = []
    switch kind {
    case .pcm16, .extensible16:
        for v in samples { data += u16(UInt16(bitPattern: v)) }
    case .pcm16Big:
        for v in samples { data += u16(UInt16(bitPattern: v)) }
    case .pcm16Stereo:
        channels = 2
        for v in samples { data += u16(UInt16(bitPattern: v)) + u16(UInt16(bitPattern: v)) }
    case .pcm24:
        bits = 24
        for v in samples { let u = UInt32(bitPattern: Int32(v) << 8); data += [UInt8(u & 255), UInt8((u >> 8) & 255), UInt8((u >> 16) & 255)] }
    case .float32:
        bits = 32; tag = 3
        for v in samples { data += u32((Float(v) / 32768).bitPattern) }
    }
    let align = channels * bits / 8
    var fmt = u16(kind == .extensible16 ? 0xFFFE : tag) + u16(channels) + u32(rate) + u32(rate * UInt32(align)) + u16(align) + u16(bits)
    if kind == .extensible16 {
        fmt += u16(22) + u16(16) + u32(4) + u32(1) + u16(0) + u16(0x10) + [0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
    }
    let dataSize = UInt32(data.count)
    if data.count % 2 == 1 { data.append(0) }  // the pad byte is not part of the chunk size
    let body = Array("WAVE".utf8) + Array("fmt ".utf8) + u32(UInt32(fmt.count)) + fmt + Array("data".utf8) + u32(dataSize) + data
    return Data(Array((big ? "RIFX" : "RIFF").utf8) + u32(UInt32(body.count)) + body)
}

func pcmBytes(_ samples: [Int16]) -> Data {
    var d = Data(capacity: samples.count * 2)
    for v in samples { let u = UInt16(bitPattern: v); d.append(UInt8(u & 255)); d.append(UInt8(u >> 8)) }
    return d
}

func jsonLines(_ s: String) throws -> [[String: Any]] {
    try s.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
}

final class InferCLITests: XCTestCase {
    func infer(_ args: [String], stdin: Data? = nil) throws -> CLIRun {
        let r = try runBinary("crnn-infer", args, stdin: stdin)
        XCTAssertTrue(r.exited, "crnn-infer crashed (signal \(r.status)) on \(args): \(r.stderr)")
        return r
    }

    func writeModel(_ dir: String, _ bytes: [UInt8] = cliTestModel()) -> String {
        let path = dir + "/tiny.crnn"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        return path
    }

    func testHelpVersionAndUsageErrors() throws {
        let help = try infer(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("USAGE") && help.stdout.contains("--stream") && help.stdout.contains("--mfcc"))
        let version = try infer(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.hasPrefix("crnn-infer "))
        for args in [[], ["m.crnn"], ["m.crnn", "--frobnicate"], ["m.crnn", "a.wav", "--top-k", "0"],
                     ["m.crnn", "--stream", "a.wav"], ["m.crnn", "--stream", "--bench"], ["m.crnn", "--stream", "--hop", "-1"],
                     ["m.crnn", "--mfcc"], ["m.crnn", "a.wav", "--hop", "1"], ["m.crnn", "--stream", "--hop"]] {
            let r = try infer(args)
            XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("crnn-infer: ") && r.stderr.contains("--help"), "\(args): \(r.stderr)")
        }
    }

    func testCorruptOrMissingModelExits2WithTheModelError() throws {
        let dir = tempDir()
        let wav = dir + "/a.wav"
        XCTAssertTrue(FileManager.default.createFile(atPath: wav, contents: cliWAV(cliAudio(seconds: 3.1, seed: 1))))
        let good = cliTestModel()
        var flipped = good
        flipped[good.count / 2] ^= 0x40
        let cases: [(String, Data?, String)] = [
            ("missing.crnn", nil, "No such file"),
            ("garbage.crnn", Data("definitely not a model".utf8), "not a CRNN model file"),
            ("cut.crnn", Data(good.prefix(good.count - 100)), "truncated"),
            ("flipped.crnn", Data(flipped), "CRC32 mismatch"),
            ("empty.crnn", Data(), "truncated"),
            ("nofrontend.crnn", Data(cliTestModel(frontend: false)), "no frontend tables"),
        ]
        for (name, bytes, message) in cases {
            if let bytes { XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/" + name, contents: bytes)) }
            for args in [[dir + "/" + name, wav], [dir + "/" + name, "--stream"], [dir + "/" + name, "--bench"]] {
                let r = try infer(args, stdin: args[1] == "--stream" ? pcmBytes(cliAudio(seconds: 3.5, seed: 2)) : nil)
                XCTAssertEqual(r.status, 2, "\(name) \(args[1]): \(r.stderr)")
                XCTAssertTrue(r.stderr.contains(message), "\(name): \(r.stderr)")
                XCTAssertTrue(r.stdout.isEmpty)
            }
        }
    }

    /// The same samples in every WAV encoding give the same answer; JSON lines carry the documented fields.
    func testEveryWAVEncodingGivesTheSameAnswerAndJSONIsComplete() throws {
        let dir = tempDir()
        let model = writeModel(dir)
        let audio = cliAudio(seconds: 9.5, seed: 3)  // 3 full segments (the rest is < 99 % of one)
        var paths: [String] = []
        for (i, kind) in [WAVKind.pcm16, .pcm16Big, .pcm16Stereo, .pcm24, .float32, .extensible16].enumerated() {
            let p = dir + "/clip\(i).wav"
            XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: cliWAV(audio, kind: kind)))
            paths.append(p)
        }
        let r = try infer([model] + paths + ["--json", "--top-k", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        guard r.status == 0 else { return }
        let lines = try jsonLines(r.stdout)
        XCTAssertEqual(lines.count, paths.count)
        for (line, path) in zip(lines, paths) {
            XCTAssertEqual(line["file"] as? String, path)
            XCTAssertEqual(line["segments"] as? Int, 3)
            XCTAssertEqual((line["segment_genres"] as? [String])?.count, 3)
            XCTAssertEqual((line["top"] as? [[String: Any]])?.count, 3)
            XCTAssertEqual(line["sample_rate"] as? Int, 22050)
            let scores = line["scores"] as! [String: Double]
            XCTAssertEqual(scores.count, 10)
            XCTAssertEqual(scores.values.reduce(0, +), 1, accuracy: 0.003)
            XCTAssertEqual(line["genre"] as? String, scores.max { $0.value < $1.value }!.key)
            XCTAssertEqual(NSDictionary(dictionary: scores), NSDictionary(dictionary: lines[0]["scores"] as! [String: Double]),
                           "\(path) differs from the 16-bit file")
        }
        // Text: one line per file, the top-3 genres in order, then the segment count.
        let text = try infer([model, paths[0], "--top-k", "3"])
        XCTAssertEqual(text.status, 0, text.stderr)
        let top = (lines[0]["top"] as! [[String: Any]]).map { "\($0["genre"]!) " + String(format: "%.4f", $0["score"] as! Double) }
        let unsure = lines[0]["uncertain"] as! Bool
        XCTAssertEqual(text.stdout, "\(paths[0]): \(top.joined(separator: ", ")) (3 segments\(unsure ? "; uncertain" : ""))\n")
        let k11 = try infer([model, paths[0], "--top-k", "11"])
        XCTAssertEqual(k11.status, 1)
    }

    /// confidence = the top genre's mean score, margin = its lead over the runner-up, uncertain = confidence below
    /// --uncertain-below (default 0.55, 18022 in Q15); in file JSON, in text, and for the stream's clip estimate.
    func testConfidenceMarginAndUncertainFlag() throws {
        let dir = tempDir()
        let model = writeModel(dir)
        var paths: [String] = []
        for seed in 0..<4 {
            let p = dir + "/c\(seed).wav"
            XCTAssertTrue(FileManager.default.createFile(atPath: p, contents: cliWAV(cliAudio(seconds: 3.2, seed: UInt64(seed) + 11))))
            paths.append(p)
        }
        let r = try infer([model] + paths + ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for line in try jsonLines(r.stdout) {
            let ranked = (line["scores"] as! [String: Double]).values.sorted(by: >)
            let conf = try XCTUnwrap(line["confidence"] as? Double), margin = try XCTUnwrap(line["margin"] as? Double)
            XCTAssertEqual(conf, ranked[0])
            XCTAssertEqual(margin, ranked[0] - ranked[1], accuracy: 0.00011)  // each printed to 4 decimals
            // The flag compares the exact Q15 mean; the printed confidence is rounded to 4 decimals.
            if abs(conf - 18022.0 / 32768) > 0.0001 { XCTAssertEqual(line["uncertain"] as? Bool, conf < 18022.0 / 32768) }
        }
        // The threshold decides: 1 flags every clip, 0 none; text says "; uncertain" inside the parentheses.
        let all = try infer([model] + paths + ["--uncertain-below", "1"])
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertEqual(all.stdout.components(separatedBy: "; uncertain)\n").count - 1, paths.count, all.stdout)
        let none = try infer([model] + paths + ["--uncertain-below", "0", "--json"])
        XCTAssertEqual(try jsonLines(none.stdout).filter { $0["uncertain"] as? Bool == true }.count, 0)
        for bad in ["1.5", "-0.1", "x"] {
            XCTAssertEqual(try infer([model, paths[0], "--uncertain-below", bad]).status, 1, bad)
        }
        XCTAssertEqual(try infer([model, "--bench", "--uncertain-below", "0.5"]).status, 1)
        // Stream: every window carries the clip estimate's confidence; the final line its own.
        let s = try infer([model, "--stream", "--json", "--uncertain-below", "1"], stdin: pcmBytes(cliAudio(seconds: 5, seed: 2)))
        XCTAssertEqual(s.status, 0, s.stderr)
        let lines = try jsonLines(s.stdout)
        for l in lines.dropLast() { XCTAssertEqual(l["clip_uncertain"] as? Bool, true); XCTAssertNotNil(l["clip_confidence"] as? Double) }
        XCTAssertEqual(lines.last?["uncertain"] as? Bool, true)
        XCTAssertNotNil(lines.last?["margin"] as? Double)
    }

    func testBadAudioExits2WithAMessageAndOtherFilesStillRun() throws {
        let dir = tempDir()
        let model = writeModel(dir)
        let audio = cliAudio(seconds: 3.2, seed: 4)
        let good = cliWAV(audio)
        let files: [(String, Data?, String)] = [
            ("good.wav", good, ""),
            ("truncated.wav", good.prefix(good.count - 1000), "truncated"),
            ("garbage.wav", Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }), "not a WAV file"),
            ("rate.wav", cliWAV(audio, rate: 44100), "sox"),
            ("short.wav", cliWAV(Array(audio.prefix(22050))), "shorter than one"),
            ("missing.wav", nil, "No such file"),
            ("empty.wav", Data(), "not a WAV file"),
        ]
        for (name, data, _) in files where data != nil { XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/" + name, contents: data)) }
        let r = try infer([model] + files.map { dir + "/" + $0.0 } + ["--json"])
        XCTAssertEqual(r.status, 2)
        let lines = try jsonLines(r.stdout)
        XCTAssertEqual(lines.count, files.count, "one JSON line per file, errors included")
        XCTAssertNotNil(lines[0]["genre"])
        for (i, (name, _, message)) in files.enumerated() where i > 0 {
            XCTAssertTrue(r.stderr.contains(name) && r.stderr.contains(message), "\(name): \(r.stderr)")
            XCTAssertTrue((lines[i]["error"] as? String)?.contains(message) ?? false, "\(name): \(lines[i])")
        }
        XCTAssertTrue(r.stderr.contains("44100 Hz, but the model needs 22050 Hz"), r.stderr)
        XCTAssertTrue(r.stderr.contains("arecord -r 22050 -f S16_LE -c 1"), r.stderr)
        for (name, _, message) in files.dropFirst() {
            let one = try infer([model, dir + "/" + name])
            XCTAssertEqual(one.status, 2, name)
            XCTAssertTrue(one.stderr.contains(message), "\(name): \(one.stderr)")
            let mfcc = try infer([model, "--mfcc", dir + "/" + name])
            XCTAssertEqual(mfcc.status, 2, name)
        }
    }

    /// Every stream window equals file mode on a WAV holding exactly that window's samples (one segment).
    func testStreamWindowsMatchFileModeOnTheSameSamples() throws {
        let dir = tempDir()
        let model = writeModel(dir)
        let audio = cliAudio(seconds: 7.3, seed: 5)
        let r = try infer([model, "--stream", "--json"], stdin: pcmBytes(audio))
        XCTAssertEqual(r.status, 0, r.stderr)
        var lines = try jsonLines(r.stdout)
        let final = lines.removeLast()
        let hop = 43 * 512, seg = 66150
        let windows = (audio.count - seg) / hop + 1
        XCTAssertEqual(lines.count, windows)
        XCTAssertTrue(r.stderr.contains("hop 43 frames = 0.998 s"), r.stderr)
        let paths = writeStreamWindows(lines, audio: audio, hop: hop, segment: seg, windows: windows, dir: dir)
        let file = try infer([model] + paths + ["--json"])
        XCTAssertEqual(file.status, 0, file.stderr)
        let fileLines = try jsonLines(file.stdout)
        var distinct = Set<String>()
        for w in 0..<windows {
            let a = lines[w]["scores"] as! [String: Double], b = fileLines[w]["scores"] as! [String: Double]
            XCTAssertEqual(NSDictionary(dictionary: a), NSDictionary(dictionary: b), "window \(w)")
            distinct.insert("\(a.sorted { $0.key < $1.key })")
        }
        XCTAssertGreaterThan(distinct.count, 1, "the test model must tell windows apart for this test to mean anything")
        XCTAssertEqual(final["final"] as? Bool, true)
        XCTAssertEqual(final["windows"] as? Int, windows)
        let unclassified = Double(audio.count - ((windows - 1) * hop + seg)) / 22050
        XCTAssertEqual(final["unclassified_seconds"] as! Double, unclassified, accuracy: 0.0006)
        XCTAssertTrue(r.stderr.contains("not classified"), r.stderr)
        // The running clip estimate after the last window is the mean of the windows' scores.
        let clip = lines.last!["clip_scores"] as! [String: Double]
        for (genre, v) in clip {
            let mean = lines.map { ($0["scores"] as! [String: Double])[genre]! }.reduce(0, +) / Double(windows)
            XCTAssertEqual(v, mean, accuracy: 0.00011, genre)
        }
    }

    func testStreamEdgeCases() throws {
        let dir = tempDir()
        let model = writeModel(dir)
        let empty = try infer([model, "--stream"], stdin: Data())
        XCTAssertEqual(empty.status, 2)
        XCTAssertTrue(empty.stderr.contains("no audio on standard input") && empty.stderr.contains("arecord"), empty.stderr)
        let short = try infer([model, "--stream"], stdin: pcmBytes(cliAudio(seconds: 1.3, seed: 6)))
        XCTAssertEqual(short.status, 2)
        XCTAssertTrue(short.stderr.contains("1.300 s of audio on standard input is shorter than one 3.000-s segment"), short.stderr)
        // 99.5 % of a segment plus a stray byte: classified zero-padded, the byte reported.
        let almost = try infer([model, "--stream"], stdin: pcmBytes(Array(cliAudio(seconds: 3, seed: 7).prefix(65820))) + Data([1]))
        XCTAssertEqual(almost.status, 0, almost.stderr)
        XCTAssertTrue(almost.stdout.hasPrefix("window 0 [0.000-2.985 s, zero-padded]: "), almost.stdout)
        XCTAssertTrue(almost.stdout.contains("clip: ") && almost.stdout.contains("over 1 window, 2.985 s of audio"), almost.stdout)
        XCTAssertTrue(almost.stderr.contains("1 trailing byte ignored"), almost.stderr)
        // Text mode of a longer stream: one line per window, then the clip line.
        let text = try infer([model, "--stream", "--hop", "0.5"], stdin: pcmBytes(cliAudio(seconds: 4.2, seed: 8)))
        XCTAssertEqual(text.status, 0, text.stderr)
        let rows = text.stdout.split(separator: "\n")
        XCTAssertEqual(rows.count, (92610 - 66150) / 11264 + 1 + 1)
        XCTAssertTrue(rows[1].hasPrefix("window 1 [0.511-3.511 s]: "), String(rows[1]))
        XCTAssertTrue(rows.last!.hasPrefix("clip: "))
    }

    /// Constant memory: the peak resident set after 10 minutes of streamed PCM equals the one after 1 minute
    /// (within 512 kB, far below what keeping per-window data would cost: 600 windows x 12 kB of features).
    func testLongStreamRunsInConstantMemory() throws {
        let dir = tempDir()
        let model = writeModel(dir)
        var peaks: [Int] = []
        for minutes in [1, 10] {
            // Repeat one generated minute (generation is the slow part in a debug build).
            let minute = pcmBytes(cliAudio(seconds: 60, seed: 9))
            var input = Data(capacity: minute.count * minutes)
            for _ in 0..<minutes { input.append(minute) }
            let start = Date()
            let r = try infer([model, "--stream", "--hop", "5", "--stats"], stdin: input)
            XCTAssertEqual(r.status, 0, r.stderr)
            let windows = (minutes * 60 * 22050 - 66150) / (215 * 512) + 1
            XCTAssertEqual(r.stdout.split(separator: "\n").count, windows + 1)
            guard let line = r.stderr.split(separator: "\n").first(where: { $0.contains("max RSS") }),
                  let kb = Int(line.split(separator: " ").dropLast().last ?? "") else { return XCTFail(r.stderr) }
            peaks.append(kb)
            print("crnn-infer --stream: \(minutes) min of PCM, \(windows) windows, max RSS \(kb) kB, \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        }
        XCTAssertLessThan(abs(peaks[1] - peaks[0]), 512, "peak RSS grew from \(peaks[0]) kB to \(peaks[1]) kB")
    }

    /// --mfcc prints the fixed-point MFCC as 130 x 23 CSV in the units of `crnn-train mfcc` (compared on the
    /// same 16-bit WAV: the float MFCC of the host, read by libsndfile).
    func testMFCCCSVMatchesTheFloatMFCCLayoutAndUnits() throws {
        let dir = tempDir()
        let model = writeModel(dir)
        let wav = dir + "/a.wav"
        XCTAssertTrue(FileManager.default.createFile(atPath: wav, contents: cliWAV(cliAudio(seconds: 6.2, seed: 10))))
        let fixed = try infer([model, "--mfcc", wav, "--segment", "1"])
        XCTAssertEqual(fixed.status, 0, fixed.stderr)
        let float = try runCLI(["mfcc", wav, "--segment", "1"])
        XCTAssertEqual(float.status, 0, float.stderr)
        func parse(_ s: String) -> [[Double]] { s.split(separator: "\n").map { $0.split(separator: ",").map { Double($0)! } } }
        let a = parse(fixed.stdout), b = parse(float.stdout)
        XCTAssertEqual(a.count, 130)
        XCTAssertTrue(a.allSatisfy { $0.count == 23 })
        XCTAssertTrue(fixed.stdout.split(separator: "\n").allSatisfy { $0.split(separator: ",").allSatisfy { $0.split(separator: ".").last?.count == 6 } })
        var maxErr = 0.0, signal = 0.0, noise = 0.0
        for (ra, rb) in zip(a, b) {
            for (x, y) in zip(ra, rb) { maxErr = max(maxErr, abs(x - y)); signal += y * y; noise += (x - y) * (x - y) }
        }
        let snr = 10 * log10(signal / max(noise, 1e-30))
        print("crnn-infer --mfcc vs crnn-train mfcc: SNR \(String(format: "%.1f", snr)) dB, max abs error \(String(format: "%.4f", maxErr))")
        XCTAssertGreaterThan(snr, 30, "fixed-point MFCC far from the float MFCC: wrong units or layout?")
        let missing = try infer([model, "--mfcc", wav, "--segment", "2"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("segment 2 does not exist (the file has 2 segments)"), missing.stderr)
    }

    func testBenchReportsStagesAndValidates() throws {
        let dir = tempDir()
        let model = writeModel(dir)
        let text = try infer([model, "--bench", "--runs", "3"])
        XCTAssertEqual(text.status, 0, text.stderr)
        for key in ["mfcc (fixed point)", "convolution", "recurrent", "network", "total", "real-time factor", "arena", "model "] {
            XCTAssertTrue(text.stdout.contains(key), "\(key) missing: \(text.stdout)")
        }
        print(text.stdout)
        let wav = dir + "/a.wav"
        XCTAssertTrue(FileManager.default.createFile(atPath: wav, contents: cliWAV(cliAudio(seconds: 3.1, seed: 11))))
        let json = try infer([model, "--bench", wav, "--runs", "3", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let obj = try jsonLines(json.stdout)[0]
        for key in ["mfcc_ms", "convolution_ms", "recurrent_ms", "network_ms", "total_ms", "real_time_factor", "arena_bytes", "model_bytes"] {
            XCTAssertNotNil(obj[key], key)
        }
        XCTAssertEqual(obj["model_bytes"] as? Int, cliTestModel().count)
        XCTAssertGreaterThan(obj["total_ms"] as! Double, obj["network_ms"] as! Double)
        // A frontend-version-2 model streams with frame reuse: the per-hop cost is timed (after the streamed window
        // was checked against file mode) and the stream keeps frame rows, not a segment of audio.
        XCTAssertEqual(obj["stream_frame_reuse"] as? Bool, true)
        XCTAssertGreaterThan(obj["stream_hop_frontend_ms"] as? Double ?? 0, 0)
        XCTAssertEqual(obj["stream_hop_samples"] as? Int, 43 * 512)
        XCTAssertLessThan(obj["stream_ring_bytes"] as! Int, 66150 * 2)
    }
}

/// Checks each `--stream` window line's index and start time and writes that window's samples, cut from `audio`, as
/// a WAV in `dir` (the input of the file-mode comparison). Returns the paths in window order.
func writeStreamWindows(_ lines: [[String: Any]], audio: [Int16], hop: Int, segment seg: Int, windows: Int, dir: String,
                        rate: Int = 22_050, file: StaticString = #filePath, line: UInt = #line) -> [String] {
    var paths: [String] = []
    for w in 0..<windows {
        XCTAssertEqual(lines[w]["window"] as? Int, w, file: file, line: line)
        XCTAssertEqual(lines[w]["start"] as! Double, Double(w * hop) / Double(rate), accuracy: 0.0006, file: file, line: line)
        let path = dir + "/w\(w).wav"
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: cliWAV(Array(audio[(w * hop)..<(w * hop + seg)]),
                                                                                    rate: UInt32(rate))),
                      file: file, line: line)
        paths.append(path)
    }
    return paths
}
