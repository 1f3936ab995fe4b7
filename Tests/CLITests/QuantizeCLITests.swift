import Foundation
import XCTest

/// `crnn-quantize` end to end on a tiny generated dataset: quantize with --eval and --report, `inspect`, and
/// the bad inputs that must exit 2 with a message.
final class QuantizeCLITests: XCTestCase {
    func quantize(_ args: [String]) throws -> CLIRun { try runCLI(args, binary: "crnn-quantize") }

    func testQuantizeReportInspectAndBadInputs() throws {
        let dir = tempDir()
        try makeDemoDataset(dir)
        let feats = dir + "/features.bin", runDir = dir + "/run"
        let fit = try run(["fit", "--features", feats, "--model", "cnn-gru", "--filters", "4", "--epochs", "2", "--batch", "8",
                           "--min-epochs", "1", "--quiet", "--out", runDir])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let ckpt = runDir + "/model.ckpt", model = dir + "/model.crnn", reportDir = dir + "/report"

        // Quantize: calibration from the feature file (training tracks only), evaluation on the dataset folder
        // (extracted now; its held-out test tracks only).
        // (The out-of-pool rows have their own test below.)
        let q = try quantize([ckpt, "--calibration", feats, "--eval", dir + "/data", "--out", model, "--report", reportDir,
                              "--eval-conditions", "none", "--quiet"])
        XCTAssertEqual(q.status, 0, q.stderr)
        XCTAssertTrue(q.stderr.contains("segments of the checkpoint's training tracks"), q.stderr)
        for s in ["per-layer SQNR", "conv2d_2 (+relu, max-pool 4)", "gru_1", "segment accuracy: float", "top-1 agreement", "arena"] {
            XCTAssertTrue(q.stdout.contains(s), "missing '\(s)' in:\n\(q.stdout)")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportDir + "/quantize-report.json"))) as! [String: Any]
        for k in ["float_segment_accuracy", "int8_segment_accuracy", "float_track_accuracy", "int8_track_accuracy", "agreement"] {
            let v = try XCTUnwrap(json[k] as? Double, k)
            XCTAssertTrue((0...1).contains(v), "\(k) = \(v)")
        }
        XCTAssertEqual(json["model_bytes"] as? Int, bytes.count)
        let network = try XCTUnwrap(json["network_bytes"] as? Int)
        XCTAssertTrue(network > 0 && network < bytes.count)
        // Every model carries the fixed-point MFCC's tables; the header and tables fill the rest of the file.
        let frontend = try XCTUnwrap(json["frontend_bytes"] as? Int)
        XCTAssertGreaterThan(frontend, 2 * 2048, "at least the Q15 Hann window of 2048 samples")
        XCTAssertLessThan(network + frontend, bytes.count)
        XCTAssertGreaterThan(try XCTUnwrap(json["float_weight_bytes"] as? Int), network)
        XCTAssertGreaterThan(try XCTUnwrap(json["arena_bytes"] as? Int), 0)
        XCTAssertEqual(json["evaluation_segments"] as? Int, 8)  // 1 test track per genre x 2 segments
        let layers = try XCTUnwrap(json["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.map { $0["float_layer"] as? String }, ["input", "max_pooling2d", "batch_normalization", "max_pooling2d_1",
                                                                      "batch_normalization_1", "max_pooling2d_2", "gru", "gru_1", "dense"])
        for l in layers {
            XCTAssertNotNil(l["name"] as? String)
            XCTAssertGreaterThan(try XCTUnwrap(l["sqnr_db"] as? Double, "\(l)"), 10, "\(l)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: reportDir + "/quantize-report.md"))

        // Same ranges -> the same bytes (the quantizer is deterministic), through --save-ranges / --ranges.
        let ranges = dir + "/ranges.json", again = dir + "/again.crnn"
        let s1 = try quantize([ckpt, "--calibration", feats, "--out", dir + "/m2.crnn", "--save-ranges", ranges, "--quiet"])
        XCTAssertEqual(s1.status, 0, s1.stderr)
        XCTAssertTrue(s1.stdout.contains("top-1 agreement"), "the calibration file's test tracks are the default evaluation set")
        let s2 = try quantize([ckpt, "--calibration", feats, "--out", again, "--ranges", ranges, "--quiet"])
        XCTAssertEqual(s2.status, 0, s2.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: again)), bytes)

        // inspect.
        let ins = try quantize(["inspect", model])
        XCTAssertEqual(ins.status, 0, ins.stderr)
        for s in ["header: format 1.1", "frontend version 1", "tensors (", "operators (10)", "conv2d", "gru", "fullyConnected",
                  "labels (4): drone, noise, pulse, sweep", "feature configuration: sample rate 22050 Hz", "scale "] {
            XCTAssertTrue(ins.stdout.contains(s), "missing '\(s)' in:\n\(ins.stdout)")
        }

        // Corrupt model files: exit 2 with the reader's message.
        let truncated = dir + "/truncated.crnn"
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
        let t = try quantize(["inspect", truncated])
        XCTAssertEqual(t.status, 2)
        XCTAssertTrue(t.stderr.contains("truncated"), t.stderr)
        var flipped = bytes
        flipped[bytes.count - 40] ^= 0x10
        try flipped.write(to: URL(fileURLWithPath: dir + "/flipped.crnn"))
        let f = try quantize(["inspect", dir + "/flipped.crnn"])
        XCTAssertEqual(f.status, 2)
        XCTAssertTrue(f.stderr.contains("CRC32"), f.stderr)
        let missing = try quantize(["inspect", dir + "/nope.crnn"])
        XCTAssertEqual(missing.status, 2)

        // Bad checkpoint.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: dir + "/bad.ckpt"))
        let bad = try quantize([dir + "/bad.ckpt", "--calibration", feats, "--out", dir + "/x.crnn"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("not a checkpoint"), bad.stderr)
        let noCkpt = try quantize([dir + "/none.ckpt", "--calibration", feats, "--out", dir + "/x.crnn"])
        XCTAssertEqual(noCkpt.status, 2)
        XCTAssertTrue(noCkpt.stderr.contains("none.ckpt"), noCkpt.stderr)

        // A feature file with other labels (3 of the 4 genres), and one with another feature configuration.
        let three = dir + "/three"
        for g in ["drone", "noise", "pulse"] {
            try FileManager.default.createDirectory(atPath: three + "/" + g, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: dir + "/data/\(g)/\(g).00000.wav", toPath: three + "/\(g)/\(g).00000.wav")
        }
        XCTAssertEqual(try run(["features", "--data", three, "--out", dir + "/three.bin", "--quiet"]).status, 0)
        let labels = try quantize([ckpt, "--calibration", dir + "/three.bin", "--out", dir + "/x.crnn"])
        XCTAssertEqual(labels.status, 2)
        XCTAssertTrue(labels.stderr.contains("genres"), labels.stderr)
        XCTAssertEqual(try run(["features", "--data", dir + "/data", "--out", dir + "/short.bin", "--segment-seconds", "2", "--quiet"]).status, 0)
        let config = try quantize([ckpt, "--calibration", feats, "--eval", dir + "/short.bin", "--out", dir + "/x.crnn", "--quiet"])
        XCTAssertEqual(config.status, 2)
        XCTAssertTrue(config.stderr.contains("feature configuration"), config.stderr)

        // A calibration folder that holds only the model's test tracks: no training track, so nothing to calibrate on.
        let split = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: runDir + "/split.json"))) as! [String: Any]
        let testOnly = dir + "/test-only"
        for id in split["test"] as! [String] {
            let genre = String(id.split(separator: ".")[0])
            try FileManager.default.createDirectory(atPath: testOnly + "/" + genre, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: dir + "/data/\(genre)/\(id).wav", toPath: testOnly + "/\(genre)/\(id).wav")
        }
        let empty = try quantize([ckpt, "--calibration", testOnly, "--out", dir + "/x.crnn", "--quiet"])
        XCTAssertEqual(empty.status, 2)
        XCTAssertTrue(empty.stderr.contains("calibration set is empty"), empty.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.crnn"), "no model file after a failure")

        // --help everywhere.
        for args in [["--help"], ["quantize", "--help"], ["inspect", "--help"]] {
            let h = try quantize(args)
            XCTAssertEqual(h.status, 0, "\(args)")
            XCTAssertTrue(h.stdout.contains("USAGE"), h.stdout)
        }
    }

    /// `--eval DIR` also measures the device path out of pool: the evaluated tracks degraded (--eval-conditions)
    /// and other folders (--eval-extra), in the summary, quantize-report.json and .md.
    func testEvalReportsDeviceAgreementOutOfPool() throws {
        let dir = tempDir()
        let demo = try run(["demo", "--out", dir, "--clips-per-genre", "4", "--seconds", "3.1", "--epochs", "0"])
        XCTAssertEqual(demo.status, 0, demo.stderr)
        let feats = dir + "/features.bin", runDir = dir + "/run"
        let fit = try run(["fit", "--features", feats, "--filters", "4", "--units", "4", "--epochs", "1", "--min-epochs", "1",
                           "--batch", "8", "--val-fraction", "0.25", "--test-fraction", "0.25", "--quiet", "--out", runDir])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let reportDir = dir + "/report"
        let q = try quantize([runDir + "/model.ckpt", "--calibration", feats, "--eval", dir + "/data", "--out", dir + "/m.crnn",
                              "--eval-conditions", "gain-20db,resample-8k", "--eval-extra", dir + "/data", "--report", reportDir, "--quiet"])
        XCTAssertEqual(q.status, 0, q.stderr)
        // The demo's default features hold the degraded copies: calibration uses those of the training tracks too.
        XCTAssertTrue(q.stderr.contains(" of their degraded copies)"), q.stderr)
        XCTAssertTrue(q.stdout.contains("device agreement out of pool:"), q.stdout)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportDir + "/quantize-report.json"))) as! [String: Any]
        let rows = try XCTUnwrap(json["out_of_pool"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["condition"] as? String }, ["resample-8k", "gain-20db", "data"])
        XCTAssertEqual(rows.map { $0["kind"] as? String }, ["degraded", "degraded", "other-folder"])
        // Per genre 4 clips of 1 segment: 2 training, 1 validation, 1 test track. Degraded: the 4 test tracks; the
        // other folder (the same one here): its 16 clips minus the 8 trained on.
        XCTAssertEqual(rows.map { $0["segments"] as? Int }, [4, 4, 8])
        var pooled = 0.0
        for r in rows {
            let a = try XCTUnwrap(r["device_agreement"] as? Double)
            XCTAssertTrue((0...1).contains(a))
            pooled += a * Double(r["segments"] as! Int)
        }
        XCTAssertEqual(try XCTUnwrap(json["out_of_pool_device_agreement"] as? Double), pooled / 16, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(json["out_of_pool_device_agreement_min"] as? Double),
                       rows.map { $0["device_agreement"] as! Double }.min()!)
        XCTAssertTrue(try XCTUnwrap(json["out_of_pool_scope"] as? String).contains("8 trained on, left out"))
        let md = try String(contentsOfFile: reportDir + "/quantize-report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("## Out of pool (device path vs float)"), md)

        // none: no rows, and the keys say so with nulls; an unknown name is a usage error before any work.
        let n = try quantize([runDir + "/model.ckpt", "--calibration", feats, "--eval", dir + "/data", "--out", dir + "/n.crnn",
                              "--eval-conditions", "none", "--no-calibrate-augmented", "--report", dir + "/n", "--quiet"])
        XCTAssertEqual(n.status, 0, n.stderr)
        XCTAssertFalse(n.stderr.contains("degraded copies"), n.stderr)
        let nj = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/n/quantize-report.json"))) as! [String: Any]
        XCTAssertTrue(nj["out_of_pool"] is NSNull)
        XCTAssertTrue(nj["out_of_pool_device_agreement"] is NSNull)
        let bad = try quantize([runDir + "/model.ckpt", "--calibration", feats, "--out", dir + "/b.crnn", "--eval-conditions", "loud"])
        XCTAssertEqual(bad.status, 1, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("unknown condition loud"), bad.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/b.crnn"))
    }
}
