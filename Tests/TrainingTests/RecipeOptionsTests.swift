// The recipe options of issue 10: per-segment input normalisation (`fit --normalize segment|segment-mean`),
// augmented training segments (`features --augment`) and class-balanced loss weights (`--balance weights`).
import CRNNRuntime
import Features
import Foundation
import XCTest
@testable import Training

final class RecipeOptionsTests: XCTestCase {
    override func setUp() { TrainingThreads.configure(workers: 2) }

    let frames = 130, coeffs = 23

    /// One segment with a different offset and spread per coefficient, plus a constant coefficient 5.
    func segment(seed: UInt64) -> [Float] {
        var rng = SeededGenerator(seed: seed)
        var x = [Float](repeating: 0, count: frames * coeffs)
        for t in 0..<frames { for k in 0..<coeffs { x[t * coeffs + k] = k == 5 ? -80 : Float(k * 10 - 100) + Float(k + 1) * Float(rng.normal()) } }
        return x
    }

    func stats(_ x: [Float], offset: Int = 0) -> (mean: [Double], std: [Double]) {
        var m = [Double](repeating: 0, count: coeffs), s = m
        for k in 0..<coeffs {
            let v = (0..<frames).map { Double(x[offset + $0 * coeffs + k]) }
            m[k] = v.reduce(0, +) / Double(frames)
            s[k] = (v.map { ($0 - m[k]) * ($0 - m[k]) }.reduce(0, +) / Double(frames)).squareRoot()
        }
        return (m, s)
    }

    func testPerSegmentMeanVarianceGivesZeroMeanAndUnitDeviationPerCoefficient() {
        for seed in [1, 2, 3] as [UInt64] {
            let raw = segment(seed: seed)
            let before = stats(raw)
            XCTAssertGreaterThan(before.mean.map(abs).max()!, 50)  // the test data is far from normalised
            var x = raw
            SegmentNormalization.meanVariance.apply(&x, offset: 0, frames: frames, coefficients: coeffs)
            let after = stats(x)
            for k in 0..<coeffs {
                XCTAssertEqual(after.mean[k], 0, accuracy: 1e-5, "coefficient \(k)")
                XCTAssertEqual(after.std[k], k == 5 ? 0 : 1, accuracy: 1e-4, "coefficient \(k)")  // a constant one stays 0
            }
            var y = raw
            SegmentNormalization.mean.apply(&y, offset: 0, frames: frames, coefficients: coeffs)
            let cmn = stats(y)
            for k in 0..<coeffs {
                XCTAssertEqual(cmn.mean[k], 0, accuracy: 1e-4)
                XCTAssertEqual(cmn.std[k], before.std[k], accuracy: 1e-3 * max(1, before.std[k]))  // spread kept
            }
            var z = raw
            SegmentNormalization.none.apply(&z, offset: 0, frames: frames, coefficients: coeffs)
            XCTAssertEqual(z, raw)
        }
    }

    /// A cache of the given segments, 2 tracks per genre of 2 segments each.
    func cache(_ segments: [[Float]], genres: Int) -> FeatureCache {
        let per = segments.count / (genres * 2)
        var tracks: [FeatureTrack] = []
        for g in 0..<genres { for t in 0..<2 {
            tracks.append(FeatureTrack(trackID: "g\(g).\(t)", relativePath: "g\(g)/\(t)", label: g, firstSegment: tracks.count * per, segmentCount: per))
        } }
        return FeatureCache(config: .paper, labels: (0..<genres).map { "g\($0)" }, tracks: tracks, values: segments.flatMap { $0 })
    }

    func testBatchesAreNormalisedPerSegmentAndTheCheckpointRecordsIt() throws {
        let segs = (0..<8).map { segment(seed: UInt64(10 + $0)) }
        let c = cache(segs, genres: 2)
        let split = try c.splits(.track, options: SplitOptions(validationFraction: 0.0, testFraction: 0.25, seed: 1))[0]
        for (normalize, seg) in [(false, SegmentNormalization.meanVariance), (true, .mean)] {
            var o = TrainOptions()
            o.normalize = normalize
            o.segmentNormalization = seg
            let tr = Trainer(model: Model(config: ModelConfig(kind: .cnnGRU, filters: 4, rnnUnits: 4, classes: 2), seed: 1),
                             cache: c, split: split, options: o)
            XCTAssertEqual(tr.normalization.segment, seg)
            let x = tr.batches.batch([0, 3, 6])
            for b in 0..<3 {
                let s = stats(x.data, offset: b * frames * coeffs)
                for k in 0..<coeffs { XCTAssertEqual(s.mean[k], 0, accuracy: 1e-4, "\(seg) segment \(b) coefficient \(k)") }
                if seg == .meanVariance { for k in 0..<coeffs where k != 5 { XCTAssertEqual(s.std[k], 1, accuracy: 1e-3) } }
            }
            // Round trip through the checkpoint: the same normalisation comes back, and evaluation from the
            // stored metadata gives the trainer's own probabilities.
            let back = try Checkpoint(bytes: tr.checkpoint().encoded())
            XCTAssertEqual(back.meta.inputSegmentNormalization, seg.rawValue)
            let restored = try InputNormalization(meta: back.meta, coefficients: coeffs)
            XCTAssertEqual(restored, tr.normalization)
            let m = try Model(checkpoint: back)
            let p = m.predict(BatchMaker(cache: c, normalization: restored).batch(split.test))
            let q = tr.evaluate(split.test).probabilities
            XCTAssertEqual(p.data.count, q.count)
            for (a, b) in zip(p.data, q) { XCTAssertEqual(a, b, accuracy: 1e-6) }
            XCTAssertEqual(tr.options.asDictionary["segment_normalization"], seg.rawValue)
        }
    }

    func testDefaultCheckpointsDoNotChangeAndOldMetadataLoads() throws {
        let meta = CheckpointMeta(model: "cnn-gru", labels: ["a"], inputMean: [1], inputStd: [2])
        let json = String(decoding: try JSONEncoder().encode(meta), as: UTF8.self)
        XCTAssertFalse(json.contains("inputSegmentNormalization"), json)  // absent, as before the option existed
        let old = try JSONDecoder().decode(CheckpointMeta.self, from: Data(json.utf8))
        XCTAssertNil(old.inputSegmentNormalization)
        XCTAssertEqual(try InputNormalization(meta: old, coefficients: 1), InputNormalization(mean: [1], std: [2]))
        var raw = CheckpointMeta(model: "cnn-gru", labels: ["a"])
        XCTAssertEqual(try InputNormalization(meta: raw, coefficients: 2), .identity(coefficients: 2))
        raw.inputSegmentNormalization = "median"
        XCTAssertThrowsError(try InputNormalization(meta: raw, coefficients: 2)) { XCTAssertTrue("\($0)".contains("median")) }
        XCTAssertNil(TrainOptions().asDictionary["segment_normalization"])
        XCTAssertNil(TrainOptions().asDictionary["balance"])
        XCTAssertNil(TrainOptions().asDictionary["use_augmented"])
    }

    /// 4 genres x 6 tracks x 2 clean segments (ResumeTests' cache) plus two 2-segment degraded copies per track.
    func augmented() -> FeatureCache {
        var c = ResumeTests.cache()
        for i in c.tracks.indices {
            for k in 0..<2 {
                let src = c.tracks[i].firstSegment
                let v = (src ..< src + 2).flatMap { Array(c.segment($0)).map { $0 * 0.5 + Float(k) } }
                c.appendAugmented(source: i, condition: "copy\(k)", values: v)
            }
        }
        return c
    }

    func testTrainingUsesAugmentedSegmentsOfTrainingTracksOnly() throws {
        let c = augmented()
        let split = try c.splits(.track, options: SplitOptions(validationFraction: 0.2, testFraction: 0.2, seed: 3))[0]
        var o = TrainOptions()
        o.epochs = 2
        o.batchSize = 8
        o.minEpochs = 1
        let model = { Model(config: ModelConfig(kind: .cnnGRU, filters: 4, rnnUnits: 4, classes: 4), seed: 2) }
        let tr = Trainer(model: model(), cache: c, split: split, options: o)
        let segs = tr.trainingSegments
        XCTAssertEqual(Array(segs.prefix(split.train.count)), split.train)
        let extra = segs.dropFirst(split.train.count)
        XCTAssertEqual(extra.count, split.trainTracks.count * 4)
        let held = Set(split.validationTracks + split.testTracks)
        for s in extra {
            let a = c.augmented.first { $0.firstSegment <= s && s < $0.firstSegment + $0.segmentCount }!
            XCTAssertTrue(split.trainTracks.contains(a.trackID))
            XCTAssertFalse(held.contains(a.trackID))
        }
        for s in split.validation + split.test { XCTAssertLessThan(s, c.segmentCount) }
        // The normalisation is fitted on the clean training segments only (as without augmentation).
        XCTAssertEqual(tr.normalization, InputNormalization.fit(c, segments: split.train))
        let dir = NSTemporaryDirectory() + "recipe-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        var lines: [String] = []
        let r = try tr.fit(runDir: dir, progress: false, log: { lines.append($0) })
        XCTAssertEqual(r.history.count, 2)
        XCTAssertEqual(tr.optimizer.iterations, 2 * ((segs.count + 7) / 8))  // every epoch went through clean + augmented
        XCTAssertTrue(lines.contains { $0.contains("augmented segments") }, "\(lines)")
        // --no-use-augmented: the clean training segments only.
        o.useAugmented = false
        XCTAssertEqual(Trainer(model: model(), cache: c, split: split, options: o).trainingSegments, split.train)
    }

    func testClassBalancedWeightsEqualiseTheClasses() throws {
        // 3 genres with 6, 2 and 1 tracks (2 segments each).
        var tracks: [FeatureTrack] = []
        for (g, n) in [6, 2, 1].enumerated() { for t in 0..<n {
            tracks.append(FeatureTrack(trackID: "g\(g).\(t)", relativePath: "", label: g, firstSegment: tracks.count * 2, segmentCount: 2))
        } }
        let v = FeatureConfig.paper.valuesPerSegment
        var rng = SeededGenerator(seed: 4)
        let c = FeatureCache(config: .paper, labels: ["a", "b", "c"], tracks: tracks,
                             values: (0..<(tracks.count * 2 * v)).map { _ in Float(rng.normal()) })
        let all = Array(0..<c.segmentCount)
        let split = try c.splits(.track, options: SplitOptions(validationFraction: 0, testFraction: 0, seed: 1))[0]
        XCTAssertEqual(split.train.sorted(), all)
        var o = TrainOptions()
        let model = Model(config: ModelConfig(kind: .cnnGRU, filters: 4, rnnUnits: 4, classes: 3), seed: 2)
        XCTAssertEqual(Trainer(model: model, cache: c, split: split, options: o).classWeights(all), [1, 1, 1])
        o.classBalancedLoss = true
        let w = Trainer(model: model, cache: c, split: split, options: o).classWeights(all)
        // N / (K n_c) = 18 / (3 * 12), 18 / (3 * 4), 18 / (3 * 2): each class then weighs N / K in total.
        XCTAssertEqual(w[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(w[1], 1.5, accuracy: 1e-6)
        XCTAssertEqual(w[2], 3.0, accuracy: 1e-6)
        let total: Float = w[0] * 12 + w[1] * 4 + w[2] * 2
        XCTAssertEqual(total, 18, accuracy: 1e-4)
        // And the weights change the training (same seed, same data, different gradients).
        func trained(_ balanced: Bool) throws -> [Float] {
            var oo = TrainOptions()
            oo.epochs = 1; oo.batchSize = 6; oo.minEpochs = 1; oo.classBalancedLoss = balanced
            let tr = Trainer(model: Model(config: ModelConfig(kind: .cnnGRU, filters: 4, rnnUnits: 4, classes: 3), seed: 2),
                             cache: c, split: split, options: oo)
            let dir = NSTemporaryDirectory() + "recipe-\(UUID().uuidString)"
            defer { try? FileManager.default.removeItem(atPath: dir) }
            _ = try tr.fit(runDir: dir, progress: false)
            return tr.model.parameters.first { $0.name == "dense/bias" }!.value
        }
        XCTAssertNotEqual(try trained(true), try trained(false))
    }
}
