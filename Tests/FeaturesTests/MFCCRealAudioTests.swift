import AudioIO
import CSndFile
import CRNNRuntime
import Features
import Foundation
import XCTest

/// MFCC of a real GTZAN segment against librosa (golden: tools/reference/mfcc_goldens.py, segment 3 of
/// blues.00000.flac decoded by soundfile at its native 22050 Hz). Skips when ../shared/data/gtzan-mini
/// is not there.
final class MFCCRealAudioTests: XCTestCase {
    static let gtzanRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/data/gtzan-mini").standardizedFileURL

    func testGTZANSegmentMatchesLibrosa() throws {
        let g = try MFCCGoldens.load()
        guard let gtzan = g.gtzan else { throw XCTSkip("no GTZAN golden in the manifest") }
        let path = Self.gtzanRoot.appendingPathComponent(gtzan.file).path
        guard FileManager.default.fileExists(atPath: path) else { throw XCTSkip("\(path) not found") }
        let config = gtzan.config.featureConfig
        let audio: [Float]
        let decoder: String
        do {
            audio = try AudioDecoder.decodeMono(path: path, sampleRate: Int(config.sampleRate))
            decoder = "AudioIO.AudioDecoder"
        } catch {
            // AudioIO is written in parallel; until it lands, read the (mono, 22050 Hz) FLAC with libsndfile.
            audio = try Self.readMonoNativeRate(path: path, expectedRate: Int(config.sampleRate))
            decoder = "libsndfile (AudioIO not available: \(error))"
        }
        let n = Int(config.segmentSamples), start = gtzan.segmentIndex * n
        XCTAssertGreaterThanOrEqual(audio.count, start + n)
        let segment = Array(audio[start..<(start + n)])
        let sum = segment.reduce(0.0) { $0 + Double($1) }
        XCTAssertEqual(sum, gtzan.segmentSum, accuracy: 1e-6 * max(1, abs(gtzan.segmentSum)),
                       "decoded segment differs from the one librosa saw")
        let got = try MFCCExtractor(config: config).mfcc(segment: segment)
        let err = MaxError(got, try MFCCGoldens.floats(gtzan.mfcc), columns: gtzan.nMFCC)
        print("golden gtzan \(gtzan.file) segment \(gtzan.segmentIndex) via \(decoder): MFCC \(err)")
        XCTAssertLessThanOrEqual(err.value, MFCCGoldenTests.mfccTolerance, err.description)
    }

    /// Mono, native-rate read with libsndfile (normalised float, as soundfile reads it).
    static func readMonoNativeRate(path: String, expectedRate: Int) throws -> [Float] {
        var info = SF_INFO()
        guard let file = sf_open(path, Int32(SFM_READ), &info) else { throw GoldenError("cannot open \(path)") }
        defer { sf_close(file) }
        guard info.channels == 1, Int(info.samplerate) == expectedRate else {
            throw XCTSkip("\(path): \(info.channels) channels at \(info.samplerate) Hz needs AudioIO")
        }
        var out = [Float](repeating: 0, count: Int(info.frames))
        let read = out.withUnsafeMutableBufferPointer { sf_readf_float(file, $0.baseAddress, info.frames) }
        out.removeLast(out.count - Int(read))
        return out
    }
}
