#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Bounds on what one decode accepts from a file and what it may cost, so that a truncated, corrupt or
/// adversarial file is refused with a message instead of exhausting memory or time. libsndfile and libsoxr are
/// C libraries: a header's channel count, sample rate and frame count are checked before they size anything.
///
/// - `sampleRates`: the file's own rate must lie in this range (a 1 GHz or 0 Hz header is refused at open).
/// - `maxChannels`: at most this many channels (libsndfile's own ceiling is 1024).
/// - `maxSeconds`: decoding stops with an error once more than this much audio (at the file's rate) has been
///   read, whatever the header claims; a header claiming 2^40 frames only sizes buffers up to this bound.
/// - `maxWallSeconds`: decoding stops with an error when one file has taken longer than this (checked after
///   every block read, so it catches a decoder that keeps returning data slowly; one blocking call inside the
///   C library cannot be interrupted).
///
/// ```swift
/// var limits = DecodeLimits.standard
/// limits.maxSeconds = 60          // refuse anything longer than a minute
/// let y = try AudioDecoder.decodeMono(path: "clip.flac", sampleRate: 22_050, limits: limits)
/// ```
public struct DecodeLimits: Sendable, Equatable {
    public var sampleRates: ClosedRange<Int>
    public var maxChannels: Int
    public var maxSeconds: Double
    public var maxWallSeconds: Double

    public init(sampleRates: ClosedRange<Int> = 1_000...768_000, maxChannels: Int = 1_024,
                maxSeconds: Double = 3_600, maxWallSeconds: Double = 300) {
        self.sampleRates = sampleRates; self.maxChannels = maxChannels
        self.maxSeconds = maxSeconds; self.maxWallSeconds = maxWallSeconds
    }

    /// 1 kHz ... 768 kHz, up to 1024 channels, at most one hour of audio and five minutes of wall time per file.
    public static let standard = DecodeLimits()

    /// The most source frames a decode at `rate` may read.
    func maxFrames(rate: Int) -> Int {
        let f = maxSeconds * Double(rate)
        if !(f > 0) { return 0 }  // also NaN
        return f >= Double(Int.max / 2) ? Int.max / 2 : Int(f)
    }
}

/// Monotonic seconds, for the per-file wall-clock bound.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// A human-readable duration for limit messages: "1 h", "5 min", "90 s", "0.5 s".
func durationText(_ seconds: Double) -> String {
    if seconds >= 3_600 && seconds.truncatingRemainder(dividingBy: 3_600) == 0 { return "\(Int(seconds / 3_600)) h" }
    if seconds >= 60 && seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60)) min" }
    if seconds == seconds.rounded() && seconds < 1e15 { return "\(Int(seconds)) s" }
    return "\(seconds) s"
}
