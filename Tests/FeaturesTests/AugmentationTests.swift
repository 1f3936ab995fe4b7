// Augmented (degraded) training segments in feature files (`crnn-train features --augment`): stored apart from
// the clean ones with their source's track id, never in a split's validation or test part, surviving a write/read
// and shard concatenation; older (version 1) files still load.
import AudioIO
import CRNNRuntime
import Foundation
import XCTest
@testable import Features

/// `syntheticCache` plus `copies` augmented copies of every track; an augmented segment's values are
/// 100000 + its source's first clean segment value, so a test can tell where each one came from.
func augmentedCache(genres: Int = 3, perGenre: Int = 10, segments: Int = 4, copies: Int = 2) -> FeatureCache {
    var cache = syntheticCache(genres: genres, perGenre: perGenre, segments: segments)
    for (i, t) in cache.tracks.enumerated() {
        for c in 0..<copies {
            let n = segments - c % 2  // copies may have fewer segments (e.g. speed+3 %)
            let v = [Float](repeating: 100_000 + cache.segment(t.firstSegment).first!, count: n * cache.valuesPerSegment)
            cache.appendAugmented(source: i, condition: "cond\(c)", values: v)
        }
    }
    return cache
}

final class AugmentedFeatureTests: XCTestCase {
    func testAugmentedSegmentsCarryTheirSourceTrackAndFollowTheCleanOnes() {
        let cache = augmentedCache()
        XCTAssertEqual(cache.segmentCount, 120)            // clean only, as before augmentation existed
        XCTAssertEqual(cache.augmentedSegmentCount, 30 * 7)
        XCTAssertEqual(cache.segmentLabels.count, 120)
        XCTAssertEqual(cache.allSegmentLabels.count, 120 + 210)
        for a in cache.augmented {
            let src = cache.tracks[a.source]
            XCTAssertEqual(a.trackID, src.trackID)
            XCTAssertEqual(a.label, src.label)
            XCTAssertGreaterThanOrEqual(a.firstSegment, cache.segmentCount)
            for s in a.firstSegment ..< a.firstSegment + a.segmentCount {
                XCTAssertEqual(cache.segment(s).first!, 100_000 + cache.segment(src.firstSegment).first!)
                XCTAssertEqual(cache.allSegmentLabels[s], src.label)
            }
        }
    }

    func testSplitsNeverPutAugmentedSegmentsInValidationOrTest() throws {
        let cache = augmentedCache()
        for kind in [SplitKind.track, .kfold, .random] {
            for split in try cache.splits(kind, options: SplitOptions(validationFraction: 0.2, testFraction: 0.2, folds: 3, seed: 5)) {
                for s in split.validation + split.test + split.train { XCTAssertLessThan(s, cache.segmentCount, "\(kind)") }
                let held = split.validationTracks + split.testTracks
                let aug = cache.augmentedSegments(ofTracks: split.trainTracks, excluding: held)
                let heldSet = Set(held)
                for s in aug {
                    XCTAssertGreaterThanOrEqual(s, cache.segmentCount)
                    let a = cache.augmented.first { $0.firstSegment <= s && s < $0.firstSegment + $0.segmentCount }!
                    XCTAssertFalse(heldSet.contains(a.trackID), "\(kind): augmented segment of held-out track \(a.trackID)")
                    XCTAssertTrue(split.trainTracks.contains(a.trackID))
                }
                if kind == .track {
                    // Every training track contributes all its copies (7 segments).
                    XCTAssertEqual(aug.count, split.trainTracks.count * 7)
                }
            }
        }
    }

    func testRoundTripWritesVersion2AndPlainFilesStayVersion1() throws {
        let cache = augmentedCache(genres: 2, perGenre: 3, segments: 2)
        let bytes = cache.encoded()
        XCTAssertEqual(bytes[8], 2)
        let back = try FeatureCache(bytes: bytes)
        XCTAssertEqual(back.tracks, cache.tracks)
        XCTAssertEqual(back.values, cache.values)
        XCTAssertEqual(back.augmented, cache.augmented)
        XCTAssertEqual(back.augmentedValues, cache.augmentedValues)
        XCTAssertEqual(syntheticCache(genres: 2, perGenre: 3, segments: 2).encoded()[8], 1)
        // Truncations and a flipped bit in the augmentation section are refused.
        for cut in [bytes.count - 1, bytes.count - 5, bytes.count - cache.augmentedValues.count * 2] {
            XCTAssertThrowsError(try FeatureCache(bytes: Array(bytes[0..<cut])))
        }
        var flipped = bytes
        flipped[bytes.count - 20] ^= 1
        XCTAssertThrowsError(try FeatureCache(bytes: flipped))
    }

    /// A version-1 file built byte by byte from the documented layout (not by `encoded()`): this build reads it.
    func testHandBuiltVersion1FileLoads() throws {
        var config = FeatureConfig.paper
        config.segmentSamples = 4096
        var b: [UInt8] = []
        func u32(_ v: Int) { for i in 0..<4 { b.append(UInt8((v >> (8 * i)) & 0xFF)) } }
        func str(_ s: String) { u32(s.utf8.count); b += Array(s.utf8) }
        b += Array("CRNNFEAT".utf8); u32(1); u32(1); u32(1)
        b += config.encodedBytes
        u32(2); u32(2); u32(3); u32(config.frameCount); u32(Int(config.nMFCC))
        str("blues"); str("jazz")
        str("blues.00000"); str("blues/blues.00000.flac"); u32(0); u32(0); u32(2)
        str("jazz.00001"); str("jazz/jazz.00001.flac"); u32(1); u32(2); u32(1)
        for s in 0..<3 { for i in 0..<config.valuesPerSegment { withUnsafeBytes(of: Float(s * 1000 + i).bitPattern.littleEndian) { b += $0 } } }
        var h: UInt32 = 2_166_136_261
        for x in b { h = (h ^ UInt32(x)) &* 16_777_619 }
        u32(Int(h))
        let cache = try FeatureCache(bytes: b)
        XCTAssertEqual(cache.tracks.map(\.trackID), ["blues.00000", "jazz.00001"])
        XCTAssertEqual(cache.segmentCount, 3)
        XCTAssertEqual(cache.segment(2).first, 2000)
        XCTAssertTrue(cache.augmented.isEmpty)
        XCTAssertEqual(cache.allSegmentLabels, [0, 0, 1])
        XCTAssertEqual(cache.encoded(), b)  // and is written back identically, as version 1
    }

    func testConcatenationRenumbersAugmentedCopies() throws {
        let whole = augmentedCache(genres: 2, perGenre: 4, segments: 2, copies: 1)
        func part(_ r: Range<Int>) -> FeatureCache {
            var p = FeatureCache(config: whole.config, labels: whole.labels, tracks: [], values: [])
            for i in r {
                var t = whole.tracks[i]
                let from = t.firstSegment
                t.firstSegment = p.segmentCount
                p.tracks.append(t)
                p.values += (from ..< from + t.segmentCount).flatMap { Array(whole.segment($0)) }
            }
            for a in whole.augmented where r.contains(a.source) {
                p.appendAugmented(source: a.source - r.lowerBound, condition: a.condition,
                                  values: (a.firstSegment ..< a.firstSegment + a.segmentCount).flatMap { Array(whole.segment($0)) })
            }
            return p
        }
        let merged = try FeatureCache.concatenate([part(0..<3), part(3..<8)])
        XCTAssertEqual(merged.tracks, whole.tracks)
        XCTAssertEqual(merged.values, whole.values)
        XCTAssertEqual(merged.augmented, whole.augmented)
        XCTAssertEqual(merged.augmentedValues, whole.augmentedValues)
    }

    func testPlanParsingAndSeededPerClipChoice() throws {
        let all = try AugmentationPlan.parse("resample-16k, resample-8k,bandpass-300-3400,noise-snr20db")
        XCTAssertEqual(all.map(\.description), ["resample-16k", "resample-8k", "bandpass-300-3400", "noise-snr20db"])
        XCTAssertEqual(try AugmentationPlan.parse("gain-10db,gain+6db,noise-snr30db,resample-11k"),
                       [.gain(dB: -10), .gain(dB: 6), .noise(snrDB: 30), .resampleThrough(rate: 11_000)])
        for bad in ["resample-7x", "gain-10", "gainXdb", "gain-100db", "noise-snrdb", "resample-1k", "telephone"] {
            XCTAssertThrowsError(try AugmentationPlan.parse(bad), bad) { XCTAssertTrue("\($0)".contains("unknown degradation")) }
        }
        XCTAssertThrowsError(try AugmentationPlan.parse(","))
        let plan = AugmentationPlan(degradations: all, perClip: 1, seed: 3)
        var counts: [String: Int] = [:]
        for i in 0..<200 {
            let chosen = plan.choose(for: "blues/blues.\(i).wav")
            XCTAssertEqual(chosen.count, 1)
            XCTAssertEqual(chosen.map(\.1), plan.choose(for: "blues/blues.\(i).wav").map(\.1))  // deterministic
            XCTAssertEqual(chosen.map(\.0), plan.choose(for: "blues/blues.\(i).wav").map(\.0))
            counts[chosen[0].0.description, default: 0] += 1
        }
        XCTAssertEqual(counts.count, 4, "\(counts)")  // every condition gets drawn
        XCTAssertEqual(AugmentationPlan(degradations: all, seed: 3).choose(for: "x").count, 4)
    }

    func testExtractionWritesDegradedCopiesWithTheSourceTrackID() throws {
        let root = NSTemporaryDirectory() + "crnn-aug-\(UUID().uuidString)"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: root) }
        let sr = 22050
        for (g, f) in [("a", 440.0), ("b", 6000.0)] {
            try FileManager.default.createDirectory(atPath: root + "/" + g, withIntermediateDirectories: true)
            // 6.5 s: two segments; a tone plus a little noise (the band limit removes the 6 kHz tone)
            var rng = SeededGenerator(seed: 1)
            let x = (0..<(sr * 13 / 2)).map { Float(0.3 * sin(2 * .pi * f * Double($0) / Double(sr)) + 0.01 * (rng.uniform() - 0.5)) }
            try PCMWAVWriter.write(path: "\(root)/\(g)/\(g).00001.wav", channels: [x], sampleRate: sr)
        }
        let index = try DatasetIndex(root: root)
        let plan = AugmentationPlan(degradations: try AugmentationPlan.parse("resample-8k,gain-20db"), seed: 2)
        let (cache, summary) = try DatasetExtractor.extract(index: index, threads: 2, showProgress: false, augment: plan)
        let (plain, _) = try DatasetExtractor.extract(index: index, threads: 1, showProgress: false)
        XCTAssertEqual(cache.values, plain.values)  // the clean part is what extraction without --augment gives
        XCTAssertEqual(cache.tracks, plain.tracks)
        XCTAssertEqual(summary.segments, 4)
        XCTAssertEqual(summary.augmentedSegments, 8)
        XCTAssertTrue(summary.line.hasSuffix("augmented: 8"), summary.line)
        XCTAssertEqual(cache.augmented.map(\.trackID), ["a.00001", "a.00001", "b.00001", "b.00001"])
        XCTAssertEqual(cache.augmented.map(\.condition), ["resample-8k", "gain-20db", "resample-8k", "gain-20db"])
        // Through 8 kHz (a 4 kHz band) the 6 kHz tone is gone, the 440 Hz one stays: c0 (log energy) falls by
        // more than 100 for clip b, and by at least 50 more than for clip a (which loses only the noise above 4 kHz);
        // -20 dB lowers both.
        let v = cache.valuesPerSegment
        func c0(_ s: Int) -> Float { let seg = Array(cache.segment(s)); return stride(from: 0, to: v, by: 23).map { seg[$0] }.reduce(0, +) / Float(v / 23) }
        let aClean = c0(cache.tracks[0].firstSegment), bClean = c0(cache.tracks[1].firstSegment)
        let aLow = c0(cache.augmented[0].firstSegment), aGain = c0(cache.augmented[1].firstSegment)
        let bLow = c0(cache.augmented[2].firstSegment), bGain = c0(cache.augmented[3].firstSegment)
        XCTAssertLessThan(bLow, bClean - 100, "clean \(bClean), through 8 kHz \(bLow)")
        XCTAssertLessThan((aClean - aLow) + 50, bClean - bLow, "a: \(aClean) -> \(aLow), b: \(bClean) -> \(bLow)")
        XCTAssertLessThan(aGain, aClean - 20)
        XCTAssertLessThan(bGain, bClean - 20)
        // Written and read back, with the same copies.
        let back = try FeatureCache(bytes: cache.encoded())
        XCTAssertEqual(back.augmented, cache.augmented)
    }
}
