import AudioIO
import CRNNRuntime
import XCTest
@testable import Features

/// A feature file made in memory: `perGenre` tracks per genre, `segments` segments each, values = segment index.
func syntheticCache(genres: Int = 3, perGenre: Int = 10, segments: Int = 4) -> FeatureCache {
    var config = FeatureConfig.paper
    config.segmentSamples = 4096  // 9 frames: keeps the test data small
    var tracks: [FeatureTrack] = []
    var values: [Float] = []
    for g in 0..<genres {
        for t in 0..<perGenre {
            tracks.append(FeatureTrack(trackID: "g\(g).\(t)", relativePath: "g\(g)/g\(g).\(t).wav", label: g,
                                       firstSegment: tracks.count * segments, segmentCount: segments))
            for s in 0..<segments {
                values += [Float](repeating: Float(tracks.count * segments + s), count: config.valuesPerSegment)
            }
        }
    }
    return FeatureCache(config: config, labels: (0..<genres).map { "genre\($0)" }, tracks: tracks, values: values)
}

final class DatasetSplitTests: XCTestCase {
    func testTrackSplitKeepsEveryTrackOnOneSideAndIsStratified() throws {
        let cache = syntheticCache()
        let split = try cache.splits(.track, options: SplitOptions(validationFraction: 0.1, testFraction: 0.2, seed: 7))[0]
        XCTAssertEqual(split.testTracks.count, 6)  // 2 per genre
        XCTAssertEqual(split.validationTracks.count, 3)  // 1 per genre
        XCTAssertEqual(split.trainTracks.count, 21)
        XCTAssertTrue(Set(split.testTracks).isDisjoint(with: split.trainTracks))
        XCTAssertTrue(Set(split.validationTracks).isDisjoint(with: split.trainTracks))
        XCTAssertTrue(Set(split.testTracks).isDisjoint(with: split.validationTracks))
        let st = cache.segmentTracks
        let testTrackIdx = Set(split.test.map { st[$0] }), trainTrackIdx = Set(split.train.map { st[$0] })
        XCTAssertTrue(testTrackIdx.isDisjoint(with: trainTrackIdx), "a track's segments fell on both sides")
        XCTAssertEqual(split.train.count + split.validation.count + split.test.count, cache.segmentCount)
        let labels = cache.segmentLabels
        for g in 0..<3 { XCTAssertEqual(split.test.filter { labels[$0] == g }.count, 8) }
        XCTAssertFalse(split.kind.isLeaky)
    }

    func testSplitsAreSeeded() throws {
        let cache = syntheticCache()
        let a = try cache.splits(.track, options: SplitOptions(seed: 1))[0]
        let b = try cache.splits(.track, options: SplitOptions(seed: 1))[0]
        let c = try cache.splits(.track, options: SplitOptions(seed: 2))[0]
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.testTracks, c.testTracks)
    }

    func testZeroTestFractionIsAllowed() throws {
        let split = try syntheticCache().splits(.track, options: SplitOptions(validationFraction: 0.2, testFraction: 0))[0]
        XCTAssertTrue(split.test.isEmpty)
        XCTAssertEqual(split.validationTracks.count, 6)
    }

    func testKFoldTestsEveryTrackExactlyOnce() throws {
        let cache = syntheticCache()
        let folds = try cache.splits(.kfold, options: SplitOptions(validationFraction: 0.1, folds: 5, seed: 3))
        XCTAssertEqual(folds.count, 5)
        var tested: [String] = []
        for (f, s) in folds.enumerated() {
            XCTAssertEqual(s.fold, f)
            XCTAssertEqual(s.testTracks.count, 6)
            XCTAssertTrue(Set(s.testTracks).isDisjoint(with: s.trainTracks))
            XCTAssertTrue(Set(s.testTracks).isDisjoint(with: s.validationTracks))
            XCTAssertTrue(Set(s.validationTracks).isDisjoint(with: s.trainTracks))
            tested += s.testTracks
        }
        XCTAssertEqual(tested.count, 30)
        XCTAssertEqual(Set(tested).count, 30)
        XCTAssertThrowsError(try cache.splits(.kfold, options: SplitOptions(folds: 11)))
    }

    func testRandomSplitIsSegmentLevelAndLeaky() throws {
        let cache = syntheticCache()
        let s = try cache.splits(.random, options: SplitOptions(seed: 5))[0]
        XCTAssertTrue(s.kind.isLeaky)
        XCTAssertEqual(s.test.count, 24)  // 20 % of 120 segments
        XCTAssertEqual(s.validation.count, 12)
        XCTAssertEqual(Set(s.train + s.validation + s.test).count, 120)
        XCTAssertFalse(Set(s.testTracks).isDisjoint(with: s.trainTracks), "with 4 segments per track, tracks should leak")
        XCTAssertTrue(s.summary.contains("LEAKY"))
    }

    func testFilteredSplitListsAreThePublishedOnes() throws {
        let lists = try FilteredGTZANSplit.load()
        XCTAssertEqual(lists.train.count, 443)
        XCTAssertEqual(lists.validation.count, 197)
        XCTAssertEqual(lists.test.count, 290)
        XCTAssertEqual(Set(lists.train + lists.validation + lists.test).count, 930)
        XCTAssertTrue(lists.validation.contains("blues.00000"))
        XCTAssertTrue(lists.train.contains("rock.00099"))
        // A dataset that is not the full GTZAN is refused with a message.
        XCTAssertThrowsError(try syntheticCache().splits(.filtered)) { e in
            XCTAssertTrue("\(e)".contains("full GTZAN"), "\(e)")
        }
    }

    func testBadFractionsAreRejected() {
        XCTAssertThrowsError(try syntheticCache().splits(.track, options: SplitOptions(validationFraction: 0.6, testFraction: 0.5)))
    }
}

final class FeatureCacheTests: XCTestCase {
    func testRoundTrip() throws {
        let cache = syntheticCache(genres: 2, perGenre: 3, segments: 2)
        let back = try FeatureCache(bytes: cache.encoded())
        XCTAssertEqual(back.config, cache.config)
        XCTAssertEqual(back.labels, cache.labels)
        XCTAssertEqual(back.tracks, cache.tracks)
        XCTAssertEqual(back.values, cache.values)
        XCTAssertEqual(back.segmentLabels, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    }

    func testCorruptFilesAreRefusedWithAReason() {
        let good = syntheticCache(genres: 2, perGenre: 2, segments: 1).encoded()
        func reason(_ bytes: [UInt8]) -> String {
            do { _ = try FeatureCache(bytes: bytes); return "accepted" } catch { return error.description }
        }
        XCTAssertTrue(reason([]).contains("magic"))
        XCTAssertTrue(reason(Array("RIFF....WAVEfmt ".utf8)).contains("magic"))
        for cut in [9, 20, 90, good.count / 2, good.count - 1] {
            XCTAssertNotEqual(reason(Array(good[0..<cut])), "accepted", "truncated at \(cut)")
        }
        var flipped = good
        flipped[good.count / 2] ^= 0x40
        XCTAssertTrue(reason(flipped).contains("checksum"))
        var newer = good
        newer[8] = 3  // versions 1 and 2 are read; 3 does not exist yet
        XCTAssertTrue(reason(newer).contains("version 3"))
    }

    func testShardsConcatenateToTheWhole() throws {
        let whole = syntheticCache(genres: 2, perGenre: 3, segments: 2)
        func part(_ r: Range<Int>) -> FeatureCache {
            var tracks = Array(whole.tracks[r])
            let base = tracks[0].firstSegment
            for i in tracks.indices { tracks[i].firstSegment -= base }
            let vps = whole.valuesPerSegment
            let segs = tracks.reduce(0) { $0 + $1.segmentCount }
            return FeatureCache(config: whole.config, labels: whole.labels, tracks: tracks,
                                values: Array(whole.values[base * vps ..< (base + segs) * vps]))
        }
        let merged = try FeatureCache.concatenate([part(0..<2), part(2..<5), part(5..<6)])
        XCTAssertEqual(merged.tracks, whole.tracks)
        XCTAssertEqual(merged.values, whole.values)
        XCTAssertThrowsError(try FeatureCache.concatenate([part(0..<2), part(0..<2)]))
        var other = part(2..<6)
        other.labels = ["x", "y"]
        XCTAssertThrowsError(try FeatureCache.concatenate([part(0..<2), other]))
    }
}

final class DatasetIndexTests: XCTestCase {
    func tempDir() -> String {
        let d = NSTemporaryDirectory() + "crnn-ds-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    func testScansGenreFoldersInSortedOrder() throws {
        let root = tempDir()
        for (g, files) in [("rock", ["b.wav", "a.flac", "notes.txt", ".hidden.wav"]), ("blues", ["x.00001.au"]), ("empty", [])] {
            try FileManager.default.createDirectory(atPath: root + "/" + g, withIntermediateDirectories: true)
            for f in files { XCTAssertTrue(FileManager.default.createFile(atPath: root + "/" + g + "/" + f, contents: Data([0]))) }
        }
        let index = try DatasetIndex(root: root)
        XCTAssertEqual(index.labels, ["blues", "rock"])  // a folder without audio is not a genre
        XCTAssertEqual(index.clips.map(\.trackID), ["x.00001", "a", "b"])
        XCTAssertEqual(index.clips.map(\.label), [0, 1, 1])
        XCTAssertEqual(index.shard(1, of: 2).map(\.trackID), ["x.00001"])
        XCTAssertEqual(index.shard(2, of: 2).map(\.trackID), ["a", "b"])
    }

    func testMissingOrEmptyFoldersAreErrors() throws {
        let root = tempDir()
        XCTAssertThrowsError(try DatasetIndex(root: root + "/nope")) { XCTAssertTrue("\($0)".contains("no such folder")) }
        XCTAssertThrowsError(try DatasetIndex(root: root)) { XCTAssertTrue("\($0)".contains("no genre sub-folders")) }
        try FileManager.default.createDirectory(atPath: root + "/jazz", withIntermediateDirectories: true)
        XCTAssertThrowsError(try DatasetIndex(root: root)) { XCTAssertTrue("\($0)".contains("no audio files")) }
    }

    func testExtractionSkipsBadClipsAndCountsSegments() throws {
        let root = tempDir()
        try FileManager.default.createDirectory(atPath: root + "/a", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/b", withIntermediateDirectories: true)
        let sr = 22050
        let tone = (0..<(sr * 7)).map { Float(0.3 * sin(Double($0) * 0.05)) }  // 7 s: 2 full segments
        try PCMWAVWriter.write(path: root + "/a/long.wav", channels: [tone], sampleRate: sr)
        try PCMWAVWriter.write(path: root + "/a/short.wav", channels: [Array(tone[0..<sr])], sampleRate: sr)  // 1 s
        XCTAssertTrue(FileManager.default.createFile(atPath: root + "/b/garbage.wav", contents: Data(repeating: 7, count: 100)))
        try PCMWAVWriter.write(path: root + "/b/ok.wav", channels: [Array(tone[0..<(sr * 4)])], sampleRate: sr)
        let index = try DatasetIndex(root: root)
        let (cache, summary) = try DatasetExtractor.extract(index: index, showProgress: false)
        XCTAssertEqual(summary.clips, 2)
        XCTAssertEqual(summary.segments, 3)
        XCTAssertEqual(summary.skipped, 2)
        XCTAssertTrue(summary.warnings.contains { $0.contains("short.wav") && $0.contains("too short") }, "\(summary.warnings)")
        XCTAssertTrue(summary.warnings.contains { $0.contains("garbage.wav") }, "\(summary.warnings)")
        XCTAssertEqual(cache.tracks.map(\.trackID), ["long", "ok"])
        XCTAssertEqual(cache.segmentLabels, [0, 0, 1])
        XCTAssertTrue(summary.line.hasPrefix("clips: 2, segments: 3, skipped: 2, audio: "))
        // Features equal a direct computation of the same segment; --max-segments caps.
        let direct = try MFCCExtractor().mfcc(segment: Array(try AudioDecoder.decodeMono(path: root + "/a/long.wav", sampleRate: sr)[66150 ..< 132300]))
        XCTAssertEqual(Array(cache.segment(1)), direct)
        let (capped, _) = try DatasetExtractor.extract(index: index, maxSegments: 1, showProgress: false)
        XCTAssertEqual(capped.segmentCount, 2)
    }
}
