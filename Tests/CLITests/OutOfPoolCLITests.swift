import Foundation
import XCTest

/// `crnn-train oop` and `oop-summary` end to end: the committed tiny cnn-gru (trained on `crnn-train demo` data,
/// Tests/QuantizationTests/Fixtures) on its held-out demo tracks, degraded, and on another folder of two genres.
final class OutOfPoolCLITests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("QuantizationTests/Fixtures").path

    func testOopTableJSONSummaryAndBadInputs() throws {
        let dir = tempDir()
        // The fixture's data: `crnn-train demo --clips-per-genre 5 --seconds 6.1` (seed 1), so its track ids exist.
        XCTAssertEqual(try run(["demo", "--out", dir + "/d", "--clips-per-genre", "5", "--seconds", "6.1", "--epochs", "0"]).status, 0)
        // Another folder with two of the four genres under new track ids (as gtzan-extra holds blues and jazz only).
        XCTAssertEqual(try run(["demo", "--out", dir + "/o", "--clips-per-genre", "2", "--seconds", "3.5", "--seed", "9", "--epochs", "0"]).status, 0)
        let fm = FileManager.default
        let extra = dir + "/extra"
        for g in ["drone", "pulse"] {
            try fm.createDirectory(atPath: extra + "/" + g, withIntermediateDirectories: true)
            for k in 0..<2 {
                try fm.copyItem(atPath: dir + "/o/data/\(g)/\(g).0000\(k).wav", toPath: extra + "/\(g)/\(g).0010\(k).wav")
            }
        }
        let ckpt = fixtures + "/tiny-gru.ckpt", model = fixtures + "/tiny-gru.crnn"
        let r = try run(["oop", "--checkpoint", ckpt, "--int8", model, "--data", dir + "/d/data", "--extra", extra,
                         "--conditions", "clean,gain-20db", "--json", "--out", dir + "/oop", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(obj["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["condition"] as? String }, ["clean", "gain-20db", "extra"])
        XCTAssertEqual(rows.map { $0["kind"] as? String }, ["held-out", "degraded", "other-folder"])
        let held = try XCTUnwrap(obj["held_out_tracks"] as? [String])
        XCTAssertFalse(held.isEmpty)
        XCTAssertEqual(rows[0]["tracks"] as? Int, held.count)
        XCTAssertEqual(rows[1]["segments"] as? Int, rows[0]["segments"] as? Int, "gain keeps the length")
        XCTAssertEqual(rows[2]["tracks"] as? Int, 4)
        XCTAssertEqual(rows[2]["segments"] as? Int, 4, "one 3-s segment per 3.5-s clip")
        XCTAssertEqual(Set((rows[2]["float_recall"] as? [String: Double] ?? [:]).keys), ["drone", "pulse"])
        for row in rows {
            for key in ["float_track_accuracy", "float_segment_accuracy", "device_track_accuracy", "device_segment_accuracy", "device_agreement"] {
                let v = try XCTUnwrap(row[key] as? Double, "\(key) of \(row["condition"] ?? "")")
                XCTAssertTrue((0...1).contains(v))
            }
        }
        XCTAssertTrue(fm.fileExists(atPath: dir + "/oop/oop.md"))

        let s = try run(["oop-summary", dir + "/oop/oop.json", dir + "/oop/oop.json"])
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertTrue(s.stdout.contains("| clean | 2 |"), s.stdout)
        XCTAssertTrue(s.stdout.contains("± 0.0"), s.stdout)

        // Without --int8: device keys are null. Bad inputs exit 2 with a message.
        let f = try run(["oop", "--checkpoint", ckpt, "--data", dir + "/d/data", "--conditions", "clean", "--json", "--quiet"])
        XCTAssertEqual(f.status, 0, f.stderr)
        XCTAssertTrue(f.stdout.contains("\"device_agreement\" : null"), f.stdout)
        let missing = try run(["oop", "--checkpoint", ckpt, "--data", dir + "/nowhere", "--quiet"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("error:"), missing.stderr)
        try fm.createDirectory(atPath: extra + "/polka", withIntermediateDirectories: true)
        try fm.copyItem(atPath: extra + "/drone/drone.00100.wav", toPath: extra + "/polka/polka.00000.wav")
        let foreign = try run(["oop", "--checkpoint", ckpt, "--data", dir + "/d/data", "--extra", extra, "--conditions", "clean", "--quiet"])
        XCTAssertEqual(foreign.status, 2)
        XCTAssertTrue(foreign.stderr.contains("polka is not one of the checkpoint's"), foreign.stderr)
    }
}
