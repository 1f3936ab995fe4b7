import CSndFile
import XCTest

@testable import AudioIO

/// Writes synthetic signals with libsndfile in each container/encoding and decodes them back
/// at the file's own rate (no resampling), so the comparison is of the codec path alone.
final class FormatRoundTripTests: XCTestCase {
    var dir: TempDir!
    let rate = 22_050
    let count = 11_025  // 0.5 s

    override func setUpWithError() throws { dir = try TempDir() }
    override func tearDown() { dir.remove() }

    /// A tone plus a second, quieter tone, so that the data is not a single pure sine.
    private func signal() -> [Double] {
        (0..<count).map { n in
            let t = Double(n) / Double(rate)
            return 0.6 * sin(2 * .pi * 440 * t) + 0.2 * sin(2 * .pi * 3_150 * t + 0.3)
        }
    }

    func testReportFormats() {
        let names = majorFormatNames()
        print("libsndfile \(libsndfileVersion()) major formats: \(names.joined(separator: ", "))")
        XCTAssertTrue(names.contains { $0.hasPrefix("WAV") })
        XCTAssertTrue(names.contains { $0.hasPrefix("FLAC") })
    }

    func testWav16BitIsExact() throws {
        try roundTripPCM16(name: "pcm16.wav", format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), formatPrefix: "WAV")
    }

    func testWav24BitIsExact() throws {
        try roundTripPCM24(name: "pcm24.wav", format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_24), formatPrefix: "WAV")
    }

    func testWavFloatIsExactIncludingOutOfRangeValues() throws {
        // Float files come back untouched: no clipping or rescaling, even above 1.
        var x = signal().map { Float($0) }
        x[100] = 1.5
        x[200] = -2.25
        try roundTripExact(name: "float.wav", format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT),
                           samples: .float(x), expected: x, formatPrefix: "WAV")
    }

    func testFlac16And24BitAreExact() throws {
        try roundTripPCM16(name: "pcm16.flac", format: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16), formatPrefix: "FLAC")
        try roundTripPCM24(name: "pcm24.flac", format: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_24), formatPrefix: "FLAC")
    }

    func testAiff16BitIsExact() throws {
        try roundTripPCM16(name: "pcm16.aiff", format: Int32(SF_FORMAT_AIFF | SF_FORMAT_PCM_16), formatPrefix: "AIFF")
    }

    func testAuFloatIsExact() throws {
        let x = signal().map { Float($0) }
        try roundTripExact(name: "float.au", format: Int32(SF_FORMAT_AU | SF_FORMAT_FLOAT),
                           samples: .float(x), expected: x, formatPrefix: "AU")
    }

    func testOggVorbisKeepsTheSignal() throws {
        let format = Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS)
        try XCTSkipUnless(canWrite(format: format, sampleRate: rate, channels: 1),
                          "this libsndfile cannot write Ogg Vorbis")
        let x = signal().map { Float($0) }
        let path = dir.path("vorbis.ogg")
        try writeSound(path, format: format, sampleRate: rate, channels: 1, samples: .float(x))
        let audio = try AudioDecoder.decode(path: path)
        XCTAssertTrue(audio.source.format.hasPrefix("OGG"), audio.source.format)
        XCTAssertEqual(audio.sampleRate, rate)
        // Vorbis in Ogg carries the exact length in its granule positions.
        XCTAssertEqual(audio.samples.count, count)
        // Lossy: compare sample-aligned in the middle; both tones must be there at the right level.
        let mid = 1_000..<(min(count, audio.samples.count) - 1_000)
        var err = 0.0, ref = 0.0
        for n in mid {
            let d = Double(audio.samples[n]) - Double(x[n])
            err += d * d
            ref += Double(x[n]) * Double(x[n])
        }
        let snr = 10 * log10(ref / err)
        print("Ogg Vorbis round trip: SNR \(String(format: "%.1f", snr)) dB over the middle")
        XCTAssertGreaterThan(snr, 25)
        XCTAssertEqual(dftAmplitude(audio.samples, frequency: 440, rate: rate, range: mid), 0.6, accuracy: 0.03)
        XCTAssertEqual(dftAmplitude(audio.samples, frequency: 3_150, rate: rate, range: mid), 0.2, accuracy: 0.02)
    }

    func testMp3KeepsTheTone() throws {
        let format = Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III)
        let mp3Rate = 44_100
        try XCTSkipUnless(canWrite(format: format, sampleRate: mp3Rate, channels: 2),
                          "this libsndfile cannot write MP3 (built without LAME), so MP3 decoding is not tested")
        let n = mp3Rate  // 1 s, stereo, decoded to 22.05 kHz mono
        let left = sine(1_000, rate: mp3Rate, count: n, amplitude: 0.5)
        let right = sine(1_000, rate: mp3Rate, count: n, amplitude: 0.3)
        let path = dir.path("tone.mp3")
        try writeSound(path, format: format, sampleRate: mp3Rate, channels: 2,
                       samples: .float(interleave([left, right])))
        let info = try AudioDecoder.decodeInfo(path: path)
        XCTAssertEqual(info.channels, 2)
        XCTAssertEqual(info.sampleRate, mp3Rate)
        XCTAssertTrue(info.format.hasPrefix("MPEG"), info.format)
        let y = try AudioDecoder.decodeMono(path: path, sampleRate: 22_050)
        print("MP3: header frames \(info.frames) for \(n) written; decoded \(y.count) samples at 22050 Hz")
        // MP3 pads to whole 1152-sample frames; allow two frames of slack either way.
        XCTAssertLessThanOrEqual(abs(info.frames - n), 2 * 1_152)
        XCTAssertEqual(y.count, Int((Double(info.frames) * 0.5).rounded(.up)))
        let mid = 2_000..<(y.count - 2_000)
        XCTAssertEqual(peakFrequency(y, rate: 22_050, range: 5_000..<7_205, step: 25), 1_000)
        // Mean of the channels: (0.5 + 0.3) / 2 = 0.4.
        XCTAssertEqual(dftAmplitude(y, frequency: 1_000, rate: 22_050, range: mid), 0.4, accuracy: 0.02)
    }

    // MARK: helpers

    /// The test signal as 16-bit integers, written and decoded exactly (x / 32768).
    private func roundTripPCM16(name: String, format: Int32, formatPrefix: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let ints = signal().map { Int16(($0 * 32_767).rounded()) }
        try roundTripExact(name: name, format: format, samples: .int16(ints), expected: ints.map { Float($0) / 32_768 },
                           formatPrefix: formatPrefix, file: file, line: line)
    }

    /// The test signal as 24-bit integers (in the high bits of int32), written and decoded exactly (x / 2^23).
    private func roundTripPCM24(name: String, format: Int32, formatPrefix: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let v = signal().map { Int32(($0 * 8_388_607).rounded()) }
        try roundTripExact(name: name, format: format, samples: .int32(v.map { $0 << 8 }),
                           expected: v.map { Float($0) / 8_388_608 }, formatPrefix: formatPrefix, file: file, line: line)
    }

    private func roundTripExact(name: String, format: Int32, samples: Samples, expected: [Float],
                                formatPrefix: String, file: StaticString = #filePath, line: UInt = #line) throws {
        guard canWrite(format: format, sampleRate: rate, channels: 1) else {
            throw XCTSkip("this libsndfile cannot write \(name) (format 0x\(String(format, radix: 16)))")
        }
        let path = dir.path(name)
        try writeSound(path, format: format, sampleRate: rate, channels: 1, samples: samples)

        let info = try AudioDecoder.decodeInfo(path: path)
        XCTAssertEqual(info.sampleRate, rate, file: file, line: line)
        XCTAssertEqual(info.channels, 1, file: file, line: line)
        XCTAssertEqual(info.frames, expected.count, file: file, line: line)
        XCTAssertEqual(info.formatCode, format, file: file, line: line)
        XCTAssertTrue(info.format.hasPrefix(formatPrefix), info.format, file: file, line: line)
        XCTAssertEqual(info.duration, Double(expected.count) / Double(rate), accuracy: 1e-12, file: file, line: line)

        // Same rate requested: no resampler, the samples are libsndfile's normalised floats.
        let y = try AudioDecoder.decodeMono(path: path, sampleRate: rate)
        XCTAssertEqual(y.count, expected.count, file: file, line: line)
        let mismatches = zip(y, expected).enumerated().filter { $0.element.0 != $0.element.1 }
        XCTAssertTrue(mismatches.isEmpty,
                      "\(name): \(mismatches.count) samples differ, first at \(mismatches.first.map { "\($0.offset): \($0.element)" } ?? "")",
                      file: file, line: line)
    }
}

private func libsndfileVersion() -> String {
    var buffer = [CChar](repeating: 0, count: 128)
    sf_command(nil, Int32(SFC_GET_LIB_VERSION), &buffer, Int32(buffer.count))
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
