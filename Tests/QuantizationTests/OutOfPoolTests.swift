import AudioIO
import CRNNRuntime
import Features
import Foundation
import Training
import XCTest

@testable import Quantization

/// The out-of-pool evaluator against the existing evaluation code on the same clips (generated here), and its table.
final class OutOfPoolTests: XCTestCase {
    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    func fixture(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent(name))) }

    /// On clean clips, the evaluator's float figures equal `Evaluator.compare`'s and its device figures equal
    /// `DeviceEvaluator.compare`'s (what crnn-quantize reports), computed from WAV files of the same audio.
    func testCleanClipsMatchTheQuantizerEvaluation() throws {
        let ckpt = try Checkpoint(bytes: try fixture("tiny-gru.ckpt"))
        XCTAssertEqual(ckpt.meta.labels, DemoDataset.genres)
        let bytes = try fixture("tiny-gru.crnn")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("oop-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try DemoDataset.generate(at: dir, clipsPerGenre: 2, seconds: 6.1, seed: 23)
        let index = try DatasetIndex(root: dir)
        let (cache, _) = try DatasetExtractor.extract(index: index, config: ckpt.featureConfig, showProgress: false)
        let sel = SegmentSelection(cache: cache, segments: Array(0..<cache.segmentCount), scope: "all")
        let fm = try FloatModel(ckpt)
        let qm = QuantizedModel(bytes: bytes, layers: [], ranges: CalibratedRanges(method: "fixture", ranges: [:]))
        let acc = try Evaluator.compare(fm, model: qm, data: sel)
        let dev = try DeviceEvaluator.compare(model: qm, data: sel, floatTop1: acc.floatTop1, audioRoot: dir)

        let clips = try index.clips.map { c in
            OutOfPoolClip(trackID: c.trackID, label: ckpt.meta.labels.firstIndex(of: index.labels[c.label])!,
                          audio: try AudioDecoder.decodeMono(path: index.path(of: c), sampleRate: 22_050))
        }
        let ev = try OutOfPoolEvaluator(checkpoint: ckpt, int8: bytes)
        let row = try ev.evaluate(condition: "clean", kind: "held-out", count: clips.count) { clips[$0] }
        XCTAssertEqual(row.tracks, 8)
        XCTAssertEqual(row.segments, cache.segmentCount)
        XCTAssertEqual(row.floatSegmentAccuracy, acc.floatSegmentAccuracy, accuracy: 1e-12)
        XCTAssertEqual(row.floatTrackAccuracy, acc.floatTrackAccuracy, accuracy: 1e-12)
        XCTAssertEqual(row.deviceSegmentAccuracy!, dev.segmentAccuracy, accuracy: 1e-12)
        XCTAssertEqual(row.deviceTrackAccuracy!, dev.trackAccuracy, accuracy: 1e-12)
        XCTAssertEqual(row.deviceAgreement!, dev.agreementWithFloat, accuracy: 1e-12)
        XCTAssertEqual(Set(row.floatRecall.keys), Set(DemoDataset.genres))

        // One clip at a time (float path only), the per-clip decisions add up to the same track accuracy.
        let floatRow = try OutOfPoolEvaluator(checkpoint: ckpt, int8: nil)
        var decided: [Int] = []
        for c in clips {
            let r = try floatRow.evaluate(condition: "one", kind: "held-out", count: 1) { _ in c }
            XCTAssertNil(r.deviceTrackAccuracy)
            let g = DemoDataset.genres.first { r.floatRecall[$0] != nil }!
            decided.append(r.floatTrackAccuracy == 1 ? c.label : -1)
            XCTAssertEqual(r.floatRecall[g], r.floatTrackAccuracy)
        }
        XCTAssertEqual(Double(decided.filter { $0 >= 0 }.count) / 8, row.floatTrackAccuracy, accuracy: 1e-12)

        // A degraded copy changes the audio and the evaluator still counts every clip.
        let quiet = try ev.evaluate(condition: "gain-20db", kind: "degraded", count: clips.count) { i in
            var c = clips[i]
            c.audio = try Degradation.gain(dB: -20).apply(c.audio, sampleRate: 22_050)
            return c
        }
        XCTAssertEqual(quiet.segments, row.segments)
    }

    func testTableJSONKeysAndSummary() throws {
        let a = OutOfPoolRow(condition: "clean", kind: "held-out", tracks: 20, segments: 200, floatTrackAccuracy: 0.8,
                             floatSegmentAccuracy: 0.7, deviceTrackAccuracy: nil, deviceSegmentAccuracy: nil,
                             deviceAgreement: nil, floatRecall: ["blues": 1], deviceRecall: nil)
        var b = a
        b.condition = "gtzan-extra"; b.kind = "other-folder"; b.floatTrackAccuracy = 0.3
        b.deviceTrackAccuracy = 0.25; b.deviceSegmentAccuracy = 0.2; b.deviceAgreement = 0.95; b.deviceRecall = ["blues": 0.5]
        let t = OutOfPoolTable(model: "cnn-gru", checkpoint: "x.ckpt", int8Model: nil, input: "raw", heldOutTracks: ["a"],
                               degradationSeed: 1, rows: [a, b])
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: t.json()) as? [String: Any])
        XCTAssertEqual(Set(obj.keys), ["model", "checkpoint", "int8_model", "input", "held_out_tracks", "degradation_seed", "rows"])
        let rows = try XCTUnwrap(obj["rows"] as? [[String: Any]])
        let keys: Set<String> = ["condition", "kind", "tracks", "segments", "float_track_accuracy", "float_segment_accuracy",
                                 "device_track_accuracy", "device_segment_accuracy", "device_agreement", "float_recall", "device_recall"]
        for r in rows { XCTAssertEqual(Set(r.keys), keys, "every row has every key (device ones null without an int8 model)") }
        XCTAssertTrue(rows[0]["device_agreement"] is NSNull)
        XCTAssertEqual(rows[1]["device_agreement"] as? Double, 0.95)
        XCTAssertEqual(try OutOfPoolTable.decode(t.json()), t, "round trip")

        var t2 = t
        t2.rows[0].floatTrackAccuracy = 0.6
        let md = OutOfPoolTable.summaryMarkdown([t, t2])
        XCTAssertTrue(md.contains("| clean | 2 | 70.0 ± 14.1 |"), md)
        XCTAssertTrue(md.contains("blues 100.0 ± 0.0"), md)
        XCTAssertTrue(t.markdown().contains("| gtzan-extra | 20 | 200 | 30.0 % | 70.0 % | 25.0 % | 20.0 % | 95.0 % |"), t.markdown())
    }
}
