import Foundation
import XCTest

/// The device path end to end on the tiny demo dataset: `crnn-quantize --eval DATASET` classifies the test clips
/// from their audio (int16 PCM -> fixed-point MFCC -> int8 network -> clip scores) and reports the answers;
/// `crnn-infer` on the same clips converted to WAV by `crnn-train convert` must give exactly those answers.
/// (tools/device_parity.sh does the same on gtzan-mini.)
final class DevicePathCLITests: XCTestCase {
    func quantize(_ args: [String]) throws -> CLIRun { try runBinary("crnn-quantize", args) }

    func jsonObject(_ path: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    func testDevicePathEvaluationMatchesCrnnInfer() throws {
        let dir = tempDir()
        try makeDemoDataset(dir)
        let feats = dir + "/features.bin", runDir = dir + "/run"
        let fit = try run(["fit", "--features", feats, "--model", "cnn-gru", "--filters", "4", "--units", "8", "--epochs", "2",
                           "--batch", "8", "--min-epochs", "1", "--seed", "7", "--quiet", "--out", runDir])
        XCTAssertEqual(fit.status, 0, fit.stderr)
        let ckpt = runDir + "/model.ckpt", model = dir + "/model.crnn", reportDir = dir + "/report"

        let q = try quantize([ckpt, "--calibration", feats, "--eval", dir + "/data", "--out", model, "--report", reportDir, "--quiet"])
        XCTAssertEqual(q.status, 0, q.stderr)
        for s in ["segment accuracy: float", "device path (4 clips", "segment accuracy: device", "device agreement with the float model",
                  "fixed vs float MFCC", "SNR min"] {
            XCTAssertTrue(q.stdout.contains(s), "missing '\(s)' in:\n\(q.stdout)")
        }
        let report = try jsonObject(reportDir + "/quantize-report.json")
        for k in ["device_segment_accuracy", "device_track_accuracy", "device_agreement", "device_vs_int8_agreement",
                  "int8_pcm16_float_mfcc_segment_accuracy"] {
            let v = try XCTUnwrap(report[k] as? Double, k)
            XCTAssertTrue((0...1).contains(v), "\(k) = \(v)")
        }
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report["mfcc_snr_db_min"] as? Double), 40, "fixed vs float MFCC SNR requirement")
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(report["mfcc_snr_db_mean"] as? Double), try XCTUnwrap(report["mfcc_snr_db_min"] as? Double))
        XCTAssertEqual(report["device_segments"] as? Int, 8)  // 1 test track per genre x 2 segments, as the float-MFCC evaluation
        XCTAssertEqual(report["evaluation_segments"] as? Int, 8)
        let labels = try XCTUnwrap(report["labels"] as? [String])
        XCTAssertEqual(labels, ["drone", "noise", "pulse", "sweep"])
        let tracks = try XCTUnwrap(report["device_tracks"] as? [[String: Any]])
        XCTAssertEqual(tracks.count, 4)

        // The reported accuracies are those of the per-track answers.
        var segRight = 0, segTotal = 0, trackRight = 0
        for t in tracks {
            let truth = try XCTUnwrap(t["truth"] as? String), genre = try XCTUnwrap(t["genre"] as? String)
            let segs = try XCTUnwrap(t["segment_genres"] as? [String])
            XCTAssertEqual(segs.count, t["segments"] as? Int)
            segRight += segs.filter { $0 == truth }.count; segTotal += segs.count
            if genre == truth { trackRight += 1 }
            let q15 = try XCTUnwrap(t["scores_q15"] as? [Int])
            XCTAssertEqual(q15.count, labels.count)
            // ClipScores' decision: the largest mean, ties to the lower index (means and sums rank alike here).
            XCTAssertEqual(genre, labels[q15.indices.max { q15[$0] < q15[$1] || (q15[$0] == q15[$1] && $0 > $1) }!])
        }
        XCTAssertEqual(report["device_segment_accuracy"] as? Double, Double(segRight) / Double(segTotal))
        XCTAssertEqual(report["device_track_accuracy"] as? Double, Double(trackRight) / Double(tracks.count))

        // The same clips as 16-bit WAV (convert's rule = the device path's int16 rule), classified by crnn-infer.
        let sources = try tracks.map { dir + "/data/" + (try XCTUnwrap($0["relative_path"] as? String)) }
        let conv = try run(["convert"] + sources + ["--out-dir", dir + "/wav"])
        XCTAssertEqual(conv.status, 0, conv.stderr)
        let wavs = try tracks.map { dir + "/wav/" + (try XCTUnwrap($0["track_id"] as? String)) + ".wav" }
        let infer = try runBinary("crnn-infer", [model] + wavs + ["--json"])
        XCTAssertEqual(infer.status, 0, infer.stderr)
        let lines = infer.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, tracks.count, infer.stdout)
        var identical = 0
        for (line, t) in zip(lines, tracks) {
            let o = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let id = t["track_id"] as? String ?? "?"
            XCTAssertEqual(o["file"] as? String, dir + "/wav/\(id).wav")
            var same = true
            func check<T: Equatable>(_ a: T?, _ b: T?, _ what: String) {
                XCTAssertEqual(a, b, "\(id): \(what)")
                if a != b { same = false }
            }
            check(o["genre"] as? String, t["genre"] as? String, "genre")
            check(o["segments"] as? Int, t["segments"] as? Int, "segments")
            check(o["segment_genres"] as? [String], t["segment_genres"] as? [String], "segment genres")
            // crnn-infer prints the Q15 mean with 4 decimals, rounded to nearest (ties up).
            let scores = try XCTUnwrap(o["scores"] as? [String: Double])
            let q15 = try XCTUnwrap(t["scores_q15"] as? [Int])
            for (c, name) in labels.enumerated() {
                let printed = Int((try XCTUnwrap(scores[name], name) * 10000).rounded())
                check(printed, (2 * q15[c] * 10000 + 32768) / 65536, "score of \(name) (q15 \(q15[c]))")
            }
            if same { identical += 1 }
        }
        XCTAssertEqual(identical, tracks.count, "crnn-infer vs the device-path evaluation: \(identical)/\(tracks.count) clips identical")

        // A feature file has no audio: the device path is not evaluated, and says so; its keys are null.
        let noAudio = try quantize([ckpt, "--calibration", feats, "--eval", feats, "--out", dir + "/m2.crnn", "--report", dir + "/r2", "--quiet"])
        XCTAssertEqual(noAudio.status, 0, noAudio.stderr)
        XCTAssertTrue(noAudio.stdout.contains("device path: not evaluated") && noAudio.stdout.contains("needs audio"), noAudio.stdout)
        XCTAssertTrue(noAudio.stdout.contains("top-1 agreement"), "the float-MFCC evaluation still runs")
        let r2 = try jsonObject(dir + "/r2/quantize-report.json")
        for k in ["device_segment_accuracy", "device_track_accuracy", "device_agreement", "device_vs_int8_agreement",
                  "mfcc_snr_db_min", "mfcc_snr_db_mean", "device_tracks"] {
            XCTAssertTrue(r2.keys.contains(k) && r2[k] is NSNull, "\(k) should be null: \(r2[k] ?? "absent")")
        }
        XCTAssertTrue((r2["device_path"] as? String)?.contains("needs audio") == true)
    }
}
