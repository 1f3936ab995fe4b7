import Foundation

/// Float audio (nominally in [-1, 1]) to 16-bit PCM: `round(x * 32768)` clamped to -32768...32767, so Int16 q
/// stands for q / 32768 exactly, as libsndfile decodes it: a 16-bit file decoded and written again is unchanged.
/// Non-finite values become 0. The device frontend's input convention (docs/fixed-point-mfcc.md).
public func pcm16(fromFloat samples: [Float]) -> [Int16] {
    samples.map { x in
        guard x.isFinite else { return 0 }
        return Int16(min(32767, max(-32768, (Double(x) * 32768).rounded())))
    }
}

/// Writes 16-bit PCM WAV files (RIFF, little-endian). Used for generated demo data, `crnn-train convert` and test
/// fixtures; samples are converted by `pcm16(fromFloat:)`, so 16-bit sources round-trip exactly.
///
/// Example: `try PCMWAVWriter.write(path: "a.wav", channels: [[0, 0.5, -0.5]], sampleRate: 22050)`.
public enum PCMWAVWriter {
    /// `channels[c][i]` is sample i of channel c; every channel must have the same length.
    public static func write(path: String, channels: [[Float]], sampleRate: Int) throws(AudioError) {
        guard let frames = channels.first?.count, channels.allSatisfy({ $0.count == frames }), !channels.isEmpty else {
            throw AudioError(path: path, reason: "channels must be non-empty and of equal length")
        }
        let c = channels.count
        let dataBytes = frames * c * 2
        var out: [UInt8] = []
        out.reserveCapacity(44 + dataBytes)
        func u32(_ v: Int) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        func u16(_ v: Int) { for i in 0..<2 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        out += Array("RIFF".utf8); u32(36 + dataBytes); out += Array("WAVE".utf8)
        out += Array("fmt ".utf8); u32(16); u16(1); u16(c); u32(sampleRate); u32(sampleRate * c * 2); u16(c * 2); u16(16)
        out += Array("data".utf8); u32(dataBytes)
        let pcm = channels.map { pcm16(fromFloat: $0) }
        for i in 0..<frames {
            for ch in 0..<c { u16(Int(pcm[ch][i]) & 0xFFFF) }
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(out)) else {
            throw AudioError(path: path, reason: "cannot create file")
        }
    }
}
