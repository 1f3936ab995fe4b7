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
        XCTAssertTrue(try run(["features", "--help"]).stdout.contains("--augment <default|none|list>"))
    }

    /// The default recipe: `features` stores the 5 degraded copies unless `--augment none`; `fit` trains on them
    /// (and says so when a file has none); `--recipe paper` is raw MFCCs on clean segments and refuses what
    /// contradicts it.
    func testDefaultRecipeAugmentsAndPaperRecipeDoesNot() throws {
        let dir = tempDir()
        let demo = try run(["demo", "--out", dir, "--clips-per-genre", "4", "--seconds", "3.1", "--epochs", "0", "--augment", "none"])
        XCTAssertEqual(demo.status, 0, demo.stderr)
        let def = try run(["features", "--data", dir + "/data", "--out", dir + "/def.bin", "--quiet"])
        XCTAssertEqual(def.status, 0, def.stderr)
        // 16 clips x 1 segment, and 5 copies of each.
        XCTAssertTrue(def.stdout.hasPrefix("clips: 16, segments: 16, skipped: 0, "), def.stdout)
        XCTAssertTrue(def.stdout.contains("augmented: 80"), def.stdout)
        let clean = try run(["features", "--data", dir + "/data", "--out", dir + "/clean.bin", "--augment", "none", "--quiet"])
        XCTAssertEqual(clean.status, 0, clean.stderr)
        XCTAssertFalse(clean.stdout.contains("augmented"), clean.stdout)
        // The clean file is the demo's (also --augment none): byte for byte.
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/clean.bin")),
                       try Data(contentsOf: URL(fileURLWithPath: dir + "/features.bin")))

        let common = ["--epochs", "1", "--min-epochs", "1", "--filters", "4", "--units", "4", "--batch", "8", "--quiet",
                      "--val-fraction", "0.25", "--test-fraction", "0.25"]
        let fit = try run(["fit", "--features", dir + "/def.bin", "--out", dir + "/r1"] + common)
        XCTAssertEqual(fit.status, 0, fit.stderr)
        // 2 training tracks per genre x 4 genres x 5 copies x 1 segment.
        XCTAssertTrue(fit.stderr.contains("training on 8 clean + 40 augmented segments"), fit.stderr)
        let report = try String(contentsOfFile: dir + "/r1/report.md", encoding: .utf8)
        XCTAssertTrue(report.contains("degraded training copies: bandpass-300-3400, gain-10db, noise-snr20db, resample-16k, resample-8k"), report)
        XCTAssertTrue(report.contains("mixup 0.2"), report)

        let noCopies = try run(["fit", "--features", dir + "/clean.bin", "--out", dir + "/r2"] + common)
        XCTAssertEqual(noCopies.status, 0, noCopies.stderr)
        XCTAssertTrue(noCopies.stderr.contains("holds no degraded copies: training on clean segments only"), noCopies.stderr)

        let paper = try run(["fit", "--features", dir + "/def.bin", "--recipe", "paper", "--out", dir + "/r3"] + common)
        XCTAssertEqual(paper.status, 0, paper.stderr)
        XCTAssertFalse(paper.stderr.contains("augmented segments"), paper.stderr)
        XCTAssertFalse(paper.stderr.contains("holds no degraded copies"), paper.stderr)
        let paperReport = try String(contentsOfFile: dir + "/r3/report.md", encoding: .utf8)
        XCTAssertTrue(paperReport.contains("raw MFCCs"), paperReport)
        XCTAssertTrue(paperReport.contains("degraded training copies: none"), paperReport)
        XCTAssertFalse(paperReport.contains("mixup"), paperReport)

        for bad in [["--recipe", "paper", "--normalize", "coefficient"], ["--recipe", "paper", "--mixup", "0.4"], ["--recipe", "nope"], ["--augment", "none"]] {
            let r = try run(["fit", "--features", dir + "/def.bin", "--out", dir + "/rx"] + bad)
            XCTAssertEqual(r.status, 1, "\(bad): \(r.stderr)")  // a usage error
        }
        let help = try run(["fit", "--help"])
        for opt in ["--recipe <default|paper>", "--augment <default|none|list>"] { XCTAssertTrue(help.stdout.contains(opt), opt) }
    }
}
