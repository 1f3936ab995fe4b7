import Foundation
import XCTest
@testable import CRNNRuntime

/// A TEST-ONLY stand-in for the fixed-point MFCC: cheap, deterministic, and sensitive to every sample, so
/// that the segment/stream plumbing can be tested on its own. Never used by crnn-infer.
struct StandInExtractor: SegmentFeatureExtractor {
    var hop = 512, coefficients = 23
    mutating func extract(segment: UnsafeBufferPointer<Int16>, into features: UnsafeMutableBufferPointer<Int32>) {
        let frames = features.count / coefficients
        for t in 0..<frames {
            for k in 0..<coefficients {
                var acc: Int64 = 0
                let start = t * hop
                for j in 0..<hop where start + j < segment.count {
                    let s = Int64(segment[start + j])
                    acc += ((j * (k + 1)) / 64) % 2 == 0 ? s : -s
                }
                features[t * coefficients + k] = Int32(truncatingIfNeeded: acc >> 6)
            }
        }
    }
}

/// A paper-config tiny model (130 x 23 Q23.8 input, 10 classes) and its classifier with the stand-in.
final class TestClassifier {
    let bytes: AlignedBytes
    let classifier: SegmentClassifier<StandInExtractor>
    init(seed: UInt32 = 1) throws {
        bytes = AlignedBytes(buildTinyModel(.gru, frames: 130, coeffs: 23, filters: 4, units: 6, classes: 10, seed: seed).encode())
        let model = try ModelFile(bytes: bytes.raw)
        classifier = try SegmentClassifier(interpreter: try Interpreter(model: model), extractor: StandInExtractor())
    }
}

/// Deterministic test audio: a few tones and noise whose mix changes every second, integers only.
func testAudio(samples: Int, seed: UInt64) -> [Int16] {
    var r = SplitMix64(seed: seed)
    var out = [Int16](repeating: 0, count: samples)
    var period = 40, amp = 6000
    for i in 0..<samples {
        if i % 22050 == 0 { period = r.int(8, 200); amp = r.int(500, 12000) }
        let p = i % period
        let tri = (p < period / 2 ? p : period - p) * 4 * amp / period - amp
        out[i] = Int16(clamping: tri + Int(Int16(truncatingIfNeeded: r.next())) / 8)
    }
    return out
}

func wavBytes(_ samples: [Int16], rate: UInt32 = 22050) -> [UInt8] {
    var b = WAVBuilder(sampleRate: rate)
    b.data = samples.flatMap { s -> [UInt8] in let u = UInt16(bitPattern: s); return [UInt8(u & 255), UInt8(u >> 8)] }
    return b.bytes()
}

final class ClassifierTests: XCTestCase {
    func classify(_ c: SegmentClassifier<StandInExtractor>, _ samples: ArraySlice<Int16>) -> [Int16] {
        for (i, s) in samples.enumerated() { c.segment[i] = s }
        return Array(c.classifySegment(validSamples: samples.count))
    }

    func testClipScoresMeanRankAndTies() {
        var s = ClipScores(classes: 3)
        XCTAssertEqual(s.meanQ15(0), 0)
        for p: [Int16] in [[10000, 20000, 2768], [10001, 20000, 2767]] { p.withUnsafeBufferPointer { s.add($0) } }
        XCTAssertEqual(s.count, 2)
        XCTAssertEqual(s.meanQ15(0), 10001)  // 10000.5 rounds up
        XCTAssertEqual(s.meanQ15(2), 2768)  // 2767.5 rounds up
        XCTAssertEqual(s.top1, 1)
        XCTAssertEqual((0..<3).map { s.rank($0) }, [1, 0, 2])
        var t = ClipScores(classes: 4)
        [Int16(5), 9, 9, 5].withUnsafeBufferPointer { t.add($0) }
        XCTAssertEqual(t.top1, 1, "ties go to the lower class index")
        XCTAssertEqual((0..<4).map { t.rank($0) }, [1, 2, 0, 3])
        t.reset()
        XCTAssertEqual(t.count, 0)
        XCTAssertEqual(t.sums, [0, 0, 0, 0])
    }

    /// A file is cut by FeatureConfig.segmentCount; the short last segment (>= 99 %) is zero-padded; the clip
    /// scores are the mean of the segment probabilities.
    func testFileSegmentsAndMean() throws {
        let t = try TestClassifier()
        let c = t.classifier
        let seg = c.segmentSamples
        let audio = testAudio(samples: 2 * seg + seg - seg / 100 + 3, seed: 1)  // 3 segments, the last padded
        var expected: [[Int16]] = []
        for k in 0..<3 { expected.append(classify(c, audio[(k * seg)..<min(audio.count, (k + 1) * seg)])) }
        XCTAssertNotEqual(expected[0], expected[1], "the test model must tell segments apart for this test to mean anything")
        var scores = ClipScores(classes: c.classCount)
        var top = [Int32](repeating: -1, count: 3)
        let n = try wavBytes(audio).withUnsafeBytes { raw in
            try top.withUnsafeMutableBufferPointer { tp in
                try c.classify(try WAVFile(bytes: raw), scores: &scores, segmentTop1: tp)
            }
        }
        XCTAssertEqual(n, 3)
        XCTAssertEqual(scores.count, 3)
        for k in 0..<c.classCount {
            let sum = expected.reduce(Int64(0)) { $0 + Int64($1[k]) }
            XCTAssertEqual(scores.sums[k], sum)
            XCTAssertEqual(scores.meanQ15(k), Int32((2 * sum + 3) / 6))
        }
        for k in 0..<3 {
            let argmax = expected[k].indices.max { expected[k][$0] < expected[k][$1] || (expected[k][$0] == expected[k][$1] && $0 > $1) }!
            XCTAssertEqual(expected[k][Int(top[k])], expected[k][argmax], "segment \(k) top-1 is a most probable class")
        }
        // One sample fewer than 99 % of the third segment: two segments.
        let shorter = Array(audio.prefix(2 * seg + seg - seg / 100 - 1))
        let m = try wavBytes(shorter).withUnsafeBytes { raw in try c.classify(try WAVFile(bytes: raw), scores: &scores) }
        XCTAssertEqual(m, 2)
    }

    func testWrongRateAndTooShortAreErrors() throws {
        let t = try TestClassifier()
        var scores = ClipScores(classes: 10)
        wavBytes(testAudio(samples: 70000, seed: 2), rate: 44100).withUnsafeBytes { raw in
            do { _ = try t.classifier.classify(try WAVFile(bytes: raw), scores: &scores); XCTFail("44.1 kHz accepted") } catch {
                guard case ClassifyError.sampleRateMismatch(audio: 44100, model: 22050) = error else { return XCTFail("\(error)") }
            }
        }
        wavBytes(testAudio(samples: 65000, seed: 2)).withUnsafeBytes { raw in
            do { _ = try t.classifier.classify(try WAVFile(bytes: raw), scores: &scores); XCTFail("short clip accepted") } catch {
                guard case ClassifyError.tooShort(samples: 65000, segmentSamples: 66150) = error else { return XCTFail("\(error)") }
            }
        }
    }

    func testInt8InputModelIsRefused() throws {
        var b = ModelBuilder()
        let x = b.addActivation(.int8, shape: [4], scaleMultiplier: 1 << 30, scaleShift: -7)
        let y = b.addFullyConnected(input: x, weights: [Int8](repeating: 1, count: 8), outputs: 2, bias: [0, 0],
                                    multipliers: [1 << 30, 1 << 30], shifts: [-8, -8], outputZeroPoint: 0)
        b.inputTensor = x; b.outputTensor = y
        b.softmaxMultiplier = 1 << 30; b.softmaxShift = 13
        let bytes = AlignedBytes(b.encode())
        let it = try Interpreter(model: try ModelFile(bytes: bytes.raw))
        XCTAssertThrowsError(try SegmentClassifier(interpreter: it, extractor: StandInExtractor()))
    }

    func testHopRoundsToWholeFrames() {
        let c = FeatureConfig.paper
        XCTAssertEqual(StreamClassifier<StandInExtractor>.hopFrames(microseconds: 1_000_000, config: c), 43)  // 43.07
        XCTAssertEqual(StreamClassifier<StandInExtractor>.hopFrames(microseconds: 500_000, config: c), 22)  // 21.53
        XCTAssertEqual(StreamClassifier<StandInExtractor>.hopFrames(microseconds: 3_000_000, config: c), 129)  // 129.2
        XCTAssertEqual(StreamClassifier<StandInExtractor>.hopFrames(microseconds: 1, config: c), 1)
    }

    /// Stream windows equal file-mode classification of the same samples, whatever the read chunk sizes; the
    /// clip estimate is the mean of the windows; samples after the last window are counted.
    func testStreamWindowsEqualFileModeOnTheSameSamples() throws {
        let t = try TestClassifier()
        let c = t.classifier
        let seg = c.segmentSamples
        let audio = testAudio(samples: 10 * 22050 + 777, seed: 5)
        for hopFrames in [43, 22, 129, 200] {  // 1 s, 0.5 s, just under a segment, more than a segment
            let hop = hopFrames * 512
            let windows = (audio.count - seg) / hop + 1
            var fileMode: [[Int16]] = []
            for w in 0..<windows { fileMode.append(classify(c, audio[(w * hop)..<(w * hop + seg)])) }
            var r = SplitMix64(seed: UInt64(hopFrames))
            for chunking in 0..<2 {
                let s = StreamClassifier(classifier: c, hopSamples: hop)
                var got: [[Int16]] = [], starts: [Int64] = []
                var i = 0
                while i < audio.count {
                    let n = chunking == 0 ? audio.count - i : min(r.int(1, 9000), audio.count - i)
                    var used = 0
                    audio[i..<(i + n)].withUnsafeBufferPointer { chunk in
                        while used < n {
                            used += s.append(UnsafeBufferPointer(rebasing: chunk[used...]))
                            if s.windowDue { got.append(Array(s.classifyWindow())); starts.append(s.windowStart) }
                        }
                    }
                    i += n
                }
                XCTAssertFalse(s.finish())
                XCTAssertEqual(got, fileMode, "hop \(hopFrames) frames, chunking \(chunking)")
                XCTAssertEqual(starts, (0..<windows).map { Int64($0 * hop) })
                XCTAssertEqual(s.windowCount, Int64(windows))
                XCTAssertEqual(s.unclassifiedSamples, Int64(audio.count - ((windows - 1) * hop + seg)))
                for k in 0..<c.classCount {
                    XCTAssertEqual(s.clip.sums[k], fileMode.reduce(Int64(0)) { $0 + Int64($1[k]) })
                }
            }
        }
    }

    /// At end of input without any window: >= 99 % of a segment is classified zero-padded (the file rule),
    /// less is not classified.
    func testStreamEndOfInput() throws {
        let t = try TestClassifier()
        let c = t.classifier
        let seg = c.segmentSamples
        let audio = testAudio(samples: seg - seg / 100, seed: 9)
        let expected = classify(c, audio[...])
        let s = StreamClassifier(classifier: c, hopSamples: 43 * 512)
        _ = audio.withUnsafeBufferPointer { s.append($0) }
        XCTAssertFalse(s.windowDue)
        XCTAssertTrue(s.finish())
        XCTAssertEqual(Array(c.probabilities), expected)
        XCTAssertEqual(s.windowCount, 1)
        XCTAssertEqual(s.unclassifiedSamples, 0)

        let s2 = StreamClassifier(classifier: c, hopSamples: 512)
        _ = audio.dropLast().withUnsafeBufferPointer { s2.append($0) }
        XCTAssertFalse(s2.finish())
        XCTAssertEqual(s2.windowCount, 0)
        XCTAssertEqual(s2.unclassifiedSamples, Int64(audio.count - 1))
        XCTAssertFalse(StreamClassifier(classifier: c, hopSamples: 512).finish(), "empty input: nothing")
    }
}
