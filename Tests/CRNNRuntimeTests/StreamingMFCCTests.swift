// The frame-reusing stream frontend (StreamingMFCC) against file mode (FixedPointMFCC.segment) on the same
// samples, bit for bit: every window hop (one frame, a few, the interior count, more than a segment), chunk sizes
// from one sample to the whole input, a partial last window, the paper configuration; and StreamClassifier over a
// frontend-version-2 model against file-mode classification.
import XCTest
@testable import CRNNRuntime

final class StreamingMFCCTests: XCTestCase {
    func v2(_ c: FeatureConfig) throws -> FixedPointMFCC {
        var t = testFrontendTables(c)
        t.version = 2
        return try FixedPointMFCC(config: c, tables: t)
    }

    /// File mode on `samples` (zero-padded to a segment).
    func fileMode(_ f: FixedPointMFCC, _ samples: ArraySlice<Int16>) -> [Int32] {
        var seg = [Int16](samples)
        seg += [Int16](repeating: 0, count: Int(f.config.segmentSamples) - seg.count)
        var out = [Int32](repeating: 0, count: f.frameCount * f.nMFCC)
        var scratch = [UInt64](repeating: 0, count: f.segmentScratchBytes / 8)
        seg.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBytes { f.segment(p, into: o, scratch: $0) } }
        }
        return out
    }

    /// Streams `audio` in chunks from `chunk` and returns the features of every window as it becomes due.
    func stream(_ f: FixedPointMFCC, hopFrames: Int, _ audio: [Int16], chunk: () -> Int) -> [[Int32]] {
        let s = StreamingMFCC(mfcc: f, hopSamples: hopFrames * f.hop)
        let seg = Int(f.config.segmentSamples)
        var windows: [[Int32]] = []
        var i = 0
        var nextDue = Int64(seg)
        while i < audio.count {
            let n = min(chunk(), audio.count - i, Int(nextDue - s.totalSamples))
            audio[i..<(i + n)].withUnsafeBufferPointer { s.push($0) }
            i += n
            if s.totalSamples == nextDue {
                var out = [Int32](repeating: 0, count: f.frameCount * f.nMFCC)
                out.withUnsafeMutableBufferPointer {
                    s.windowFeatures(window: Int64(windows.count), validSamples: seg, into: $0.baseAddress!)
                }
                windows.append(out)
                nextDue += Int64(s.hopSamples)
            }
        }
        return windows
    }

    func testStreamWindowsEqualFileModeForEveryHopAndChunking() throws {
        let c = smallConfig  // 33 frames, interior 2..<31
        let f = try v2(c)
        XCTAssertEqual(f.interiorFrames, 2..<31)
        let seg = Int(c.segmentSamples)
        var audio = testSignal(count: 5 * seg + 333, amplitude: 12000, seed: 21)
        // Stretches of silence: their frames sit at amin, below the top_db floor of the windows that also hold music,
        // so a window's DCT finishes ring frames with and without clipped bands.
        for i in 3000..<3900 { audio[i] = 0 }
        for i in 7000..<7300 { audio[i] = 0 }
        var rng = SplitMix64(seed: 3)
        for hopFrames in [1, 2, 7, 29, 30, 33, 40] {
            let hop = hopFrames * f.hop
            let count = (audio.count - seg) / hop + 1
            let expected = (0..<count).map { fileMode(f, audio[($0 * hop)..<($0 * hop + seg)]) }
            for (name, chunk) in [("whole", { audio.count }), ("one sample", { 1 }), ("random", { rng.int(1, 700) }),
                                  ("frame hop", { 64 })] as [(String, () -> Int)] {
                let got = stream(f, hopFrames: hopFrames, audio, chunk: chunk)
                XCTAssertEqual(got.count, count, "hop \(hopFrames), \(name)")
                for w in 0..<min(got.count, count) where got[w] != expected[w] {
                    XCTFail("hop \(hopFrames) frames, chunks \(name): window \(w) differs from file mode")
                    break
                }
            }
        }
    }

    /// A stream shorter than one segment: its only window, zero-padded after the last sample, equals file mode.
    func testPartialWindowEqualsZeroPaddedFileMode() throws {
        let f = try v2(smallConfig)
        let seg = Int(smallConfig.segmentSamples)
        for valid in [seg - 1, seg - 20, seg - 64, seg - 300, 700, 100] {
            let audio = testSignal(count: valid, amplitude: 9000, seed: UInt64(valid))
            let s = StreamingMFCC(mfcc: f, hopSamples: 7 * f.hop)
            audio.withUnsafeBufferPointer { s.push($0) }
            var out = [Int32](repeating: 0, count: f.frameCount * f.nMFCC)
            out.withUnsafeMutableBufferPointer { s.windowFeatures(window: 0, validSamples: valid, into: $0.baseAddress!) }
            XCTAssertEqual(out, fileMode(f, audio[...]), "\(valid) samples")
        }
    }

    func testPaperConfigOneSecondHop() throws {
        let f = try v2(.paper)
        XCTAssertEqual(f.interiorFrames, 2..<128)
        let seg = Int(FeatureConfig.paper.segmentSamples)
        var audio = testSignal(count: seg + 2 * 43 * 512 + 100, amplitude: 15000, seed: 8)
        for i in 40_000..<45_000 { audio[i] = 0 }  // floored frames in every window
        var rng = SplitMix64(seed: 4)
        let got = stream(f, hopFrames: 43, audio, chunk: { rng.int(1, 5000) })
        XCTAssertEqual(got.count, 3)
        for w in 0..<got.count {
            XCTAssertEqual(got[w], fileMode(f, audio[(w * 43 * 512)..<(w * 43 * 512 + seg)]), "window \(w)")
        }
        let s = StreamingMFCC(mfcc: f, hopSamples: 43 * 512)
        // Rows (32,256), their DCT sums (23,184), heads, tail and history of a 1-s hop stream.
        XCTAssertLessThan(s.memoryBytes - s.frameScratch.count, 64_000)
    }

    /// The frontend version travels in the file: version 2 is written as format 1.2 and read back; version 1 stays
    /// format 1.1; an unknown version is refused.
    func testFrontendVersionInTheModelFile() throws {
        for version in [UInt32(1), 2] {
            var b = buildPaperModel(lstm: false)
            var t = testFrontendTables(.paper)
            t.version = version
            b.frontend = t
            let bytes = AlignedBytes(b.encode())
            let model = try ModelFile(bytes: bytes.raw)
            XCTAssertEqual(model.versionMinor, version == 2 ? 2 : 1)
            XCTAssertEqual(model.frontendTables()?.version, version)
            XCTAssertEqual(try FixedPointMFCC(model: model).version, version)
        }
        var b = buildPaperModel(lstm: false)
        var t = testFrontendTables(.paper)
        t.version = 3
        b.frontend = t
        let bytes = AlignedBytes(b.encode())
        XCTAssertThrowsError(try ModelFile(bytes: bytes.raw)) { e in
            guard case ModelError.badFrontend = e else { return XCTFail("\(e)") }
        }
    }

    func testVersionOneDoesNotStream() throws {
        let f1 = try FixedPointMFCC(config: smallConfig, tables: testFrontendTables(smallConfig))
        XCTAssertEqual(f1.version, 1)
        XCTAssertFalse(StreamingMFCC.canStream(f1))
        XCTAssertTrue(StreamingMFCC.canStream(try v2(smallConfig)))
    }

    /// StreamClassifier over a version-2 model uses frame reuse and gives file mode's probabilities per window.
    func testStreamClassifierWithFrameReuseEqualsFileMode() throws {
        var b = buildPaperModel(lstm: false)
        var tables = testFrontendTables(.paper)
        tables.version = 2
        b.frontend = tables
        let bytes = AlignedBytes(b.encode())
        let model = try ModelFile(bytes: bytes.raw)
        let fileClassifier = try SegmentClassifier(interpreter: Interpreter(model: model),
                                                   extractor: FixedPointMFCCExtractor(model: model))
        let streamClassifier = try SegmentClassifier(interpreter: Interpreter(model: model),
                                                     extractor: FixedPointMFCCExtractor(model: model))
        let seg = fileClassifier.segmentSamples, hop = 43 * 512
        let audio = testSignal(count: seg + 2 * hop + 5000, amplitude: 14000, seed: 77)
        let s = StreamClassifier(classifier: streamClassifier, hopSamples: hop)
        XCTAssertNotNil(s.frames, "a version-2 model streams with frame reuse")
        XCTAssertNil(streamClassifier.segmentStorage, "no segment of audio is kept")
        var got: [[Int16]] = []
        var used = 0
        audio.withUnsafeBufferPointer { p in
            while used < p.count {
                used += s.append(UnsafeBufferPointer(rebasing: p[used..<min(p.count, used + 3001)]))
                if s.windowDue { got.append(Array(s.classifyWindow())) }
            }
        }
        XCTAssertEqual(got.count, 3)
        for w in 0..<got.count {
            for k in 0..<seg { fileClassifier.segment[k] = audio[w * hop + k] }
            XCTAssertEqual(got[w], Array(fileClassifier.classifySegment(validSamples: seg)), "window \(w)")
        }
        XCTAssertNil(streamClassifier.segmentStorage)
        XCTAssertNil(streamClassifier.featureStorageOptional, "features go straight into the interpreter's input")
    }
}
