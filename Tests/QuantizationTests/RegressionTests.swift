import CRNNRuntime
import Features
import Foundation
import Training
import XCTest
@testable import Quantization

/// Quantization regression on a tiny committed model (cnn-gru, 4 filters, 8 units, 4 demo genres):
/// 1. the committed int8 file, run by CRNNRuntime's interpreter on committed Q23.8 inputs, gives the committed
///    logits and layer outputs bit for bit (any change to the integer arithmetic, the planner or the reader shows);
/// 2. the quantizer rebuilds that exact file from the committed checkpoint and calibrated ranges (any change to
///    the host's float -> fixed conversions, folding or layout shows).
///
/// FIXTURE PROVENANCE (Fixtures/README.md): made by THIS code (branch `quant`, commit afd0599 plus the tests,
/// x86_64 Linux, Swift 6.3.1) with `crnn-train demo`, `crnn-train fit --filters 4 --units 8` and
/// `crnn-quantize --save-ranges`; the inputs and expectations by running this file with
/// `CRNN_MAKE_QUANT_FIXTURE=<demo features.bin> swift test --filter QuantizationTests.RegressionTests`.
/// They pin behaviour; they are not an independent reference. Regenerate only when the arithmetic changes on
/// purpose, and say why in the commit message.
final class RegressionTests: XCTestCase {
    static let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    struct Expected: Codable, Equatable {
        var modelCRC: UInt32
        var logits: [[Int8]]
        /// CRC32 of every operator's output, in operator order, per input.
        var activationsCRC: [UInt32]
        var top1: [Int]
    }

    func fixture(_ name: String) throws -> Data { try Data(contentsOf: Self.fixtures.appendingPathComponent(name)) }

    /// The committed inputs: segments of 130 x 23 Int32 (little-endian) MFCCs in Q23.8.
    func inputs(valuesPerSegment: Int) throws -> [[Int32]] {
        let d = [UInt8](try fixture("tiny-gru.inputs.bin"))
        XCTAssertEqual(d.count % (4 * valuesPerSegment), 0)
        var all: [Int32] = []
        for i in stride(from: 0, to: d.count, by: 4) {
            all.append(Int32(bitPattern: UInt32(d[i]) | UInt32(d[i + 1]) << 8 | UInt32(d[i + 2]) << 16 | UInt32(d[i + 3]) << 24))
        }
        return stride(from: 0, to: all.count, by: valuesPerSegment).map { Array(all[$0 ..< $0 + valuesPerSegment]) }
    }

    static func run(_ bytes: [UInt8], _ inputs: [[Int32]]) throws -> Expected {
        let a = AlignedModelBytes(bytes)
        let it = try Interpreter(model: try ModelFile(bytes: a.raw), keepAllActivations: true)
        var e = Expected(modelCRC: bytes.withUnsafeBytes { crc32($0) }, logits: [], activationsCRC: [], top1: [])
        for x in inputs {
            try x.withUnsafeBufferPointer { try it.run(features: $0) }
            var crc: UInt32 = 0
            for i in 0..<it.model.operatorCount {
                crc = crc32(UnsafeRawBufferPointer(it.int8Tensor(it.model.op(i).output)), crc)
            }
            e.logits.append(Array(it.output))
            e.activationsCRC.append(crc)
            e.top1.append(it.top1)
        }
        return e
    }

    func testCommittedModelIsBitExact() throws {
        if let features = ProcessInfo.processInfo.environment["CRNN_MAKE_QUANT_FIXTURE"] { try makeFixture(features); return }
        let bytes = [UInt8](try fixture("tiny-gru.crnn"))
        let expected = try JSONDecoder().decode(Expected.self, from: try fixture("tiny-gru.expected.json"))
        let got = try Self.run(bytes, try inputs(valuesPerSegment: 130 * 23))
        XCTAssertEqual(got.modelCRC, expected.modelCRC, "committed model file changed")
        XCTAssertEqual(got.logits.count, 3)
        XCTAssertEqual(got.logits, expected.logits, "int8 logits changed")
        XCTAssertEqual(got.activationsCRC, expected.activationsCRC, "a layer output changed")
        XCTAssertEqual(got.top1, expected.top1)
    }

    func testQuantizerRebuildsCommittedModel() throws {
        let ckpt = try Checkpoint(bytes: [UInt8](try fixture("tiny-gru.ckpt")))
        let ranges = try JSONDecoder().decode(CalibratedRanges.self, from: try fixture("tiny-gru.ranges.json"))
        // The committed model is a frontend-version-1 file (written before version 2 existed): it must keep loading
        // and rebuilding byte for byte.
        let built = try Quantizer.build(checkpoint: ckpt, ranges: ranges, frontendVersion: 1)
        let committed = [UInt8](try fixture("tiny-gru.crnn"))
        XCTAssertEqual(built.bytes.count, committed.count)
        if let i = built.bytes.indices.first(where: { $0 < committed.count && built.bytes[$0] != committed[$0] }) {
            XCTFail("rebuilt model differs from the committed one first at byte \(i)")
        }
        XCTAssertEqual(built.layers.map(\.floatLayer), ["input", "max_pooling2d", "batch_normalization", "max_pooling2d_1",
                                                        "batch_normalization_1", "max_pooling2d_2", "gru", "gru_1", "dense"])
    }

    /// crnn-quantize's pipeline as a library step: from the committed ranges it builds the committed model (handed to
    /// `built` before any evaluation), evaluates, and reports; no device path or out-of-pool rows without audio.
    func testPipelineFromCommittedRangesBuildsTheCommittedModelAndReports() throws {
        let ckpt = try Checkpoint(bytes: [UInt8](try fixture("tiny-gru.ckpt")))
        let segs = try inputs(valuesPerSegment: ckpt.featureConfig.valuesPerSegment)
        let cache = FeatureCache(config: ckpt.featureConfig, labels: ckpt.meta.labels,
                                 tracks: [FeatureTrack(trackID: "fixture", relativePath: "fixture", label: 0, firstSegment: 0, segmentCount: segs.count)],
                                 values: segs.flatMap { $0.map { Float($0) / 256 } })
        let cal = try SegmentSelection.calibration(cache, checkpoint: ckpt)
        var p = QuantizePipeline(checkpoint: ckpt, checkpointPath: "tiny-gru.ckpt", outputPath: "out.crnn", calibration: cal)
        p.frontendVersion = 1  // the committed model predates frontend version 2
        p.ranges = try JSONDecoder().decode(CalibratedRanges.self, from: try fixture("tiny-gru.ranges.json"))
        p.evaluation = SegmentSelection.evaluation(cache, checkpoint: ckpt)
        var handed: [[UInt8]] = []
        let r = try p.run { model, _ in handed.append(model.bytes) }
        let committed = [UInt8](try fixture("tiny-gru.crnn"))
        XCTAssertEqual(handed, [committed])
        XCTAssertEqual(r.model.bytes, committed)
        XCTAssertEqual(r.report.modelBytes, committed.count)
        XCTAssertEqual(r.report.evaluationSegments, 3)
        XCTAssertEqual(r.report.layers.count, 9)
        XCTAssertNil(r.report.deviceAgreement)
        XCTAssertTrue(r.report.devicePath?.hasPrefix("not evaluated") ?? false)
        XCTAssertNil(r.report.outOfPool)
        XCTAssertEqual(r.report.outOfPoolScope, "no degraded rows (they need --eval to be a dataset folder)")
        // A failure inside `built` (e.g. an unwritable output) stops the pipeline with its message.
        XCTAssertThrowsError(try p.run { _, _ in throw QuantizationError("disk full") }) {
            XCTAssertEqual(($0 as? QuantizationError)?.description, "disk full")
        }
    }

    /// The whole host pipeline on the committed inputs (as a foreign calibration set): every method calibrates,
    /// builds a valid model, and the interpreter's layer outputs track the float ones.
    func testCalibrateBuildEvaluate() throws {
        let ckpt = try Checkpoint(bytes: [UInt8](try fixture("tiny-gru.ckpt")))
        let fm = try FloatModel(ckpt)
        let segs = try inputs(valuesPerSegment: ckpt.featureConfig.valuesPerSegment)
        let cache = FeatureCache(config: ckpt.featureConfig, labels: ckpt.meta.labels,
                                 tracks: [FeatureTrack(trackID: "fixture", relativePath: "fixture", label: 0, firstSegment: 0, segmentCount: segs.count)],
                                 values: segs.flatMap { $0.map { Float($0) / 256 } })
        let cal = try SegmentSelection.calibration(cache, checkpoint: ckpt)
        XCTAssertEqual(cal.segments, [0, 1, 2], "a set without the model's tracks is used whole")
        XCTAssertNil(SegmentSelection.evaluation(FeatureCache(config: ckpt.featureConfig, labels: ckpt.meta.labels,
                                                              tracks: [FeatureTrack(trackID: ckpt.meta.trainTracks[0], relativePath: "x", label: 0, firstSegment: 0, segmentCount: 3)],
                                                              values: cache.values), checkpoint: ckpt),
                     "a set holding only training tracks has nothing to evaluate on")
        for method in [CalibrationMethod.minMax, .percentile(99.9), .mse] {
            let ranges = try Calibrator.calibrate(fm, data: cal, method: method)
            XCTAssertEqual(Set(ranges.ranges.keys), Set(fm.architecture.calibratedLayers))
            let model = try Quantizer.build(checkpoint: ckpt, ranges: ranges)
            let a = AlignedModelBytes(model.bytes)
            XCTAssertNoThrow(try ModelFile(bytes: a.raw))
            let sqnr = try Evaluator.layerSQNR(fm, model: model, data: cal)
            XCTAssertEqual(sqnr.count, 9)
            for l in sqnr { XCTAssertGreaterThan(l.sqnrDB, 15, "\(method) \(l.name)") }
            let acc = try Evaluator.compare(fm, model: model, data: cal)
            XCTAssertEqual(acc.segments, 3)
            XCTAssertTrue((0...1).contains(acc.agreement))
        }
    }

    /// Writes tiny-gru.inputs.bin (the first 3 segments of the checkpoint's test tracks in `features`, as Q23.8)
    /// and tiny-gru.expected.json into the source tree's Fixtures folder.
    func makeFixture(_ featuresPath: String) throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let ckpt = try Checkpoint(bytes: [UInt8](try Data(contentsOf: dir.appendingPathComponent("tiny-gru.ckpt"))))
        let cache = try FeatureCache(contentsOf: featuresPath)
        let sel = try XCTUnwrap(SegmentSelection.evaluation(cache, checkpoint: ckpt))
        let chosen = Array(sel.segments.prefix(3)).map { mfccQ8(cache.segment($0)) }
        var raw: [UInt8] = []
        for v in chosen.joined() { for k in 0..<4 { raw.append(UInt8(truncatingIfNeeded: UInt32(bitPattern: v) >> (8 * UInt32(k)))) } }
        try Data(raw).write(to: dir.appendingPathComponent("tiny-gru.inputs.bin"))
        let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent("tiny-gru.crnn")))
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        try e.encode(try Self.run(bytes, chosen)).write(to: dir.appendingPathComponent("tiny-gru.expected.json"))
        print("wrote \(dir.path)/tiny-gru.inputs.bin and tiny-gru.expected.json")
    }
}
