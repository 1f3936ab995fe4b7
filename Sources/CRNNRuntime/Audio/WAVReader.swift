// WAVFile: a strict, zero-copy WAV reader over a byte buffer, decoding to int16 mono. Integers only.
//
// Accepted: RIFF (little-endian) and RIFX (big-endian) WAVE forms; format tags PCM (1), IEEE float (3) and
// WAVE_FORMAT_EXTENSIBLE (0xFFFE, sub-format GUID PCM or IEEE float); PCM 8-bit (unsigned), 16, 24 and 32-bit
// (signed), float 32-bit; any channel count 1...65535 (downmixed by the integer mean).
//
// Validation (every rule is an error with its own `WAVError` case):
// - the RIFF form's declared size must fit in the buffer (bytes after the form are ignored, e.g. appended tags);
// - chunks tile the form exactly: an 8-byte header, a body inside the form, a pad byte after an odd-sized body
//   (the pad byte may be missing only when that chunk ends the form); no stray bytes after the last chunk;
// - exactly one `fmt ` chunk, before the `data` chunk; exactly one `data` chunk;
// - block align == channels * bytes per sample, byte rate == sample rate * block align, the data size a whole
//   number of frames.
// TRUNCATION POLICY: a data chunk (or RIFF form) that claims more bytes than the buffer holds is an error
// (`.truncated`): a cut-off download or copy is reported, never classified silently. The one exception is the
// "unknown length" placeholder 0xFFFFFFFF that streaming writers (e.g. `ffmpeg ... -f wav pipe:`) put in the
// RIFF and data sizes: with that exact value the data runs to the end of the buffer, whole frames only.
//
// Conversion to int16, ONE rounding rule (the runtime's: round to nearest, ties toward +infinity, saturate):
// every channel sample is first made exact in a common Q40 scale (full scale = 2^40): PCM n-bit `v << (41 - n)`
// (8-bit: `(u - 128) << 33`), float from its bit pattern (sign, exponent, mantissa; |x| >= 2 clamps to 2^41,
// NaN -> 0, exact down to 2^-17, below that truncated to the Q40 grid, which cannot change the int16 result).
// The mono sample is then
//     round(sum of channels / (channels * 2^25))   saturated to -32768...32767
// in one division: 16-bit mono passes through unchanged, 24/32-bit and float are rounded once.

/// Errors of `WAVFile(bytes:)`. `message` is a complete sentence fragment for the user.
public enum WAVError: Error {
    case notWAV
    case rf64
    case truncated
    case badChunk(StaticString)
    case missingFormat
    case missingData
    case dataBeforeFormat
    case duplicateChunk
    case badFormat(StaticString)
    case unsupportedFormatTag(UInt16)
    case unsupportedBitsPerSample(UInt16)
    case unsupportedSubFormat

    public var message: StaticString {
        switch self {
        case .notWAV: return "not a WAV file (no RIFF/RIFX ... WAVE header)"
        case .rf64: return "RF64/BW64 (WAV over 4 GB) is not supported: split the file or pipe it as raw PCM to --stream"
        case .truncated: return "WAV file is truncated: a chunk or the RIFF form claims more bytes than the file holds"
        case .badChunk(let m): return m
        case .missingFormat: return "WAV file has no fmt chunk"
        case .missingData: return "WAV file has no data chunk"
        case .dataBeforeFormat: return "WAV data chunk comes before the fmt chunk"
        case .duplicateChunk: return "WAV file has more than one fmt or data chunk"
        case .badFormat(let m): return m
        case .unsupportedFormatTag: return "unsupported WAV format tag (only PCM, IEEE float and EXTENSIBLE are read): convert with `sox in.wav -b 16 out.wav`"
        case .unsupportedBitsPerSample: return "unsupported bits per sample (PCM 8/16/24/32, float 32): convert with `sox in.wav -b 16 out.wav`"
        case .unsupportedSubFormat: return "unsupported WAVE_FORMAT_EXTENSIBLE sub-format (only PCM and IEEE float): convert with `sox in.wav -b 16 out.wav`"
        }
    }
}

/// How one channel sample is stored.
enum WAVSampleEncoding: UInt8, Sendable {
    case unsigned8 = 1, signed16 = 2, signed24 = 3, signed32 = 4, float32 = 5

    /// Bytes per channel sample.
    var byteCount: Int {
        switch self {
        case .unsigned8: return 1
        case .signed16: return 2
        case .signed24: return 3
        case .signed32, .float32: return 4
        }
    }
}

/// A validated WAV file read in place. The caller keeps `bytes` alive and unchanged while using it.
///
/// Example: `let wav = try WAVFile(bytes: raw); let n = wav.readMono(from: 0, into: segment)` decodes up to
/// `segment.count` mono int16 samples of the first frames.
public struct WAVFile {
    package let bytes: UnsafeRawBufferPointer
    /// RIFX: every header field and sample is big-endian.
    package let bigEndian: Bool
    let encoding: WAVSampleEncoding
    public let channels: Int
    public let sampleRate: Int32
    /// Frames (samples per channel) in the data chunk.
    public let frameCount: Int
    /// Byte offset of the first sample and bytes per frame.
    package let dataOffset: Int
    package let blockAlign: Int
    /// True when the data size was the 0xFFFFFFFF placeholder and the data runs to the end of the buffer.
    let dataSizeWasUnknown: Bool

    public init(bytes: UnsafeRawBufferPointer) throws(WAVError) {
        self.bytes = bytes
        let n = Int64(bytes.count)
        if n < 12 { throw n >= 4 && WAVFile.isRF64(bytes) ? .rf64 : .notWAV }
        if WAVFile.isRF64(bytes) { throw .rf64 }
        let big: Bool
        if WAVFile.tag(bytes, 0, "RIFF") { big = false } else if WAVFile.tag(bytes, 0, "RIFX") { big = true } else { throw .notWAV }
        if !WAVFile.tag(bytes, 8, "WAVE") { throw .notWAV }
        bigEndian = big
        func u32(_ o: Int) -> UInt32 { big ? WAVFile.be32(bytes, o) : WAVFile.le32(bytes, o) }
        func u16(_ o: Int) -> UInt16 { big ? WAVFile.be16(bytes, o) : WAVFile.le16(bytes, o) }

        let formSize = u32(4)
        let unknownLength = formSize == 0xFFFF_FFFF
        let formEnd: Int64 = unknownLength ? n : 8 + Int64(formSize)
        if formEnd > n { throw .truncated }
        if formEnd < 12 { throw .badChunk("RIFF form size is smaller than the WAVE tag") }

        var offset: Int64 = 12
        var fmtFound = false, dataFound = false
        var enc = WAVSampleEncoding.signed16, ch = 0, rate: Int32 = 0, align = 0
        var dOffset: Int64 = 0, dBytes: Int64 = 0, dUnknown = false
        while offset < formEnd {
            if formEnd - offset < 8 { throw .badChunk("stray bytes after the last WAV chunk (shorter than a chunk header)") }
            let o = Int(offset)
            let declared = u32(o + 4)
            let isData = WAVFile.tag(bytes, o, "data")
            var size = Int64(declared)
            var unknownData = false
            if isData && declared == 0xFFFF_FFFF {
                unknownData = true
                size = formEnd - offset - 8
            }
            let bodyEnd = offset + 8 + size
            if bodyEnd > formEnd { throw bodyEnd > n ? .truncated : .badChunk("WAV chunk extends past the end of the RIFF form") }
            if WAVFile.tag(bytes, o, "fmt ") {
                if fmtFound { throw .duplicateChunk }
                if dataFound { throw .dataBeforeFormat }
                fmtFound = true
                (enc, ch, rate, align) = try WAVFile.parseFormat(bytes, o + 8, Int(size), big)
            } else if isData {
                if dataFound { throw .duplicateChunk }
                if !fmtFound { throw .dataBeforeFormat }
                dataFound = true
                dOffset = offset + 8; dUnknown = unknownData
                dBytes = unknownData ? size - size % Int64(align) : size
                if dBytes % Int64(align) != 0 { throw .badChunk("WAV data size is not a whole number of frames (block align)") }
            }
            // Odd bodies are followed by one pad byte, which may be missing only at the very end of the form.
            offset = bodyEnd + (size & 1)
            if offset > formEnd {
                if bodyEnd == formEnd { offset = formEnd } else { throw .truncated }
            }
        }
        if !fmtFound { throw .missingFormat }
        if !dataFound { throw .missingData }
        encoding = enc; channels = ch; sampleRate = rate; blockAlign = align
        dataOffset = Int(dOffset)
        frameCount = Int(dBytes / Int64(align))
        dataSizeWasUnknown = dUnknown
    }

    /// Parses a `fmt ` chunk body at `o` of `size` bytes: (encoding, channels, sample rate, block align).
    static func parseFormat(_ b: UnsafeRawBufferPointer, _ o: Int, _ size: Int, _ big: Bool)
        throws(WAVError) -> (WAVSampleEncoding, Int, Int32, Int)
    {
        func u32(_ k: Int) -> UInt32 { big ? be32(b, o + k) : le32(b, o + k) }
        func u16(_ k: Int) -> UInt16 { big ? be16(b, o + k) : le16(b, o + k) }
        if size < 16 { throw .badFormat("WAV fmt chunk is shorter than 16 bytes") }
        var tag = u16(0)
        let channels = u16(2), rate = u32(4), byteRate = u32(8), align = u16(12), bits = u16(14)
        if tag == 0xFFFE {
            if size < 40 || u16(16) < 22 { throw .badFormat("WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes") }
            let valid = u16(18)
            if valid > bits { throw .badFormat("WAVE_FORMAT_EXTENSIBLE valid bits exceed the container size") }
            // Sub-format GUID {0000tttt-0000-0010-8000-00AA00389B71}: first field = format tag, rest fixed.
            // GUID fields 1-3 follow the file's byte order; the last 8 bytes are a byte string.
            let sub = u32(24)
            let rest: [UInt8] = [0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
            if u16(28) != 0 || u16(30) != 0x0010 { throw .unsupportedSubFormat }
            for i in 0..<8 where b[o + 32 + i] != rest[i] { throw .unsupportedSubFormat }
            if sub != 1 && sub != 3 { throw .unsupportedSubFormat }
            tag = UInt16(sub)
        }
        let encoding: WAVSampleEncoding
        switch (tag, bits) {
        case (1, 8): encoding = .unsigned8
        case (1, 16): encoding = .signed16
        case (1, 24): encoding = .signed24
        case (1, 32): encoding = .signed32
        case (3, 32): encoding = .float32
        case (1, _), (3, _): throw .unsupportedBitsPerSample(bits)
        default: throw .unsupportedFormatTag(tag)
        }
        if channels == 0 { throw .badFormat("WAV fmt chunk declares 0 channels") }
        if rate == 0 || rate > 384_000 { throw .badFormat("WAV sample rate out of range (1...384000 Hz)") }
        let blockAlign = Int(channels) * encoding.byteCount
        if Int(align) != blockAlign { throw .badFormat("WAV block align differs from channels x bytes per sample") }
        if Int64(byteRate) != Int64(rate) * Int64(blockAlign) { throw .badFormat("WAV byte rate differs from sample rate x block align") }
        return (encoding, Int(channels), Int32(rate), blockAlign)
    }

    // MARK: Decoding

    /// Decodes mono int16 samples of frames `from ..< from + out.count` (clipped to the file) into `out`.
    /// Returns the number written; `out` past that is untouched. No allocation.
    public func readMono(from frame: Int, into out: UnsafeMutableBufferPointer<Int16>) -> Int {
        if frame < 0 || frame >= frameCount { return 0 }
        let count = min(out.count, frameCount - frame)
        let c = Int64(channels)
        if channels == 1 && encoding == .signed16 {
            for i in 0..<count { out[i] = Int16(bitPattern: sample16(dataOffset + (frame + i) * 2)) }
            return count
        }
        let divisor = c << 25
        let half = c << 24
        let powerOfTwo = channels & (channels - 1) == 0
        let shift = Int64(25 + channels.trailingZeroBitCount)
        var p = dataOffset + frame * blockAlign
        for i in 0..<count {
            var sum: Int64 = 0
            for _ in 0..<channels {
                sum &+= q40(p)
                p += encoding.byteCount
            }
            // round(sum / divisor), ties toward +infinity; `>>` floors, so does floorDivide.
            let q = powerOfTwo ? (sum &+ half) >> shift : WAVFile.floorDivide(sum &+ half, divisor)
            out[i] = Int16(truncatingIfNeeded: q < -32768 ? -32768 : (q > 32767 ? 32767 : q))
        }
        return count
    }

    /// One channel sample at byte offset `p`, exact in Q40 (full scale 2^40).
    @inline(__always)
    func q40(_ p: Int) -> Int64 {
        switch encoding {
        case .unsigned8: return (Int64(bytes[p]) - 128) << 33
        case .signed16: return Int64(Int16(bitPattern: sample16(p))) << 25
        case .signed24:
            let u = bigEndian
                ? UInt32(bytes[p]) << 24 | UInt32(bytes[p + 1]) << 16 | UInt32(bytes[p + 2]) << 8
                : UInt32(bytes[p + 2]) << 24 | UInt32(bytes[p + 1]) << 16 | UInt32(bytes[p]) << 8
            return Int64(Int32(bitPattern: u)) << 9  // v << 8 is Q31; Q40 is 9 more bits
        case .signed32:
            return Int64(Int32(bitPattern: bigEndian ? WAVFile.be32(bytes, p) : WAVFile.le32(bytes, p))) << 9
        case .float32:
            return floatBitsToQ40(bigEndian ? WAVFile.be32(bytes, p) : WAVFile.le32(bytes, p))
        }
    }

    @inline(__always)
    func sample16(_ p: Int) -> UInt16 { bigEndian ? WAVFile.be16(bytes, p) : WAVFile.le16(bytes, p) }

    /// floor(a / b) for b > 0.
    @inline(__always)
    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && a < 0) ? q - 1 : q
    }

    // MARK: Byte access

    static func le16(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt16 { UInt16(b[o]) | UInt16(b[o + 1]) << 8 }
    static func be16(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt16 { UInt16(b[o]) << 8 | UInt16(b[o + 1]) }
    static func le32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
    }
    static func be32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16 | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])
    }
    /// The four bytes at `o` equal `t` (4 ASCII characters).
    static func tag(_ b: UnsafeRawBufferPointer, _ o: Int, _ t: StaticString) -> Bool {
        let p = t.utf8Start
        for i in 0..<4 where b[o + i] != p[i] { return false }
        return true
    }
    static func isRF64(_ b: UnsafeRawBufferPointer) -> Bool { tag(b, 0, "RF64") || tag(b, 0, "BW64") }
}

/// An IEEE 754 binary32 bit pattern as an exact Q40 integer (value * 2^40), by integer manipulation only:
/// |x| >= 2 (and infinities) clamp to +-2^41, NaN gives 0. Exact for |x| >= 2^-17 (exponent field >= 110);
/// smaller magnitudes are truncated to the Q40 grid (error < 2^-40), which cannot change an int16 result:
/// they are far below half an int16 step (2^-16).
///
/// Example: `floatBitsToQ40(0x3F00_0000) == 1 << 39` (0.5), `floatBitsToQ40(0xBF80_0000) == -(1 << 40)` (-1.0).
func floatBitsToQ40(_ bits: UInt32) -> Int64 {
    let negative = bits >> 31 != 0
    let exponent = Int64((bits >> 23) & 0xFF)
    let fraction = Int64(bits & 0x7F_FFFF)
    if exponent == 0xFF && fraction != 0 { return 0 }  // NaN
    var magnitude: Int64
    if exponent >= 128 {  // |x| >= 2, or infinity
        magnitude = 1 << 41
    } else {
        // Normal: (2^23 + fraction) * 2^(exponent - 127 - 23); subnormal: fraction * 2^(-126 - 23).
        let mantissa = exponent == 0 ? fraction : fraction | (1 << 23)
        let scale = (exponent == 0 ? 1 : exponent) - 127 - 23 + 40  // power of two applied to the mantissa
        magnitude = scale >= 0 ? mantissa << scale : (scale <= -24 ? 0 : mantissa >> (-scale))
    }
    return negative ? -magnitude : magnitude
}
