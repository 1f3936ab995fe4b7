import Foundation
import XCTest

/// `crnn-train fit`, `eval`, `predict` and `--resume` end to end on a tiny generated dataset.
final class TrainingCLITests: XCTestCase {
    func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// A model for a 16-kHz microphone: features and fit at --sample-rate 16000 (94 frames per 3-s segment), quantize,
    /// and crnn-infer on 16-kHz audio, in file and stream mode (bit for bit the same windows); 22.05-kHz audio is
    /// refused with a message naming the rate.
    func testSixteenKilohertzModelEndToEnd() throws {
        let dir = tempDir()
        try makeDemoDataset(dir)
        let feats = dir + "/f16.bin"
        let ex = try run(["features", "--data", dir + "/data", "--out", feats, "--sample-rate", "16000", "--augment", "none", "--quiet"])
        XCTAssertEqual(ex.status, 0, ex.stderr)
        let runDir = dir + "/run16"
        let fit = try run(["fit", "--features", feats, "--model", "cnn-gru", "--filters", "16", "--epochs", "1", "--min-epochs", "1",
                           "--batch", "8", "--out", runDir, "--quiet"])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let model = dir + "/m16.crnn"
        let q = try runBinary("crnn-quantize", [runDir + "/model.ckpt", "--calibration", feats, "--out", model, "--quiet"])
        XCTAssertEqual(q.status, 0, q.stderr)
        let inspect = try runBinary("crnn-quantize", ["inspect", model])
        XCTAssertTrue(inspect.stdout.contains("int32 [94, 23]"), inspect.stdout)
        let clip = try FileManager.default.contentsOfDirectory(atPath: dir + "/data/drone").sorted()[0]
        let conv = try run(["convert", dir + "/data/drone/" + clip, "--rate", "16000", "--out-dir", dir + "/wav16"])
        XCTAssertEqual(conv.status, 0, conv.stderr)
        let wav = dir + "/wav16/" + (clip as NSString).deletingPathExtension + ".wav"
        let file = try runBinary("crnn-infer", [model, wav, "--json"])
        XCTAssertEqual(file.status, 0, file.stderr)
        XCTAssertTrue(file.stdout.contains("\"segments\":2"), file.stdout)  // 6.1 s at 16 kHz: two 3-s segments
        let wrongRate = try runBinary("crnn-infer", [model, dir + "/data/drone/" + clip])
        XCTAssertEqual(wrongRate.status, 2)
        XCTAssertTrue(wrongRate.stderr.contains("16000 Hz"), wrongRate.stderr)
        // Stream mode on the same 16-kHz samples, one window per 31 frames (0.992 s): every window equals file mode
        // on a WAV of that window's samples.
        let pcm = try Data(contentsOf: URL(fileURLWithPath: wav)).dropFirst(44)
        let audio = pcm.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        let stream = try runBinary("crnn-infer", [model, "--stream", "--json"], stdin: Data(pcm))
        XCTAssertEqual(stream.status, 0, stream.stderr)
        var lines = try jsonLines(stream.stdout)
        _ = lines.removeLast()
        let hop = 31 * 512, seg = 48000
        let windows = (audio.count - seg) / hop + 1
        XCTAssertEqual(lines.count, windows)
        let paths = writeStreamWindows(lines, audio: audio, hop: hop, segment: seg, windows: windows, dir: dir, rate: 16000)
        let perWindow = try runBinary("crnn-infer", [model] + paths + ["--json"])
        XCTAssertEqual(perWindow.status, 0, perWindow.stderr)
        let fileLines = try jsonLines(perWindow.stdout)
        for w in 0..<windows {
            let a = lines[w]["scores"] as! [String: Double], b = fileLines[w]["scores"] as! [String: Double]
            XCTAssertEqual(NSDictionary(dictionary: a), NSDictionary(dictionary: b), "window \(w)")
        }
    }

    func testFitEvalPredictResumeAndKFold() throws {
        let dir = tempDir()
        try makeDemoDataset(dir)
        let feats = dir + "/features.bin"
        let common = ["--features", feats, "--filters", "4", "--batch", "8", "--min-epochs", "1", "--quiet"]

        // fit: 2 epochs, then resume to 4.
        let runDir = dir + "/run"
        let fit = try run(["fit", "--model", "cnn-gru", "--epochs", "2", "--out", runDir] + common)
        XCTAssertEqual(fit.status, 0, fit.stderr)
        XCTAssertTrue(fit.stdout.contains("segment accuracy"), fit.stdout)
        for f in ["model.ckpt", "last.ckpt", "metrics.json", "report.md", "curves.svg", "confusion.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: runDir + "/" + f), "missing \(f)")
        }
        XCTAssertEqual((try json(runDir + "/metrics.json")["history"] as! [Any]).count, 2)
        let resumed = try run(["fit", "--model", "cnn-gru", "--epochs", "4", "--resume", "--out", runDir] + common)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming after epoch 2"), resumed.stderr)
        let history = try json(runDir + "/metrics.json")["history"] as! [[String: Any]]
        XCTAssertEqual(history.map { $0["epoch"] as! Int }, [1, 2, 3, 4])

        // eval: JSON with the documented keys, on the checkpoint's held-out test tracks only (1 per genre x 2 segments).
        let ev = try run(["eval", "--checkpoint", runDir + "/model.ckpt", "--features", feats, "--json"])
        XCTAssertEqual(ev.status, 0, ev.stderr)
        let m = try JSONSerialization.jsonObject(with: Data(ev.stdout.utf8)) as! [String: Any]
        for k in ["segment_accuracy", "track_accuracy", "per_genre", "confusion"] { XCTAssertNotNil(m[k], k) }
        XCTAssertEqual(m["segments"] as! Int, 8)
        XCTAssertEqual(m["tracks"] as! Int, 4)
        XCTAssertEqual((m["confusion"] as! [[Int]]).count, 4)
        XCTAssertNotNil((m["per_genre"] as! [String: [String: Any]])["drone"]?["f1"])
        let acc = m["segment_accuracy"] as! Double
        XCTAssertTrue((0...1).contains(acc))

        // predict: one JSON object per file.
        let files = [dir + "/data/drone/drone.00000.wav", dir + "/data/sweep/sweep.00004.wav"]
        let pr = try run(["predict", "--checkpoint", runDir + "/model.ckpt", "--json"] + files)
        XCTAssertEqual(pr.status, 0, pr.stderr)
        let lines = pr.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        for (line, file) in zip(lines, files) {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            XCTAssertEqual(o["file"] as? String, file)
            XCTAssertEqual(o["segments"] as? Int, 2)
            let scores = o["scores"] as! [String: Double]
            XCTAssertEqual(Set(scores.keys), ["drone", "noise", "pulse", "sweep"])
            XCTAssertEqual(scores.values.reduce(0, +), 1, accuracy: 1e-3)
            XCTAssertEqual(o["genre"] as? String, scores.max { $0.value < $1.value }!.key)
        }

        // Bad inputs: a corrupt checkpoint, a missing audio file.
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/bad.ckpt", contents: Data("garbage".utf8)))
        let bad = try run(["predict", "--checkpoint", dir + "/bad.ckpt", files[0]])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("not a checkpoint"), bad.stderr)
        let missing = try run(["predict", "--checkpoint", runDir + "/model.ckpt", dir + "/nope.wav"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("nope.wav"), missing.stderr)

        // k-fold: one run folder per fold and a summary.
        let kf = try run(["fit", "--model", "cnn", "--split", "kfold", "--folds", "2", "--epochs", "1", "--out", dir + "/kf"] + common)
        XCTAssertEqual(kf.status, 0, kf.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/kf/fold-2/model.ckpt"))
        let summary = try json(dir + "/kf/kfold.json")
        XCTAssertEqual(summary["folds"] as? Int, 2)
        XCTAssertEqual((summary["track_accuracy"] as! [Double]).count, 2)
        XCTAssertTrue(kf.stdout.contains("2-fold"), kf.stdout)
    }
}
