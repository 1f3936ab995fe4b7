#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CSndFile
import Foundation
import SplitMix

/// A deterministic degradation of a mono clip, for out-of-pool evaluation (docs/out-of-pool.md): the kinds of
/// change a recording goes through between a music collection and a user's device, made without outside data.
///
/// Every case maps `[Float]` at `sampleRate` to `[Float]` at the same rate; random ones are seeded.
///
/// ```swift
/// let y = try Degradation.noise(snrDB: 20).apply(x, sampleRate: 22_050, seed: 7)
/// ```
public enum Degradation: Sendable, Equatable, CustomStringConvertible {
    /// Resampled to `rate` Hz and back with libsoxr HQ (band limit at rate / 2, as a 16 kHz or 8 kHz copy has).
    case resampleThrough(rate: Int)
    /// Encoded by libsndfile in Ogg Vorbis at `quality` (0-1, libsndfile's compression level is 1 - quality)
    /// and decoded again.
    case oggVorbis(quality: Double)
    /// Encoded by libsndfile as MP3 (MPEG layer III, constant bit rate at `quality`) and decoded again; only
    /// where libsndfile's build can write MP3 (`Degradation.canWriteMP3`).
    case mp3(quality: Double)
    /// Gain in dB (e.g. -20: every sample times 0.1).
    case gain(dB: Double)
    /// White Gaussian noise added at this signal-to-noise ratio over the whole clip (seeded).
    case noise(snrDB: Double)
    /// Played `percent` faster (negative: slower) by resampling from `rate * (1 + percent/100)` to `rate`:
    /// pitch and tempo change together, length scales by `1 / (1 + percent/100)`.
    case speed(percent: Double)
    /// A cheap microphone: 4th-order Butterworth high-pass at `low` Hz and low-pass at `high` Hz
    /// (two cascaded RBJ biquads each).
    case bandPass(low: Double, high: Double)

    /// The name used in tables and JSON (`resample-16k`, `ogg-q0.3`, `gain-20db`, `noise-snr20db`, `speed+3%`...).
    public var description: String {
        switch self {
        case .resampleThrough(let r): return r % 1000 == 0 ? "resample-\(r / 1000)k" : "resample-\(r)"
        case .oggVorbis(let q): return "ogg-vorbis-q\(Self.short(q))"
        case .mp3(let q): return "mp3-q\(Self.short(q))"
        case .gain(let g): return "gain\(g >= 0 ? "+" : "")\(Self.short(g))db"
        case .noise(let s): return "noise-snr\(Self.short(s))db"
        case .speed(let p): return "speed\(p >= 0 ? "+" : "")\(Self.short(p))%"
        case .bandPass(let lo, let hi): return "bandpass-\(Self.short(lo))-\(Self.short(hi))"
        }
    }

    private static func short(_ x: Double) -> String {
        x == x.rounded() ? String(Int(x)) : String(format: "%g", x)
    }

    /// The standard set of docs/out-of-pool.md (MP3 only when libsndfile can write it).
    public static var standard: [Degradation] {
        var d: [Degradation] = [.resampleThrough(rate: 16_000), .resampleThrough(rate: 8_000), .oggVorbis(quality: 0.3)]
        if canWriteMP3(sampleRate: 22_050) { d.append(.mp3(quality: 0.5)) }
        d += [.gain(dB: -20), .noise(snrDB: 20), .speed(percent: 3), .speed(percent: -3), .bandPass(low: 300, high: 3400)]
        return d
    }

    /// Applies the degradation. `seed` drives the random ones (noise); the others ignore it.
    public func apply(_ x: [Float], sampleRate: Int, seed: UInt64 = 1) throws(AudioError) -> [Float] {
        switch self {
        case .resampleThrough(let r):
            let down = try AudioDecoder.resample(x, from: sampleRate, to: r)
            var y = try AudioDecoder.resample(down, from: r, to: sampleRate)
            fixLength(&y, to: x.count)
            return y
        case .oggVorbis(let q):
            return try Self.codecRoundTrip(x, sampleRate: sampleRate, format: Int32(SF_FORMAT_OGG | SF_FORMAT_VORBIS),
                                           quality: q, ext: "ogg")
        case .mp3(let q):
            return try Self.codecRoundTrip(x, sampleRate: sampleRate,
                                           format: Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III), quality: q, ext: "mp3")
        case .gain(let g):
            let a = Float(pow(10, g / 20))
            return x.map { $0 * a }
        case .noise(let snr):
            let power = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(1, x.count))
            let sigma = (power / pow(10, snr / 10)).squareRoot()
            var rng = GaussianNoise(seed: seed)
            return x.map { $0 + Float(sigma * rng.next()) }
        case .speed(let p):
            // Integer rates with the same ratio (libsoxr works on the ratio): 1 + p/100 in thousandths.
            let from = Int((1000 * (1 + p / 100)).rounded()), to = 1000
            guard from > 0 else { throw AudioError(path: "<memory>", reason: "speed change \(p) % is not possible") }
            return try AudioDecoder.resample(x, from: from, to: to)
        case .bandPass(let lo, let hi):
            let fs = Double(sampleRate)
            var y = x
            for b in Biquad.butterworth4(highPass: lo, sampleRate: fs) + Biquad.butterworth4(lowPass: hi, sampleRate: fs) {
                b.filter(&y)
            }
            return y
        }
    }

    /// Whether libsndfile can write MP3 at this rate (its build needs LAME and mpg123).
    public static func canWriteMP3(sampleRate: Int) -> Bool {
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = 1
        info.format = Int32(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III)
        return sf_format_check(&info) != 0
    }

    /// Writes `x` with libsndfile in `format` into a temporary file, reads it back and resamples to `sampleRate`
    /// if the codec changed it. The result keeps `x.count` samples (trimmed or zero-padded: codecs may add an encoder
    /// delay or padding of a few ms; the delay is left in place, as a real decoded file has it).
    static func codecRoundTrip(_ x: [Float], sampleRate: Int, format: Int32, quality: Double, ext: String) throws(AudioError) -> [Float] {
        let path = NSTemporaryDirectory() + "/crnn-degrade-\(getpid())-\(UUID().uuidString).\(ext)"
        defer { unlink(path) }
        var info = SF_INFO()
        info.samplerate = Int32(sampleRate)
        info.channels = 1
        info.format = format
        guard sf_format_check(&info) != 0 else {
            throw AudioError(path: path, reason: "this libsndfile build cannot write that format (0x\(String(format, radix: 16)))")
        }
        let opened: OpaquePointer? = soundFileOpenLock.withLock { sf_open(path, Int32(SFM_WRITE), &info) }
        guard let h = opened else { throw AudioError(path: path, reason: "libsndfile cannot create it") }
        var level = min(1, max(0, 1 - quality))
        _ = sf_command(h, Int32(SFC_SET_COMPRESSION_LEVEL), &level, Int32(MemoryLayout<Double>.size))
        if format & Int32(SF_FORMAT_TYPEMASK) == Int32(SF_FORMAT_MPEG) {
            var mode = Int32(SF_BITRATE_MODE_CONSTANT)
            _ = sf_command(h, Int32(SFC_SET_BITRATE_MODE), &mode, Int32(MemoryLayout<Int32>.size))
        }
        // Clamp to the codec's nominal range: encoders treat |x| > 1 as overload.
        let clipped = x.map { min(1, max(-1, $0)) }
        let written = clipped.withUnsafeBufferPointer { sf_writef_float(h, $0.baseAddress, sf_count_t($0.count)) }
        sf_close(h)
        guard written == x.count else { throw AudioError(path: path, reason: "libsndfile wrote \(written) of \(x.count) frames") }
        var y = try AudioDecoder.decode(path: path, sampleRate: sampleRate).samples
        fixLength(&y, to: x.count)
        return y
    }
}

/// Standard normal numbers from SplitMix64 + Box-Muller (deterministic for a seed on every platform).
struct GaussianNoise {
    private var bits: SplitMix64
    private var spare: Double?
    init(seed: UInt64) { bits = SplitMix64(seed: seed &+ 0x9E37_79B9_7F4A_7C15) }
    private mutating func uniform() -> Double {
        (Double(bits.next() >> 11) + 0.5) * 0x1.0p-53  // in (0, 1)
    }
    mutating func next() -> Double {
        if let s = spare { spare = nil; return s }
        let u = uniform(), v = uniform()
        let r = (-2 * log(u)).squareRoot(), a = 2 * Double.pi * v
        spare = r * sin(a)
        return r * cos(a)
    }
}

/// A second-order IIR section (RBJ Audio EQ Cookbook), direct form I in double precision.
public struct Biquad: Sendable, Equatable {
    public var b0, b1, b2, a1, a2: Double

    /// Butterworth (Q = 1/sqrt 2 per section is 2nd order; two sections with Q 0.5412 and 1.3066 make 4th order).
    public static func lowPass(_ f: Double, q: Double, sampleRate fs: Double) -> Biquad {
        let w = 2 * Double.pi * f / fs, c = cos(w), alpha = sin(w) / (2 * q), a0 = 1 + alpha
        return Biquad(b0: (1 - c) / 2 / a0, b1: (1 - c) / a0, b2: (1 - c) / 2 / a0, a1: -2 * c / a0, a2: (1 - alpha) / a0)
    }

    public static func highPass(_ f: Double, q: Double, sampleRate fs: Double) -> Biquad {
        let w = 2 * Double.pi * f / fs, c = cos(w), alpha = sin(w) / (2 * q), a0 = 1 + alpha
        return Biquad(b0: (1 + c) / 2 / a0, b1: -(1 + c) / a0, b2: (1 + c) / 2 / a0, a1: -2 * c / a0, a2: (1 - alpha) / a0)
    }

    /// The two Q values of a 4th-order Butterworth cascade.
    static let butterworth4Q = [1 / (2 * cos(Double.pi / 8)), 1 / (2 * cos(3 * Double.pi / 8))]

    public static func butterworth4(lowPass f: Double, sampleRate fs: Double) -> [Biquad] {
        butterworth4Q.map { lowPass(f, q: $0, sampleRate: fs) }
    }

    public static func butterworth4(highPass f: Double, sampleRate fs: Double) -> [Biquad] {
        butterworth4Q.map { highPass(f, q: $0, sampleRate: fs) }
    }

    /// Filters `x` in place from zero state.
    public func filter(_ x: inout [Float]) {
        var x1 = 0.0, x2 = 0.0, y1 = 0.0, y2 = 0.0
        for i in x.indices {
            let v = Double(x[i])
            let y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
            x2 = x1; x1 = v; y2 = y1; y1 = y
            x[i] = Float(y)
        }
    }
}
