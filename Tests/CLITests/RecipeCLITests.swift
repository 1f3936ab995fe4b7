import Foundation
import XCTest

/// The recipe options end to end: `features --augment`, `fit --normalize segment` on the augmented file,
/// eval on clean held-out tracks only, and crnn-quantize refusing the per-segment checkpoint.
final class RecipeCLITests: XCTestCase {
    func testAugmentedFeaturesSegmentNormalisationAndQuantizeRefusal() throws {
        let dir = tempDir()
        try makeDemoDataset(dir)
        let aug = dir + "/aug.bin"
        let f = try run(["features", "--data", dir + "/data", "--out", aug, "--augment", "resample-8k,gain-20db", "--quiet"])
        XCTAssertEqual(f.status, 0, f.stderr)
        // 20 clips x 2 segments clean, and 2 copies of each: the summary line keeps its documented start.
        XCTAssertTrue(f.stdout.hasPrefix("clips: 20, segments: 40, skipped: 0, "), f.stdout)
        XCTAssertTrue(f.stdout.contains("augmented: 80"), f.stdout)
        let bad = try run(["features", "--data", dir + "/data", "--out", dir + "/x.bin", "--augment", "resample-7x"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown degradation"), bad.stderr)

        let runDir = dir + "/run"
        let fit = try run(["fit", "--features", aug, "--normalize", "segment", "--epochs", "2", "--filters", "4", "--batch", "8",
                           "--min-epochs", "1", "--quiet", "--out", runDir])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        // 3 training tracks per genre x 4 genres x 2 copies x 2 segments.
        XCTAssertTrue(fit.stderr.contains("training on 24 clean + 48 augmented segments"), fit.stderr)
        let report = try String(contentsOfFile: runDir + "/report.md", encoding: .utf8)
        XCTAssertTrue(report.contains("--normalize segment"), report)

        let ev = try run(["eval", "--checkpoint", runDir + "/model.ckpt", "--features", aug, "--json"])
        XCTAssertEqual(ev.status, 0, ev.stderr)
        let m = try JSONSerialization.jsonObject(with: Data(ev.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(m["segments"] as? Int, 8)  // the 4 clean test tracks x 2 segments; no augmented one
        XCTAssertEqual(m["tracks"] as? Int, 4)

        let q = try runBinary("crnn-quantize", [runDir + "/model.ckpt", "--calibration", aug, "--out", dir + "/m.crnn"])
        XCTAssertEqual(q.status, 2, q.stderr)
        XCTAssertTrue(q.stderr.contains("per-segment mean-variance"), q.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/m.crnn"))

        let clash = try run(["fit", "--features", aug, "--no-normalize", "--normalize", "segment", "--out", dir + "/r2"])
        XCTAssertNotEqual(clash.status, 0)
        XCTAssertTrue(clash.stderr.contains("contradicts"), clash.stderr)
        let help = try run(["fit", "--help"])
        for opt in ["--normalize <mode>", "--balance <mode>", "--no-use-augmented"] { XCTAssertTrue(help.stdout.contains(opt), opt) }
        XCTAssertTrue(try run(["features", "--help"]).stdout.contains("--augment <list>"))
    }
}
