import CSndFile
import XCTest

@testable import AudioIO

/// libsoxr HQ through `AudioDecoder.resample` and through file decoding: lengths, tone
/// frequency, level and phase, spurious content, and rejection of tones above the new Nyquist.
final class ResampleTests: XCTestCase {
    let out = 22_050

    // MARK: lengths

    func testLengthsFollowTheRatio() throws {
        for (from, n) in [(44_100, 44_100), (48_000, 48_000), (16_000, 16_000), (44_100, 12_345),
                          (48_000, 7_777), (16_000, 999), (8_000, 1)] {
            let x = sine(440, rate: from, count: n)
            let exact = Double(n) * Double(out) / Double(from)
            let raw = try AudioDecoder.resampleUnfixed(x, from: from, to: out, block: 4_096)
            // libsoxr on its own: within two samples of n * ratio.
            XCTAssertLessThanOrEqual(abs(Double(raw.count) - exact), 2,
                                     "raw soxr length \(raw.count) for \(n) samples \(from)->\(out)")
            // The public result has librosa's length, ceil(n * ratio).
            let y = try AudioDecoder.resample(x, from: from, to: out)
            XCTAssertEqual(y.count, Int(exact.rounded(.up)), "\(n) samples \(from)->\(out)")
            print("length \(from)->\(out), n=\(n): exact \(exact), soxr \(raw.count), returned \(y.count)")
        }
    }

    func testEqualRatesReturnTheInputUnchanged() throws {
        let x = sine(1_234, rate: 22_050, count: 5_000)
        XCTAssertEqual(try AudioDecoder.resample(x, from: 22_050, to: 22_050), x)
    }

    func testEmptyInputGivesEmptyOutput() throws {
        XCTAssertEqual(try AudioDecoder.resample([], from: 44_100, to: 22_050), [])
    }

    // MARK: tones

    /// A tone inside the new passband keeps its frequency, level and phase (soxr compensates its
    /// own delay), and everything else it produces is at least 60 dB down.
    func testToneSurvivesWithLowSpuriousContent() throws {
        for (from, f) in [(44_100, 1_000.0), (48_000, 1_000.0), (16_000, 1_000.0), (44_100, 6_000.0),
                          (16_000, 3_000.0)] {
            let amplitude = 0.5
            let x = sine(f, rate: from, count: from)  // 1 s, sin(2π f n / from)
            let y = try AudioDecoder.resample(x, from: from, to: out)
            XCTAssertEqual(y.count, out)

            // Steady state away from the start/stop transients of the abrupt tone.
            let steady = 1_000..<(y.count - 1_000)
            // Coarse spectrum (50 Hz grid) over 0.1 s: the largest component is the tone.
            XCTAssertEqual(peakFrequency(y, rate: out, range: 5_000..<7_205, step: 50), f, "\(from) Hz, \(f) Hz tone")

            let fit = fitTone(y, frequency: f, rate: out, range: steady)
            // The input is pure sine with zero phase at n = 0: expect b = A, a = 0 at the output times.
            XCTAssertEqual(fit.amplitude, amplitude, accuracy: amplitude * 0.002, "level \(from) Hz, \(f) Hz")
            XCTAssertEqual(atan2(fit.cosCoef, fit.sinCoef), 0, accuracy: 0.005, "phase (delay) \(from) Hz, \(f) Hz")
            XCTAssertLessThan(fit.spuriousDB, -60, "spurious content \(from) Hz, \(f) Hz")

            // The flush delivers the end: the last 10 % still holds the tone at full level.
            let tail = (y.count - y.count / 10)..<(y.count - 200)
            XCTAssertEqual(rms(y, tail), amplitude / 2.squareRoot(), accuracy: 0.01)

            print(String(format: "tone %5.0f Hz %d->%d: level %+.4f dB, phase %+.2e rad, spurious %.1f dB",
                         f, from, out, dB(fit.amplitude / amplitude), atan2(fit.cosCoef, fit.sinCoef),
                         fit.spuriousDB))
        }
    }

    /// A tone above the output Nyquist must be filtered out, not folded back.
    func testToneAboveNewNyquistIsRejected() throws {
        for (from, f) in [(44_100, 15_000.0), (48_000, 15_000.0), (48_000, 20_000.0), (44_100, 11_800.0)] {
            let x = sine(f, rate: from, count: from)
            let inputRMS = rms(x, 0..<x.count)
            let y = try AudioDecoder.resample(x, from: from, to: out)
            XCTAssertEqual(y.count, out)
            let steady = 1_000..<(y.count - 1_000)
            let level = dB(rms(y, steady) / inputRMS)
            let alias = Double(out) - f  // where it would fold to
            let aliasLevel = dB(dftAmplitude(y, frequency: alias, rate: out, range: steady) / 0.5)
            let whole = dB(rms(y, 0..<y.count) / inputRMS)
            print(String(format: "reject %5.0f Hz %d->%d: steady %.1f dB, at alias %.0f Hz %.1f dB, whole incl. edges %.1f dB",
                         f, from, out, level, alias, aliasLevel, whole))
            XCTAssertLessThan(level, -60, "\(f) Hz at \(from) Hz")
            XCTAssertLessThan(aliasLevel, -60, "\(f) Hz at \(from) Hz, alias at \(alias) Hz")
        }
    }

    // MARK: block independence and file path

    /// The output does not depend on how the input was cut into blocks (bit for bit), so
    /// streamed file decoding gives what one in-memory call gives.
    func testBlockSizeDoesNotChangeTheOutput() throws {
        let from = 44_100
        var x = sine(997, rate: from, count: 3 * from)
        for n in 0..<x.count { x[n] += Float(0.1 * sin(Double(n) * Double(n) * 1e-6)) }  // add a chirp
        let whole = try AudioDecoder.resampleUnfixed(x, from: from, to: out, block: x.count)
        for block in [1, 7, 1_000, 4_096, 8_192, 65_536] where block != x.count {
            let y = try AudioDecoder.resampleUnfixed(x, from: from, to: out, block: block)
            XCTAssertEqual(y.count, whole.count, "block \(block)")
            XCTAssertTrue(y == whole, "block \(block): output differs from the one-block output")
        }
    }

    func testDecodingAFileEqualsResamplingItsSamples() throws {
        let dir = try TempDir()
        defer { dir.remove() }
        for from in [44_100, 48_000, 16_000] {
            let x = sine(440, rate: from, count: 2 * from + 123)
            let path = dir.path("tone\(from).wav")
            try writeSound(path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), sampleRate: from,
                           channels: 1, samples: .float(x))
            let decoded = try AudioDecoder.decode(path: path, sampleRate: out)
            XCTAssertEqual(decoded.sampleRate, out)
            XCTAssertEqual(decoded.source.sampleRate, from)
            XCTAssertTrue(decoded.samples == (try AudioDecoder.resample(x, from: from, to: out)), "\(from) Hz")
        }
    }

    func testBadRatesThrow() {
        for (from, to) in [(0, 22_050), (44_100, 0), (-1, 22_050), (0, 0)] {
            XCTAssertThrowsError(try AudioDecoder.resample([0, 1, 0], from: from, to: to)) { error in
                let e = error as? AudioError
                XCTAssertEqual(e?.path, "<memory>")
                XCTAssertTrue(e?.reason.contains("positive") ?? false, "\(error)")
            }
        }
    }
}
