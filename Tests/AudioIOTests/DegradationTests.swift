import Foundation
import XCTest

@testable import AudioIO

/// Each out-of-pool degradation measured on synthetic signals made here (docs/out-of-pool.md).
final class DegradationTests: XCTestCase {
    let rate = 22_050

    func tone(_ f: Double, seconds: Double = 1, amplitude: Double = 0.5) -> [Float] {
        (0..<Int(seconds * Double(rate))).map { Float(amplitude * sin(2 * .pi * f * Double($0) / Double(22_050))) }
    }

    /// RMS over the middle of the signal (filter and resampler transients left out).
    func rms(_ x: [Float]) -> Double {
        let a = x.count / 4, b = 3 * x.count / 4
        return (x[a..<b].reduce(0.0) { $0 + Double($1) * Double($1) } / Double(b - a)).squareRoot()
    }

    func db(_ y: [Float], _ x: [Float]) -> Double { 20 * log10(rms(y) / rms(x)) }

    func testGainIsMinus20dB() throws {
        let x = tone(440) + tone(1234, amplitude: 0.2)
        let y = try Degradation.gain(dB: -20).apply(x, sampleRate: rate)
        XCTAssertEqual(y.count, x.count)
        XCTAssertEqual(db(y, x), -20, accuracy: 1e-4)
        XCTAssertEqual(Degradation.gain(dB: -20).description, "gain-20db")
    }

    func testNoiseHasTheRequestedSNRAndIsSeeded() throws {
        let x = tone(440, seconds: 3)
        let d = Degradation.noise(snrDB: 20)
        let y = try d.apply(x, sampleRate: rate, seed: 11)
        let noise = zip(y, x).map { $0 - $1 }
        let ps = x.reduce(0.0) { $0 + Double($1) * Double($1) }, pn = noise.reduce(0.0) { $0 + Double($1) * Double($1) }
        XCTAssertEqual(10 * log10(ps / pn), 20, accuracy: 0.5)
        // White: no strong correlation between neighbours, mean near 0.
        let mean = noise.reduce(0.0) { $0 + Double($1) } / Double(noise.count)
        XCTAssertLessThan(abs(mean), 0.02 * (pn / Double(noise.count)).squareRoot(), "mean within 5 standard errors of 0")
        var lag = 0.0
        for i in 1..<noise.count { lag += Double(noise[i]) * Double(noise[i - 1]) }
        XCTAssertLessThan(abs(lag / pn), 0.05)
        XCTAssertEqual(try d.apply(x, sampleRate: rate, seed: 11), y, "same seed, same noise")
        XCTAssertNotEqual(try d.apply(x, sampleRate: rate, seed: 12), y, "another seed, other noise")
    }

    func testBandPassKeeps1kHzAndCutsBelowAndAbove() throws {
        let d = Degradation.bandPass(low: 300, high: 3400)
        let pass = db(try d.apply(tone(1000), sampleRate: rate), tone(1000))
        let low = db(try d.apply(tone(100), sampleRate: rate), tone(100))
        let high = db(try d.apply(tone(6000), sampleRate: rate), tone(6000))
        XCTAssertEqual(pass, 0, accuracy: 0.5)
        // 4th-order Butterworth: about -38 dB at 100 Hz (1.6 octaves below 300), about -20 dB at 6 kHz.
        XCTAssertLessThan(low, -30)
        XCTAssertLessThan(high, -15)
        // -3 dB at the corners.
        XCTAssertEqual(db(try d.apply(tone(300), sampleRate: rate), tone(300)), -3, accuracy: 1)
    }

    func testResampleThroughLimitsTheBandAndKeepsLength() throws {
        for (r, cut) in [(16_000, 8_000.0), (8_000, 4_000.0)] {
            let d = Degradation.resampleThrough(rate: r)
            let inBand = tone(cut * 0.4), outOfBand = tone(min(10_000, cut * 1.2))
            let a = try d.apply(inBand, sampleRate: rate), b = try d.apply(outOfBand, sampleRate: rate)
            XCTAssertEqual(a.count, inBand.count)
            XCTAssertEqual(db(a, inBand), 0, accuracy: 0.2, "\(r): a tone well inside the band passes")
            XCTAssertLessThan(db(b, outOfBand), -60, "\(r): a tone above \(cut) Hz is removed")
        }
        XCTAssertEqual(Degradation.resampleThrough(rate: 16_000).description, "resample-16k")
    }

    func testSpeedChangesLengthAndPitchByTheRatio() throws {
        let x = tone(1000, seconds: 2)
        for p in [3.0, -3.0] {
            let y = try Degradation.speed(percent: p).apply(x, sampleRate: rate)
            let expected = Double(x.count) / (1 + p / 100)
            XCTAssertEqual(Double(y.count), expected, accuracy: 1.0)
            // Pitch: zero crossings per second scale by 1 + p/100.
            func crossings(_ s: [Float]) -> Double {
                var n = 0
                for i in (s.count / 4 + 1)..<(3 * s.count / 4) where (s[i - 1] < 0) != (s[i] < 0) { n += 1 }
                return Double(n) / (Double(s.count / 2) / Double(rate)) / 2
            }
            XCTAssertEqual(crossings(y), 1000 * (1 + p / 100), accuracy: 3)
        }
        XCTAssertEqual(Degradation.speed(percent: 3).description, "speed+3%")
        XCTAssertEqual(Degradation.speed(percent: -3).description, "speed-3%")
    }

    func testOggVorbisRoundTripKeepsTheToneAndChangesTheSamples() throws {
        let x = (0..<rate * 2).map { i -> Float in
            let t = Double(i) / Double(rate)
            return Float(0.4 * sin(2 * .pi * 440 * t) + 0.1 * sin(2 * .pi * 2_500 * t))
        }
        let y = try Degradation.oggVorbis(quality: 0.3).apply(x, sampleRate: rate)
        XCTAssertEqual(y.count, x.count)
        XCTAssertEqual(db(y, x), 0, accuracy: 1)
        XCTAssertNotEqual(y, x, "lossy: not bit-identical")
    }

    func testMP3WhereLibsndfileCanWriteIt() throws {
        try XCTSkipUnless(Degradation.canWriteMP3(sampleRate: rate), "this libsndfile build cannot write MP3")
        let x = tone(440, seconds: 2, amplitude: 0.4)
        let y = try Degradation.mp3(quality: 0.5).apply(x, sampleRate: rate)
        XCTAssertEqual(y.count, x.count)
        XCTAssertEqual(db(y, x), 0, accuracy: 1)
        XCTAssertTrue(Degradation.standard.contains(.mp3(quality: 0.5)))
    }

    func testStandardSetIsDeterministic() throws {
        let x = tone(440, seconds: 1) + tone(2000, seconds: 1, amplitude: 0.1)
        for d in Degradation.standard {
            XCTAssertEqual(try d.apply(x, sampleRate: rate, seed: 5), try d.apply(x, sampleRate: rate, seed: 5), d.description)
        }
        XCTAssertEqual(Set(Degradation.standard.map(\.description)).count, Degradation.standard.count, "names are unique")
    }
}
