import CRNNRuntime

/// Why a file could not be decoded. `description` names the file and the reason.
///
/// ```swift
/// do {
///     _ = try AudioDecoder.decodeMono(path: "missing.flac", sampleRate: 22_050)
/// } catch {
///     print(error)   // "missing.flac: no such file"
/// }
/// ```
public struct AudioError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}

/// A failure without a path yet (resampler internals); turned into an `AudioError` by the caller.
struct AudioFailure: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

/// What a file's header says, before any decoding or resampling.
public struct AudioInfo: Sendable, Equatable {
    /// The file's own sample rate in Hz.
    public let sampleRate: Int
    /// Channel count in the file (1 mono, 2 stereo, ...).
    public let channels: Int
    /// Frames (samples per channel) as the header reports them. For compressed formats
    /// this is libsndfile's count; `decode` returns what it actually read.
    public let frames: Int
    /// libsndfile's name of the container, e.g. `"FLAC (Free Lossless Audio Codec)"`.
    public let format: String
    /// libsndfile's `SF_INFO.format` (major type | subtype | endianness).
    public let formatCode: Int32
    /// `frames / sampleRate`, in seconds.
    public var duration: Double { Double(frames) / Double(sampleRate) }

    public init(sampleRate: Int, channels: Int, frames: Int, format: String, formatCode: Int32) {
        self.sampleRate = sampleRate; self.channels = channels; self.frames = frames
        self.format = format; self.formatCode = formatCode
    }
}

/// Mono samples at a known rate, with the description of the file they came from.
public struct DecodedAudio: Sendable {
    /// Mono float samples; integer PCM is in [-1, 1) as libsndfile normalises it.
    public let samples: [Float]
    /// The rate of `samples` in Hz.
    public let sampleRate: Int
    /// The source file's header information (its own rate and channel count).
    public let source: AudioInfo
}

/// Decodes any format libsndfile reads (WAV, FLAC, Ogg Vorbis, MP3, AIFF, AU, ...) to mono
/// float samples at a given rate, the way `librosa.load(path, sr=rate, mono=True)` does:
///
/// 1. `sf_readf_float` in blocks (integer PCM normalised by libsndfile, no further scaling);
/// 2. mono = the mean of the channels, summed in channel order in Float then divided by
///    the channel count (numpy's `mean(axis=0)` for fewer than 8 channels);
/// 3. resampling with libsoxr's HQ recipe, float32, one channel (librosa's default
///    `res_type='soxr_hq'`), output trimmed or padded to `ceil(n * rate / sourceRate)`;
///    no resampling when the rates are equal.
///
/// The file is streamed: only one block of the multichannel input is held at a time.
/// Every function is safe to call from several threads at once (one decode per call).
///
/// ```swift
/// import AudioIO
///
/// let info = try AudioDecoder.decodeInfo(path: "blues.00000.flac")
/// // info.sampleRate == 22050, info.channels == 1, info.duration ≈ 30.01
///
/// let y = try AudioDecoder.decodeMono(path: "blues.00000.flac", sampleRate: 22_050)
/// // y.count == info.frames (no resampling at the file's own rate)
///
/// let y16k = try AudioDecoder.decodeMono(path: "song-44k-stereo.mp3", sampleRate: 16_000)
/// // mono, 16 kHz, y16k.count == ceil(frames * 16000 / 44100)
/// ```
public enum AudioDecoder {
    /// Frames read from libsndfile per block.
    static let blockFrames = 8_192

    /// Decodes `path`, downmixes to mono by the mean of the channels and resamples to `sampleRate`.
    ///
    /// ```swift
    /// let samples = try AudioDecoder.decodeMono(path: "clip.wav", sampleRate: 22_050)
    /// ```
    ///
    /// - Throws: `AudioError` naming `path` and the reason: missing file, directory, empty
    ///   file, a file libsndfile cannot open (with its `sf_strerror` text), a channel count or sample
    ///   rate outside `limits`, zero frames, a read error, no samples decoded, a non-finite sample,
    ///   more audio than `limits.maxSeconds`, a decode slower than `limits.maxWallSeconds`,
    ///   a non-positive requested rate, or a libsoxr error.
    public static func decodeMono(path: String, sampleRate: Int,
                                  limits: DecodeLimits = .standard) throws(AudioError) -> [Float] {
        try decode(path: path, sampleRate: sampleRate, limits: limits).samples
    }

    /// Like `decodeMono`, but also returns the source file's information; with
    /// `sampleRate: nil` the samples stay at the file's own rate.
    ///
    /// ```swift
    /// let audio = try AudioDecoder.decode(path: "clip.ogg")
    /// print(audio.source.channels, audio.sampleRate, audio.samples.count)
    /// ```
    public static func decode(path: String, sampleRate: Int? = nil,
                              limits: DecodeLimits = .standard) throws(AudioError) -> DecodedAudio {
        if let sampleRate, sampleRate <= 0 {
            throw AudioError(path: path, reason: "requested sample rate \(sampleRate) Hz is not positive")
        }
        let started = monotonicSeconds()
        let file = try SoundFile(path: path, limits: limits)
        let info = file.info
        let targetRate = sampleRate ?? info.sampleRate

        var resampler: SoxrStream? = nil
        if targetRate != info.sampleRate {
            do throws(AudioFailure) { resampler = try SoxrStream(from: info.sampleRate, to: targetRate) } catch {
                throw AudioError(path: path, reason: error.text)
            }
        }

        let channels = info.channels
        let block = blockFrames(channels: channels)
        var interleaved = [Float](repeating: 0, count: block * channels)
        var mono = [Float](repeating: 0, count: block)
        var output: [Float] = []
        // The header's frame count only sizes the first allocation, and never beyond the duration limit:
        // a forged header (2^40 frames) must not reserve terabytes.
        let maxFrames = limits.maxFrames(rate: info.sampleRate)
        let expected = min(max(info.frames, 0), maxFrames)
        output.reserveCapacity(librosaResampledLength(expected, from: info.sampleRate, to: targetRate) + 16)
        var framesRead = 0

        while true {
            let got = try interleaved.withUnsafeMutableBufferPointer { (buf) throws(AudioError) -> Int in
                try file.readFrames(into: buf, frames: block)
            }
            if got == 0 { break }
            if got > maxFrames - framesRead {
                throw AudioError(path: path, reason: "longer than the \(durationText(limits.maxSeconds)) decode limit"
                                 + " (more than \(maxFrames) frames at \(info.sampleRate) Hz; the header says \(info.frames))")
            }
            if let bad = firstNonFinite(interleaved, count: got * channels) {
                throw AudioError(path: path, reason: "frame \(framesRead + bad / channels) holds a non-finite sample (NaN or infinity)")
            }
            framesRead += got
            downmix(interleaved, channels: channels, frames: got, into: &mono)
            if let resampler {
                let failure: AudioFailure? = mono.withUnsafeBufferPointer { m in
                    do throws(AudioFailure) { try resampler.process(UnsafeBufferPointer(rebasing: m[0..<got]), into: &output) } catch {
                        return error
                    }
                    return nil
                }
                if let failure { throw AudioError(path: path, reason: failure.text) }
            } else {
                output.append(contentsOf: mono[0..<got])
            }
            let elapsed = monotonicSeconds() - started
            if elapsed > limits.maxWallSeconds {
                throw AudioError(path: path, reason: "decoding took longer than the \(durationText(limits.maxWallSeconds)) limit"
                                 + " (stopped after \(framesRead) frames)")
            }
        }
        if let message = file.pendingError {
            throw AudioError(path: path, reason: "decoding failed after \(framesRead) frames: \(message)")
        }
        guard framesRead > 0 else {
            throw AudioError(path: path, reason: "no audio could be decoded (header says \(info.frames) frames)")
        }
        if let resampler {
            do throws(AudioFailure) { try resampler.flush(into: &output) } catch { throw AudioError(path: path, reason: error.text) }
            fixLength(&output, to: librosaResampledLength(framesRead, from: info.sampleRate, to: targetRate))
        }
        return DecodedAudio(samples: output, sampleRate: targetRate, source: info)
    }

    /// Frames per read: `blockFrames`, fewer for many channels so that one block stays at most 2^18 floats (1 MB).
    static func blockFrames(channels: Int) -> Int {
        max(1, min(blockFrames, (1 << 18) / max(1, channels)))
    }

    /// Index of the first NaN or infinity in `x[0..<count]`, if any.
    static func firstNonFinite(_ x: [Float], count: Int) -> Int? {
        for i in 0..<count where !x[i].isFinite { return i }
        return nil
    }

    /// Reads only the header: rate, channels, frame count and container name.
    ///
    /// ```swift
    /// let info = try AudioDecoder.decodeInfo(path: "clip.flac")
    /// if info.sampleRate != 22_050 { print("will resample from \(info.sampleRate) Hz") }
    /// ```
    ///
    /// - Throws: `AudioError` for the same open-time reasons as `decodeMono`.
    public static func decodeInfo(path: String, limits: DecodeLimits = .standard) throws(AudioError) -> AudioInfo {
        try SoundFile(path: path, limits: limits).info
    }

    /// Mean of the channels of `frames` interleaved frames, into `mono[0..<frames]`.
    static func downmix(_ interleaved: [Float], channels: Int, frames: Int, into mono: inout [Float]) {
        if channels == 1 {
            for i in 0..<frames { mono[i] = interleaved[i] }
            return
        }
        let scale = Float(channels)
        for i in 0..<frames {
            let base = i * channels
            var sum: Float = 0
            for c in 0..<channels { sum += interleaved[base + c] }
            mono[i] = sum / scale
        }
    }
}
