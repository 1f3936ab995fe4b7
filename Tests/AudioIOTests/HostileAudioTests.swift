import CSndFile
import Foundation
import XCTest

@testable import AudioIO

/// Truncated, corrupt and adversarial files: every decode either succeeds (finite samples, no more than the
/// intact file holds) or throws an `AudioError` naming the file, each within a time bound, never a crash or
/// a hang. The files are written here with libsndfile and then cut, flipped and forged.
final class HostileAudioTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws { dir = try TempDir("HostileAudio") }
    override func tearDown() { dir.remove() }

    /// Generous bound for one decode in a debug build on a loaded machine; the files are at most a few seconds.
    let timeBound = 10.0

    enum Outcome: Equatable { case decoded(Int), refused(String) }

    /// Decodes `path` at 22050 Hz and checks the contract. `maxSamples`: what the intact file would give.
    @discardableResult
    func decodeSafely(_ path: String, limits: DecodeLimits = .standard, maxSamples: Int? = nil,
                      file: StaticString = #filePath, line: UInt = #line) -> Outcome {
        let start = Date()
        let outcome: Outcome
        do {
            let y = try AudioDecoder.decodeMono(path: path, sampleRate: 22_050, limits: limits)
            XCTAssertGreaterThan(y.count, 0, path, file: file, line: line)
            XCTAssertNil(y.firstIndex { !$0.isFinite }, "\(path): non-finite output", file: file, line: line)
            if let maxSamples {
                XCTAssertLessThanOrEqual(y.count, maxSamples, "\(path): more samples than the intact file", file: file, line: line)
            }
            outcome = .decoded(y.count)
        } catch {
            XCTAssertEqual(error.path, path, file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description, file: file, line: line)
            XCTAssertFalse(error.reason.isEmpty, file: file, line: line)
            outcome = .refused(error.reason)
        }
        let seconds = Date().timeIntervalSince(start)
        XCTAssertLessThan(seconds, timeBound, "\(path) took \(seconds) s", file: file, line: line)
        return outcome
    }

    func assertRefused(_ path: String, reasonContains: String, limits: DecodeLimits = .standard,
                       file: StaticString = #filePath, line: UInt = #line) {
        switch decodeSafely(path, limits: limits, file: file, line: line) {
        case .decoded(let n): XCTFail("\(path): decoded \(n) samples instead of refusing", file: file, line: line)
        case .refused(let reason):
            XCTAssertTrue(reason.lowercased().contains(reasonContains.lowercased()),
                          "\(path): reason '\(reason)' lacks '\(reasonContains)'", file: file, line: line)
        }
    }

    // MARK: - Seeds

    struct Seed { let name: String; let format: Int32; let rate: Int; let channels: Int }

    static let seeds: [Seed] = [
        Seed(name: "pcm16.wav", format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), rate: 22_050, channels: 1),
        Seed(name: "float.wav", format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), rate: 44_100, channels: 2),
        Seed(name: "clip.flac", format: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16), rate: 22_050, channels: 1),
        Seed(name: "clip.ogg", format: Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS), rate: 44_100, channels: 2),
        Seed(name: "clip.mp3", format: Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III), rate: 44_100, channels: 1),
        Seed(name: "clip.au", format: Int32(SF_FORMAT_AU | SF_FORMAT_PCM_16), rate: 16_000, channels: 1),
        Seed(name: "clip.aiff", format: Int32(SF_FORMAT_AIFF | SF_FORMAT_PCM_16), rate: 22_050, channels: 2),
    ]

    /// Writes a 1.5-s two-tone seed; returns its path, bytes and decoded length at 22050 Hz (nil if unwritable).
    func writeSeed(_ s: Seed, seconds: Double = 1.5) throws -> (path: String, bytes: Data, samples: Int)? {
        guard canWrite(format: s.format, sampleRate: s.rate, channels: s.channels) else {
            print("libsndfile here cannot write \(s.name); skipped")
            return nil
        }
        let n = Int(seconds * Double(s.rate))
        let chans = (0..<s.channels).map { c in
            zip(sine(220 * Double(c + 1), rate: s.rate, count: n, amplitude: 0.4),
                sine(3_100, rate: s.rate, count: n, amplitude: 0.05)).map { $0 + $1 }
        }
        let path = dir.path("seed-" + s.name)
        try writeSound(path, format: s.format, sampleRate: s.rate, channels: s.channels, samples: .float(interleave(chans)))
        let full = try AudioDecoder.decodeMono(path: path, sampleRate: 22_050)
        return (path, try Data(contentsOf: URL(fileURLWithPath: path)), full.count)
    }

    func write(_ bytes: Data, _ name: String) throws -> String {
        let path = dir.path(name)
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Deterministic xorshift32 stream.
    struct Rng {
        var state: UInt32
        mutating func next() -> UInt32 { state ^= state << 13; state ^= state >> 17; state ^= state << 5; return state }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt32(max(1, n))) }
    }

    // MARK: - Truncation and corruption of every format

    func testTruncatedFilesOfEveryFormat() throws {
        var decoded = 0, refused = 0
        for s in Self.seeds {
            guard let seed = try writeSeed(s) else { continue }
            let n = seed.bytes.count
            let ext = (s.name as NSString).pathExtension
            for cut in Set([1, 4, 8, 12, 20, 36, 44, 60, 100, 200, n / 4, n / 2, 3 * n / 4, n - 7, n - 1]) where cut < n {
                let path = try write(seed.bytes.prefix(cut), "cut\(cut)-\(s.name.replacingOccurrences(of: ".", with: "-")).\(ext)")
                switch decodeSafely(path, maxSamples: seed.samples + 64) {
                case .decoded: decoded += 1
                case .refused: refused += 1
                }
            }
        }
        print("truncated files: \(decoded) decoded (a prefix), \(refused) refused with the file named")
        XCTAssertGreaterThan(refused, 0)
        XCTAssertGreaterThan(decoded, 0)
    }

    func testFlippedBytesInEveryFormat() throws {
        var rng = Rng(state: 0x9E37_79B9)
        var decoded = 0, refused = 0
        for s in Self.seeds {
            guard let seed = try writeSeed(s) else { continue }
            let ext = (s.name as NSString).pathExtension
            for variant in 0..<12 {
                var bytes = [UInt8](seed.bytes)
                // Half the variants hit the header region, half anywhere; 1 to 16 bytes each.
                let region = variant % 2 == 0 ? min(bytes.count, 128) : bytes.count
                for _ in 0..<(1 + rng.below(16)) {
                    bytes[rng.below(region)] ^= UInt8(truncatingIfNeeded: 1 + rng.below(255))
                }
                let path = try write(Data(bytes), "flip\(variant)-\(s.name.replacingOccurrences(of: ".", with: "-")).\(ext)")
                switch decodeSafely(path, maxSamples: nil) {
                case .decoded: decoded += 1
                case .refused: refused += 1
                }
            }
        }
        print("byte-flipped files: \(decoded) decoded, \(refused) refused with the file named")
        XCTAssertGreaterThan(decoded + refused, 0)
    }

    // MARK: - Forged headers

    /// A PCM WAV written byte by byte, with every header field under the test's control.
    func forgedWAV(rate: UInt32 = 22_050, channels: UInt16 = 1, bits: UInt16 = 16, formatTag: UInt16 = 1,
                   frames: Int = 22_050, blockAlign: UInt16? = nil, fmtSize: UInt32 = 16,
                   dataSize: UInt32? = nil, riffSize: UInt32? = nil) -> Data {
        func le32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        func le16(_ v: UInt16) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        let align = blockAlign ?? UInt16(truncatingIfNeeded: Int(channels) * Int(bits) / 8)
        var data = [UInt8]()
        let bytesPerFrame = max(1, Int(channels) * max(8, Int(bits)) / 8)
        data.reserveCapacity(frames * bytesPerFrame)
        let tone = sine(440, rate: 22_050, count: frames, amplitude: 0.3)
        for i in 0..<frames {
            let v = Int16(tone[i] * 32_767)
            for _ in 0..<(bytesPerFrame / 2) { data += le16(UInt16(bitPattern: v)) }
            if bytesPerFrame % 2 == 1 { data.append(0) }
        }
        var fmt = le16(formatTag) + le16(channels) + le32(rate)
        fmt += le32(rate &* UInt32(align)) + le16(align) + le16(bits)
        var body = Array("WAVE".utf8) + Array("fmt ".utf8) + le32(fmtSize) + fmt
        body += Array("data".utf8) + le32(dataSize ?? UInt32(data.count)) + data
        return Data(Array("RIFF".utf8) + le32(riffSize ?? UInt32(body.count)) + body)
    }

    func testForgedWAVHeaders() throws {
        // Rates and channel counts outside the accepted ranges are refused, by libsndfile or by our limits.
        for (rate, name) in [(0 as UInt32, "rate0"), (1, "rate1"), (999, "rate999"), (1_000_000_000, "rate1G"), (UInt32.max, "rateMax")] {
            let path = try write(forgedWAV(rate: rate), name + ".wav")
            switch decodeSafely(path) {
            case .decoded(let n): XCTFail("\(name): decoded \(n) samples at a rate of \(rate) Hz")
            case .refused(let reason): print("\(name): \(reason)")
            }
        }
        assertRefused(try write(forgedWAV(channels: 0, frames: 100), "ch0.wav"), reasonContains: "channel")
        assertRefused(try write(forgedWAV(channels: 2_000, frames: 10), "ch2000.wav"), reasonContains: "channel")
        // 1000 channels is within libsndfile's range and ours: decoded, or refused, never a crash.
        decodeSafely(try write(forgedWAV(channels: 1_000, frames: 300), "ch1000.wav"))
        assertRefused(try write(forgedWAV(channels: 1_000, frames: 300), "ch1000-limited.wav"), reasonContains: "channels",
                      limits: DecodeLimits(maxChannels: 64))

        // Sizes that lie: libsndfile must not be believed beyond the file, and we must not allocate for the claim.
        let intact = 22_050
        for (name, wav) in [
            ("data-huge", forgedWAV(dataSize: UInt32.max)), ("data-huge-odd", forgedWAV(dataSize: UInt32.max - 1)),
            ("data-zero", forgedWAV(dataSize: 0)), ("data-short", forgedWAV(dataSize: 1_000)),
            ("riff-huge", forgedWAV(riffSize: UInt32.max)), ("riff-zero", forgedWAV(riffSize: 0)),
            ("fmt-huge", forgedWAV(fmtSize: 0xFFFF_FFF0)), ("fmt-2", forgedWAV(fmtSize: 2)), ("fmt-100", forgedWAV(fmtSize: 100)),
            ("bits0", forgedWAV(bits: 0)), ("bits7", forgedWAV(bits: 7)), ("bits64", forgedWAV(bits: 64)),
            ("bits1000", forgedWAV(bits: 1_000)), ("align0", forgedWAV(blockAlign: 0)), ("align-huge", forgedWAV(blockAlign: 0xFFFF)),
            ("tag-mp3", forgedWAV(formatTag: 0x55)), ("tag-extensible", forgedWAV(formatTag: 0xFFFE)), ("tag-ffff", forgedWAV(formatTag: 0xFFFF)),
        ] {
            let outcome = decodeSafely(try write(wav, name + ".wav"), maxSamples: 8 * intact)
            print("\(name): \(outcome)")
        }
    }

    /// FLAC's STREAMINFO carries a 36-bit total-sample count and a 20-bit rate: a count of 2^36 - 1 used to size
    /// the output buffer (an abort: "failed to allocate 256 GB"); a 1 Hz rate hung the resampler (22050x).
    func testForgedFLACStreamInfo() throws {
        for rate in [22_050, 8_000] {  // 8 kHz: a resampling ratio above 1 multiplies the claimed count
            let samples = sine(440, rate: rate, count: rate, amplitude: 0.4).map { Int16($0 * 32_767) }
            let path = dir.path("ok-\(rate).flac")
            try writeSound(path, format: Int32(SF_FORMAT_FLAC | SF_FORMAT_PCM_16), sampleRate: rate, channels: 1,
                           samples: .int16(samples))
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            XCTAssertEqual(Array(bytes[0..<4]), Array("fLaC".utf8))
            // STREAMINFO body starts at 8; bytes 18..<26: rate(20) channels-1(3) bps-1(5) total samples(36).
            func field() -> UInt64 { bytes[18..<26].reduce(0) { $0 << 8 | UInt64($1) } }
            func setField(_ v: UInt64) { for i in 0..<8 { bytes[18 + i] = UInt8(truncatingIfNeeded: v >> (56 - 8 * i)) } }
            let original = field()
            XCTAssertEqual(original & ((1 << 36) - 1), UInt64(rate), "total samples as written")

            setField(original | ((1 << 36) - 1))
            let huge = try write(Data(bytes), "frames-2^36-\(rate).flac")
            let info = try AudioDecoder.decodeInfo(path: huge)
            XCTAssertEqual(info.frames, (1 << 36) - 1, "libsndfile reports the forged count")
            let expected = librosaResampledLength(rate, from: rate, to: 22_050)
            XCTAssertEqual(decodeSafely(huge), .decoded(expected), "the real audio, not the claim")

            setField(original & ~(UInt64(0xFFFFF) << 44) | (1 << 44))  // rate 1 Hz
            assertRefused(try write(Data(bytes), "rate1-\(rate).flac"), reasonContains: "sample rate of 1 Hz")
            setField(original & ~(UInt64(0xFFFFF) << 44))  // rate 0 Hz: invalid FLAC
            decodeSafely(try write(Data(bytes), "rate0-\(rate).flac"))
        }
    }

    func testForgedAUHeaders() throws {
        // .snd, data offset, data size, encoding, rate, channels (big-endian), then 16-bit PCM.
        func au(rate: UInt32 = 16_000, channels: UInt32 = 1, encoding: UInt32 = 3, size: UInt32? = nil, frames: Int = 16_000) -> Data {
            func be32(_ v: UInt32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }
            let pcm = sine(300, rate: 16_000, count: frames * Int(min(channels, 4)), amplitude: 0.3)
                .flatMap { v -> [UInt8] in let q = UInt16(bitPattern: Int16(v * 32_767)); return [UInt8(q >> 8), UInt8(q & 0xFF)] }
            return Data(Array(".snd".utf8) + be32(24) + be32(size ?? UInt32(pcm.count)) + be32(encoding) + be32(rate) + be32(channels) + pcm)
        }
        XCTAssertEqual(decodeSafely(try write(au(), "ok.au")), .decoded(22_050))
        assertRefused(try write(au(rate: 1_000_000_000), "rate1G.au"), reasonContains: "sample rate")
        assertRefused(try write(au(rate: 1), "rate1.au"), reasonContains: "sample rate")
        for (name, data) in [("rate0", au(rate: 0)), ("ch0", au(channels: 0)), ("ch1000", au(channels: 1_000)),
                             ("ch-max", au(channels: UInt32.max)), ("size-huge", au(size: 0xFFFF_FFFE)),
                             ("size-zero", au(size: 0)), ("enc99", au(encoding: 99)), ("enc0", au(encoding: 0))] {
            print("\(name).au: \(decodeSafely(try write(data, name + ".au"), maxSamples: 22_050 * 4))")
        }
    }

    /// MP3: a stream of frame headers over random payloads, pure noise, an ID3 tag with nothing after it.
    func testGarbageMP3() throws {
        var rng = Rng(state: 12_345)
        var frames = [UInt8]()
        for _ in 0..<300 {
            frames += [0xFF, 0xFB, 0x90, 0x64]  // MPEG-1 layer III, 128 kbit/s, 44.1 kHz
            frames += (0..<413).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        }
        print("garbage frames: \(decodeSafely(try write(Data(frames), "garbage-frames.mp3"), maxSamples: 300 * 1_152))")
        let noise = (0..<50_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        print("noise: \(decodeSafely(try write(Data(noise), "noise.mp3")))")
        let id3 = Array("ID3".utf8) + [4, 0, 0, 0x7F, 0x7F, 0x7F, 0x7F] + [UInt8](repeating: 0, count: 1_000)
        print("lone ID3 tag: \(decodeSafely(try write(Data(id3), "id3.mp3")))")
        // A real MP3 whose frames are then filled with garbage after the first few.
        if let seed = try writeSeed(Self.seeds.first { $0.name == "clip.mp3" }!) {
            var bytes = [UInt8](seed.bytes)
            for i in stride(from: bytes.count / 5, to: bytes.count, by: 1) { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
            print("mp3 with garbage tail: \(decodeSafely(try write(Data(bytes), "tail.mp3")))")
        }
    }

    // MARK: - Limits

    func testDurationLimitStopsTheDecode() throws {
        let path = dir.path("1.5s.wav")
        try writeSound(path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_PCM_16), sampleRate: 22_050, channels: 1,
                       samples: .int16([Int16](repeating: 1_000, count: 33_075)))
        assertRefused(path, reasonContains: "decode limit", limits: DecodeLimits(maxSeconds: 1))
        XCTAssertEqual(decodeSafely(path, limits: DecodeLimits(maxSeconds: 1.5)), .decoded(33_075), "exactly at the limit")
        assertRefused(path, reasonContains: "limit", limits: DecodeLimits(maxWallSeconds: 0))
        assertRefused(path, reasonContains: "sample rate", limits: DecodeLimits(sampleRates: 44_100...48_000))
    }

    func testNonFiniteSamplesAreRefused() throws {
        for (name, bad) in [("nan", Float.nan), ("inf", Float.infinity), ("-inf", -Float.infinity)] {
            var x = sine(440, rate: 22_050, count: 20_000, amplitude: 0.3)
            x[12_345] = bad
            let path = dir.path("\(name).wav")
            try writeSound(path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), sampleRate: 22_050, channels: 1, samples: .float(x))
            assertRefused(path, reasonContains: "frame 12345 holds a non-finite sample")
        }
    }

    /// Many channels read in smaller blocks (at most 2^18 floats per block) give the same mean as ever.
    func testThousandChannelsGiveTheirMean() throws {
        let channels = 1_000, frames = 700
        XCTAssertLessThan(AudioDecoder.blockFrames(channels: channels), frames, "several blocks")
        var rng = Rng(state: 77)
        let x = (0..<(channels * frames)).map { _ in Float(rng.below(2_001) - 1_000) / 2_000 }
        let path = dir.path("ch1000.wav")
        try writeSound(path, format: Int32(SF_FORMAT_WAV | SF_FORMAT_FLOAT), sampleRate: 22_050, channels: channels, samples: .float(x))
        let y = try AudioDecoder.decodeMono(path: path, sampleRate: 22_050)
        let expected = (0..<frames).map { f -> Float in
            var s: Float = 0
            for c in 0..<channels { s += x[f * channels + c] }
            return s / Float(channels)
        }
        XCTAssertEqual(y, expected)
    }
}
