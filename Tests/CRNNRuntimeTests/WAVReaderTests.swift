import Foundation
import XCTest
@testable import CRNNRuntime

/// Writes WAV bytes field by field, independently of the reader: every format the reader accepts, and the
/// broken variants it must reject.
struct WAVBuilder {
    var bigEndian = false
    var formatTag: UInt16 = 1
    var channels: UInt16 = 1
    var sampleRate: UInt32 = 22050
    var bitsPerSample: UInt16 = 16
    /// WAVE_FORMAT_EXTENSIBLE sub-format tag (1 PCM, 3 float); nil: a plain fmt chunk.
    var extensibleSubFormat: UInt16? = nil
    var validBits: UInt16? = nil
    var blockAlignOverride: UInt16? = nil
    var byteRateOverride: UInt32? = nil
    var data: [UInt8] = []
    var dataSizeOverride: UInt32? = nil
    var riffSizeOverride: UInt32? = nil
    /// Extra chunks (id, body) before fmt, between fmt and data, after data.
    var before: [(String, [UInt8])] = [], between: [(String, [UInt8])] = [], after: [(String, [UInt8])] = []
    var dataFirst = false
    var omitFormat = false, omitData = false
    var magic = "RIFF"

    func u16(_ v: UInt16) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 255)] : [UInt8(v & 255), UInt8(v >> 8)] }
    func u32(_ v: UInt32) -> [UInt8] {
        let le = [UInt8(v & 255), UInt8((v >> 8) & 255), UInt8((v >> 16) & 255), UInt8(v >> 24)]
        return bigEndian ? le.reversed() : le
    }
    func chunk(_ id: String, _ body: [UInt8], size: UInt32? = nil) -> [UInt8] {
        Array(id.utf8) + u32(size ?? UInt32(body.count)) + body + (body.count % 2 == 1 ? [0] : [])
    }

    var blockAlign: UInt16 { blockAlignOverride ?? channels * bitsPerSample / 8 }

    func formatBody() -> [UInt8] {
        var b = u16(extensibleSubFormat == nil ? formatTag : 0xFFFE) + u16(channels) + u32(sampleRate)
            + u32(byteRateOverride ?? sampleRate * UInt32(blockAlign)) + u16(blockAlign) + u16(bitsPerSample)
        if let sub = extensibleSubFormat {
            b += u16(22) + u16(validBits ?? bitsPerSample) + u32(channels == 2 ? 3 : 4)
            // GUID {0000ssss-0000-0010-8000-00AA00389B71}: Data1..3 in the file's byte order, Data4 as bytes.
            b += u32(UInt32(sub)) + u16(0) + u16(0x0010) + [0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        }
        return b
    }

    func bytes() -> [UInt8] {
        var body: [UInt8] = Array("WAVE".utf8)
        for (id, b) in before { body += chunk(id, b) }
        let fmt = omitFormat ? [] : chunk("fmt ", formatBody())
        let dat = omitData ? [] : chunk("data", data, size: dataSizeOverride)
        body += dataFirst ? dat : fmt
        for (id, b) in between { body += chunk(id, b) }
        body += dataFirst ? fmt : dat
        for (id, b) in after { body += chunk(id, b) }
        return Array(magic.utf8) + u32(riffSizeOverride ?? UInt32(body.count)) + body
    }
}

/// Parses `bytes` (copied) and decodes every frame; returns the samples or the error's message.
func decodeWAV(_ bytes: [UInt8]) -> (samples: [Int16], wav: (rate: Int32, channels: Int, frames: Int)?, error: String?) {
    bytes.withUnsafeBytes { raw in
        do throws(WAVError) {
            let wav = try WAVFile(bytes: raw)
            var out = [Int16](repeating: 0x5555, count: wav.frameCount)
            let n = out.withUnsafeMutableBufferPointer { wav.readMono(from: 0, into: $0) }
            precondition(n == wav.frameCount)
            return (out, (wav.sampleRate, wav.channels, wav.frameCount), nil)
        } catch {
            return ([], nil, "\(error.message)")
        }
    }
}

/// round(x * 32768) with ties toward +infinity, saturated: the reference conversion, in Double.
func referenceInt16(_ x: Double) -> Int16 {
    if x.isNaN { return 0 }
    let r = (x * 32768 + 0.5).rounded(.down)
    return Int16(max(-32768, min(32767, r)))
}

final class WAVReaderTests: XCTestCase {
    var rng = SplitMix64(seed: 7)

    func pcm16Bytes(_ v: [Int16], bigEndian: Bool) -> [UInt8] {
        v.flatMap { s -> [UInt8] in
            let u = UInt16(bitPattern: s)
            return bigEndian ? [UInt8(u >> 8), UInt8(u & 255)] : [UInt8(u & 255), UInt8(u >> 8)]
        }
    }

    func testPCM16MonoBothByteOrdersIsIdentity() {
        var v: [Int16] = [0, 1, -1, 32767, -32768, 12345, -12345]
        for _ in 0..<500 { v.append(Int16(truncatingIfNeeded: rng.next())) }
        for big in [false, true] {
            var b = WAVBuilder(bigEndian: big)
            b.magic = big ? "RIFX" : "RIFF"
            b.data = pcm16Bytes(v, bigEndian: big)
            let r = decodeWAV(b.bytes())
            XCTAssertNil(r.error)
            XCTAssertEqual(r.samples, v, "big-endian: \(big)")
            XCTAssertEqual(r.wav?.rate, 22050)
        }
    }

    func testPCM8IsUnsignedOffsetBinary() {
        var b = WAVBuilder(bitsPerSample: 8)
        b.data = [0, 1, 127, 128, 129, 255, 64]
        XCTAssertEqual(decodeWAV(b.bytes()).samples, [-32768, -32512, -256, 0, 256, 32512, -16384])
    }

    func testPCM24And32RoundOnceWithTiesUpAndSaturate() {
        for big in [false, true] {
            // 24-bit: full scale 2^23; the int16 result is round(v / 256).
            var v24: [Int32] = [0, 127, 128, -128, -129, 384, -384, 8_388_607, -8_388_608, 8_388_480, 255, -255]
            for _ in 0..<1000 { v24.append(Int32(truncatingIfNeeded: rng.next()) >> 8) }
            var b = WAVBuilder(bigEndian: big, bitsPerSample: 24)
            b.magic = big ? "RIFX" : "RIFF"
            b.data = v24.flatMap { s -> [UInt8] in
                let u = UInt32(bitPattern: s)
                let le = [UInt8(u & 255), UInt8((u >> 8) & 255), UInt8((u >> 16) & 255)]
                return big ? le.reversed() : le
            }
            XCTAssertEqual(decodeWAV(b.bytes()).samples, v24.map { referenceInt16(Double($0) / 8_388_608) })

            var v32: [Int32] = [0, 32767, 32768, -32768, -32769, Int32.max, Int32.min, 98304, -98304]
            for _ in 0..<1000 { v32.append(Int32(truncatingIfNeeded: rng.next())) }
            var c = WAVBuilder(bigEndian: big, bitsPerSample: 32)
            c.magic = big ? "RIFX" : "RIFF"
            c.data = v32.flatMap { s -> [UInt8] in
                let u = UInt32(bitPattern: s)
                let le = [UInt8(u & 255), UInt8((u >> 8) & 255), UInt8((u >> 16) & 255), UInt8(u >> 24)]
                return big ? le.reversed() : le
            }
            XCTAssertEqual(decodeWAV(c.bytes()).samples, v32.map { referenceInt16(Double($0) / 2_147_483_648) })
        }
        // Spot values: ties go toward +infinity, once.
        var b = WAVBuilder(bitsPerSample: 24)
        b.data = [128, 0, 0, 128, 255, 255]  // 128 -> 0.5 -> 1; -128 -> -0.5 -> 0
        XCTAssertEqual(decodeWAV(b.bytes()).samples, [1, 0])
    }

    func testFloat32FromBitPatternMatchesDoubleReference() {
        var values: [Float] = [0, -0.0, 1, -1, 0.5, -0.5, 0.999, -0.999, 2, -2, 1e30, -1e30, .infinity, -.infinity,
                               .nan, Float.leastNonzeroMagnitude, -Float.leastNormalMagnitude, 1e-9,
                               Float(0.5 / 32768), Float(-0.5 / 32768), Float(1.5 / 32768), Float(-1.5 / 32768),
                               Float(32767.5 / 32768), Float(-32768.5 / 32768), 1.0000001, Float(2.0).nextDown]
        // Every magnitude: random exponent fields 0...255, random mantissas and signs.
        for _ in 0..<20000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        for e in 90...130 {  // dense around the int16 resolution and full scale
            for _ in 0..<200 {
                let bits = UInt32(e) << 23 | UInt32(truncatingIfNeeded: rng.next()) & 0x807F_FFFF
                values.append(Float(bitPattern: bits))
            }
        }
        for big in [false, true] {
            var b = WAVBuilder(bigEndian: big, formatTag: 3, bitsPerSample: 32)
            b.magic = big ? "RIFX" : "RIFF"
            b.data = values.flatMap { f -> [UInt8] in
                let u = f.bitPattern
                let le = [UInt8(u & 255), UInt8((u >> 8) & 255), UInt8((u >> 16) & 255), UInt8(u >> 24)]
                return big ? le.reversed() : le
            }
            let got = decodeWAV(b.bytes())
            XCTAssertNil(got.error)
            let want = values.map { referenceInt16(Double($0)) }
            let mismatches = zip(got.samples, want).enumerated().filter { $0.element.0 != $0.element.1 }
            XCTAssertTrue(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(5).map { (values[$0.offset], $0.element) })")
        }
        XCTAssertEqual(floatBitsToQ40(Float(0.5).bitPattern), 1 << 39)
        XCTAssertEqual(floatBitsToQ40(Float(-1).bitPattern), -(1 << 40))
        XCTAssertEqual(floatBitsToQ40(Float.nan.bitPattern), 0)
        XCTAssertEqual(floatBitsToQ40(Float.infinity.bitPattern), 1 << 41)
    }

    func testExtensiblePCMAndFloatAndUnknownSubFormat() {
        var b = WAVBuilder(channels: 2, bitsPerSample: 16, extensibleSubFormat: 1)
        b.data = pcm16Bytes([100, 200, -7, -8], bigEndian: false)
        XCTAssertEqual(decodeWAV(b.bytes()).samples, [150, -7])  // -7.5 rounds toward +infinity
        var f = WAVBuilder(bitsPerSample: 32, extensibleSubFormat: 3)
        f.data = [Float(0.25), -0.75].flatMap { x -> [UInt8] in
            let u = x.bitPattern
            return [UInt8(u & 255), UInt8((u >> 8) & 255), UInt8((u >> 16) & 255), UInt8(u >> 24)]
        }
        XCTAssertEqual(decodeWAV(f.bytes()).samples, [8192, -24576])
        var rifx = WAVBuilder(bigEndian: true, bitsPerSample: 24, extensibleSubFormat: 1, validBits: 20)
        rifx.magic = "RIFX"
        rifx.data = [0x12, 0x34, 0x50]  // 20 valid bits, left-justified in 24
        XCTAssertEqual(decodeWAV(rifx.bytes()).samples, [referenceInt16(Double(0x123450) / 8_388_608)])
        var alaw = WAVBuilder(bitsPerSample: 16, extensibleSubFormat: 6)
        alaw.data = [0, 0]
        XCTAssertEqual(decodeWAV(alaw.bytes()).error, "\(WAVError.unsupportedSubFormat.message)")
        var tooValid = WAVBuilder(bitsPerSample: 16, extensibleSubFormat: 1, validBits: 17)
        tooValid.data = [0, 0]
        XCTAssertNotNil(decodeWAV(tooValid.bytes()).error)
        // A GUID with the right first field but a wrong tail is not PCM.
        var g = WAVBuilder(bitsPerSample: 16, extensibleSubFormat: 1)
        g.data = [0, 0]
        var bytes = g.bytes()
        let guidTail = 12 + 8 + 24 + 8  // RIFF header, fmt header, 24 bytes before the GUID, its Data1..3
        bytes[guidTail] ^= 0x01
        XCTAssertEqual(decodeWAV(bytes).error, "\(WAVError.unsupportedSubFormat.message)")
    }

    func testDownmixIsTheRoundedIntegerMeanOfAnyChannelCount() {
        for channels in [2, 3, 4, 5, 6, 8] {
            var frames: [[Int16]] = []
            for _ in 0..<300 { frames.append((0..<channels).map { _ in Int16(truncatingIfNeeded: rng.next()) }) }
            frames.append([Int16](repeating: 32767, count: channels))
            frames.append([Int16](repeating: -32768, count: channels))
            var b = WAVBuilder(channels: UInt16(channels))
            b.data = pcm16Bytes(frames.flatMap { $0 }, bigEndian: false)
            let want = frames.map { f -> Int16 in
                // Exact rational rounding: floor((2 * sum + c) / (2 * c)).
                let s = f.reduce(0) { $0 + Int($1) }
                let num = 2 * s + channels, den = 2 * channels
                return Int16((num - ((num % den) + den) % den) / den)
            }
            let got = decodeWAV(b.bytes())
            XCTAssertEqual(got.samples, want, "channels \(channels)")
            XCTAssertEqual(got.wav?.channels, channels)
        }
        // 24-bit stereo: averaged at full precision, rounded once (not per channel first).
        var b = WAVBuilder(channels: 2, bitsPerSample: 24)
        b.data = [64, 0, 0, 64, 0, 0]  // 64 + 64 -> mean 64 -> 0.25 LSB -> 0 ... and:
        b.data += [192, 0, 0, 0, 0, 0]  // (192 + 0) / 2 = 96 -> 0.375 LSB -> 0; per-channel first would give 1
        b.data += [128, 0, 0, 128, 0, 0]  // 128 -> 0.5 -> 1
        XCTAssertEqual(decodeWAV(b.bytes()).samples, [0, 0, 1])
    }

    func testOddChunksPadBytesAndForeignChunksAreSkipped() {
        var b = WAVBuilder()
        b.before = [("LIST", [1, 2, 3])]  // odd: one pad byte follows
        b.between = [("fact", [4, 0, 0, 0]), ("junk", [9])]
        b.after = [("id3 ", [1, 2, 3, 4, 5])]  // odd and last: pad byte present
        b.data = pcm16Bytes([1, 2, 3], bigEndian: false)
        XCTAssertEqual(decodeWAV(b.bytes()).samples, [1, 2, 3])
        // An odd data chunk of 8-bit samples, last in the file, with and without its pad byte.
        var c = WAVBuilder(bitsPerSample: 8)
        c.data = [128, 129, 130]
        let padded = c.bytes()
        XCTAssertEqual(decodeWAV(padded).samples, [0, 256, 512])
        var unpadded = Array(padded.dropLast())
        let riff = UInt32(unpadded.count - 8)
        unpadded.replaceSubrange(4..<8, with: [UInt8(riff & 255), UInt8(riff >> 8), 0, 0])
        XCTAssertEqual(decodeWAV(unpadded).samples, [0, 256, 512], "a missing pad byte at the very end is accepted")
        // A missing pad byte in the middle shifts the next chunk header: rejected, not misread.
        var m = WAVBuilder()
        m.data = pcm16Bytes([5, 6], bigEndian: false)
        var bytes = m.bytes()
        // Insert an odd LIST chunk without its pad before fmt.
        let list: [UInt8] = Array("LIST".utf8) + [3, 0, 0, 0, 1, 2, 3]
        bytes.insert(contentsOf: list, at: 12)
        let r = UInt32(bytes.count - 8)
        bytes.replaceSubrange(4..<8, with: [UInt8(r & 255), UInt8((r >> 8) & 255), 0, 0])
        XCTAssertNotNil(decodeWAV(bytes).error)
        // Bytes after the RIFF form (e.g. appended tags) are ignored.
        XCTAssertEqual(decodeWAV(m.bytes() + [1, 2, 3, 4, 5]).samples, [5, 6])
    }

    func testChunkStructureErrors() {
        func err(_ modify: (inout WAVBuilder) -> Void) -> String? {
            var b = WAVBuilder()
            b.data = pcm16Bytes([1, 2, 3, 4], bigEndian: false)
            modify(&b)
            return decodeWAV(b.bytes()).error
        }
        func msg(_ e: WAVError) -> String { "\(e.message)" }
        XCTAssertNil(err { _ in })
        XCTAssertEqual(err { $0.dataFirst = true }, msg(.dataBeforeFormat))
        XCTAssertEqual(err { $0.omitFormat = true }, msg(.dataBeforeFormat))  // data with no fmt before it
        XCTAssertEqual(err { $0.omitData = true }, msg(.missingData))
        XCTAssertEqual(err { $0.omitFormat = true; $0.omitData = true }, msg(.missingFormat))
        XCTAssertEqual(err { b in b.between = [("fmt ", b.formatBody())] }, msg(.duplicateChunk))
        XCTAssertEqual(err { $0.after = [("data", [0, 0])] }, msg(.duplicateChunk))
        XCTAssertEqual(err { $0.dataSizeOverride = 100 }, msg(.truncated))  // claims more than the file holds
        XCTAssertEqual(err { $0.riffSizeOverride = 1000 }, msg(.truncated))
        XCTAssertEqual(err { $0.riffSizeOverride = 40 }, "WAV chunk extends past the end of the RIFF form")
        XCTAssertEqual(err { $0.dataSizeOverride = 7; $0.after = [("junk", [0])] }, "WAV data size is not a whole number of frames (block align)")
        XCTAssertEqual(err { $0.blockAlignOverride = 4 }, "WAV block align differs from channels x bytes per sample")
        XCTAssertEqual(err { $0.byteRateOverride = 44000 }, "WAV byte rate differs from sample rate x block align")
        XCTAssertEqual(err { $0.channels = 0 }, "WAV fmt chunk declares 0 channels")
        XCTAssertEqual(err { $0.sampleRate = 0 }, "WAV sample rate out of range (1...384000 Hz)")
        XCTAssertEqual(err { $0.bitsPerSample = 12 }, msg(.unsupportedBitsPerSample(12)))
        XCTAssertEqual(err { $0.formatTag = 3; $0.bitsPerSample = 64 }, msg(.unsupportedBitsPerSample(64)))
        XCTAssertEqual(err { $0.formatTag = 2 }, msg(.unsupportedFormatTag(2)))  // ADPCM
        XCTAssertEqual(err { $0.magic = "RF64" }, msg(.rf64))
        XCTAssertEqual(err { $0.magic = "RIFZ" }, msg(.notWAV))
        // A short fmt chunk.
        var b = WAVBuilder()
        b.omitFormat = true
        b.before = [("fmt ", Array(b.formatBody().prefix(14)))]
        b.data = [0, 0]
        XCTAssertEqual(decodeWAV(b.bytes()).error, "WAV fmt chunk is shorter than 16 bytes")
        // Stray bytes after the last chunk, inside the form.
        var s = WAVBuilder()
        s.data = [0, 0]
        var bytes = s.bytes() + [0, 0, 0]
        let r = UInt32(bytes.count - 8)
        bytes.replaceSubrange(4..<8, with: [UInt8(r & 255), UInt8((r >> 8) & 255), 0, 0])
        XCTAssertEqual(decodeWAV(bytes).error, "stray bytes after the last WAV chunk (shorter than a chunk header)")
        // Not WAV at all.
        XCTAssertEqual(decodeWAV([]).error, msg(.notWAV))
        XCTAssertEqual(decodeWAV(Array("hello, this is not audio at all".utf8)).error, msg(.notWAV))
        XCTAssertEqual(decodeWAV(Array("RIFF\u{4}\0\0\0AVI ".utf8)).error, msg(.notWAV))
    }

    func testUnknownLengthPlaceholderReadsToTheEndInWholeFrames() {
        var b = WAVBuilder()
        b.data = pcm16Bytes([10, 20, 30], bigEndian: false) + [7]  // a trailing half sample
        b.dataSizeOverride = 0xFFFF_FFFF
        b.riffSizeOverride = 0xFFFF_FFFF
        var bytes = b.bytes()
        bytes.removeLast()  // the builder padded the odd body; a streaming writer would not
        let bytesWithoutPad = bytes
        XCTAssertEqual(decodeWAV(bytesWithoutPad).samples, [10, 20, 30])
        bytes.withUnsafeBytes { raw in XCTAssertTrue((try? WAVFile(bytes: raw))?.dataSizeWasUnknown ?? false) }
    }

    /// Every truncation of a valid file is either rejected (cut inside the header or the declared data) or
    /// never crashes; cutting the data is always reported as truncation.
    func testEveryTruncationIsRejectedWithoutCrashing() {
        for bits: UInt16 in [8, 16, 24, 32] {
            var b = WAVBuilder(channels: 2, bitsPerSample: bits)
            b.before = [("LIST", [1, 2, 3, 4, 5])]
            b.data = (0..<(Int(bits) / 8 * 2 * 5)).map { UInt8(truncatingIfNeeded: $0 &* 37) }
            let full = b.bytes()
            XCTAssertNil(decodeWAV(full).error)
            for n in 0..<full.count {
                let e = decodeWAV(Array(full.prefix(n))).error
                XCTAssertNotNil(e, "prefix \(n) of \(full.count) accepted")
                if n >= 12 { XCTAssertEqual(e, "\(WAVError.truncated.message)", "prefix \(n)") }
            }
        }
    }

    /// Random byte flips and garbage never crash the reader or the decoder.
    func testRandomCorruptionNeverCrashes() {
        var base = WAVBuilder(channels: 3, bitsPerSample: 24, extensibleSubFormat: 1)
        base.before = [("LIST", [1, 2, 3])]
        base.data = (0..<(9 * 40)).map { UInt8(truncatingIfNeeded: $0 &* 11) }
        let good = base.bytes()
        var accepted = 0
        for _ in 0..<3000 {
            var bytes = good
            for _ in 0..<rng.int(1, 4) {
                let i = rng.int(0, bytes.count - 1)
                bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            if rng.int(0, 3) == 0 { bytes = Array(bytes.prefix(rng.int(0, bytes.count))) }
            if decodeWAV(bytes).error == nil { accepted += 1 }
        }
        for _ in 0..<500 {
            var bytes = (0..<rng.int(0, 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if bytes.count >= 12 && rng.int(0, 1) == 0 { bytes.replaceSubrange(0..<4, with: Array("RIFF".utf8)); bytes.replaceSubrange(8..<12, with: Array("WAVE".utf8)) }
            _ = decodeWAV(bytes)
        }
        XCTAssertGreaterThan(accepted, 0, "flips inside sample data should still parse")
    }

    func testReadMonoWindowsAndBounds() {
        var b = WAVBuilder(channels: 2)
        b.data = pcm16Bytes([0, 2, 10, 20, 100, 200, -4, -6], bigEndian: false)
        b.bytes().withUnsafeBytes { raw in
            guard let wav = try? WAVFile(bytes: raw) else { return XCTFail("valid file rejected") }
            XCTAssertEqual(wav.frameCount, 4)
            var out = [Int16](repeating: 99, count: 3)
            XCTAssertEqual(out.withUnsafeMutableBufferPointer { wav.readMono(from: 2, into: $0) }, 2)
            XCTAssertEqual(out, [150, -5, 99])
            XCTAssertEqual(out.withUnsafeMutableBufferPointer { wav.readMono(from: 4, into: $0) }, 0)
            XCTAssertEqual(out.withUnsafeMutableBufferPointer { wav.readMono(from: -1, into: $0) }, 0)
        }
    }

    func testPCM16LEDecoderCarriesSplitSamples() {
        var d = PCM16LEDecoder()
        var out = [Int16](repeating: 0, count: 8)
        let stream: [UInt8] = [0x01, 0x02, 0xFF, 0xFF, 0x00, 0x80, 0x34, 0x12, 0x99]
        var got: [Int16] = []
        // Every split of the stream into 1- to 3-byte chunks gives the same samples.
        var i = 0, k = 0
        while i < stream.count {
            let n = min(1 + k % 3, stream.count - i)
            k += 1
            let c = stream[i..<(i + n)].withUnsafeBytes { chunk in out.withUnsafeMutableBufferPointer { d.decode(chunk, into: $0) } }
            got += out.prefix(c)
            i += n
        }
        XCTAssertEqual(got, [0x0201, -1, -32768, 0x1234])
        XCTAssertTrue(d.hasPendingByte, "the odd last byte is held back")
    }
}
