import Foundation
import XCTest

/// `crnn-train fit`, `eval`, `predict` and `--resume` end to end on a tiny generated dataset.
final class TrainingCLITests: XCTestCase {
    func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
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
