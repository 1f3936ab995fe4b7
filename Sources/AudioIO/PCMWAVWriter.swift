import Foundation

/// Writes 16-bit PCM WAV files (RIFF, little-endian). Used for generated demo data and test fixtures;
/// samples are clipped to [-1, 1] and rounded to the nearest 16-bit step.
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
        for i in 0..<frames {
            for ch in 0..<c {
                let v = Int((max(-1, min(1, channels[ch][i])) * 32767).rounded())
                u16(v & 0xFFFF)
            }
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(out)) else {
            throw AudioError(path: path, reason: "cannot create file")
        }
    }
}
