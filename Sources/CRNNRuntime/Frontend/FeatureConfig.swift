// The one feature configuration shared by the float MFCC (Features, host) and the fixed-point MFCC
// (CRNNRuntime, device). The model file and the feature cache carry it, so a deployed model can never
// run with a frontend other than the one it was trained on.
//
// Integers only: this type must compile as Embedded Swift and the runtime does no floating point.
// `topDbCentibels` = top_db * 100 (80 dB -> 8000); `aminExponent` = log10(amin) (1e-10 -> -10);
// `refPowerExponent` = log10(ref) (ref 1.0 -> 0).

/// Window applied to each frame before the FFT.
public enum WindowKind: UInt8, Sendable {
    /// Periodic Hann (`scipy.signal.get_window('hann', n, fftbins=True)`), librosa's default.
    case hannPeriodic = 1
}

/// Mel filter-bank flavour.
public enum MelScaleKind: UInt8, Sendable {
    /// Slaney's mel scale with area ("slaney") normalisation: librosa's default (`htk=False, norm='slaney'`).
    case slaney = 1
}

/// Parameters of the MFCC frontend. Defaults are librosa's `feature.mfcc` defaults with 23 coefficients,
/// applied to 3-s segments at 22050 Hz: 66150 samples -> 130 frames x 23 coefficients.
///
/// Example: `FeatureConfig.paper.frameCount == 130`.
public struct FeatureConfig: Equatable, Sendable {
    /// Layout version of this struct as it is serialised (feature cache, checkpoint, model file).
    static let layoutVersion: UInt32 = 1

    public var sampleRate: Int32
    public var segmentSamples: Int32
    public var nFFT: Int32
    public var hopLength: Int32
    public var nMels: Int32
    public var nMFCC: Int32
    /// Lowest and highest mel-band edge in Hz; `fMaxHz == 0` means `sampleRate / 2`.
    public var fMinHz: Int32
    public var fMaxHz: Int32
    /// Dynamic range kept below the segment's maximum, in centi-dB (80 dB -> 8000). 0 disables the floor.
    public var topDbCentibels: Int32
    /// `amin = 10^aminExponent` (librosa: 1e-10 -> -10).
    public var aminExponent: Int32
    /// `ref = 10^refPowerExponent` (librosa: 1.0 -> 0).
    public var refPowerExponent: Int32
    /// Exponent applied to the magnitude spectrum (2 = power spectrum).
    public var spectrumPower: Int32
    public var window: WindowKind
    public var melScale: MelScaleKind
    /// librosa `center=True`: frames are centred, the signal padded by nFFT/2 zeros on each side.
    public var center: Bool

    public init(
        sampleRate: Int32 = 22050, segmentSamples: Int32 = 66150, nFFT: Int32 = 2048,
        hopLength: Int32 = 512, nMels: Int32 = 128, nMFCC: Int32 = 23, fMinHz: Int32 = 0,
        fMaxHz: Int32 = 0, topDbCentibels: Int32 = 8000, aminExponent: Int32 = -10,
        refPowerExponent: Int32 = 0, spectrumPower: Int32 = 2, window: WindowKind = .hannPeriodic,
        melScale: MelScaleKind = .slaney, center: Bool = true
    ) {
        self.sampleRate = sampleRate
        self.segmentSamples = segmentSamples
        self.nFFT = nFFT
        self.hopLength = hopLength
        self.nMels = nMels
        self.nMFCC = nMFCC
        self.fMinHz = fMinHz
        self.fMaxHz = fMaxHz
        self.topDbCentibels = topDbCentibels
        self.aminExponent = aminExponent
        self.refPowerExponent = refPowerExponent
        self.spectrumPower = spectrumPower
        self.window = window
        self.melScale = melScale
        self.center = center
    }

    /// The paper's frontend: librosa defaults, 23 MFCCs, 3-s segments at 22050 Hz.
    public static let paper = FeatureConfig()

    /// Upper mel edge in Hz with the `0 = Nyquist` convention resolved.
    public var effectiveFMaxHz: Int32 { fMaxHz == 0 ? sampleRate / 2 : fMaxHz }

    /// Frames per segment: `1 + segmentSamples / hopLength` with centring (librosa), else
    /// `1 + (segmentSamples - nFFT) / hopLength`.
    public var frameCount: Int {
        let n = Int(segmentSamples), h = Int(hopLength)
        return center ? 1 + n / h : 1 + (n - Int(nFFT)) / h
    }

    /// Number of segments a clip of `sampleCount` samples is cut into: every full, non-overlapping segment,
    /// plus a final one that is short by at most 1 % of a segment (zero-padded at its end). GTZAN's "30-s" clips
    /// are up to 400 samples short of 661500 (country.00007: 661100), so this keeps 10 segments for each of them.
    /// The host extractor and the device runtime both cut clips with this rule.
    ///
    /// Example: `FeatureConfig.paper.segmentCount(sampleCount: 661_100) == 10`, `(sampleCount: 66_149) == 1`,
    /// `(sampleCount: 65_000) == 0`.
    public func segmentCount(sampleCount: Int) -> Int {
        let length = Int(segmentSamples)
        guard length > 0, sampleCount > 0 else { return 0 }
        let full = sampleCount / length
        let rest = sampleCount - full * length
        return rest > 0 && rest >= length - length / 100 ? full + 1 : full
    }

    /// Number of frequency bins of the one-sided spectrum.
    public var binCount: Int { Int(nFFT) / 2 + 1 }

    /// Values per segment (`frameCount * nMFCC`), stored frame-major (row = frame).
    public var valuesPerSegment: Int { frameCount * Int(nMFCC) }

    /// Checks that the configuration is one the frontends implement. Returns nil when valid, else a reason.
    public func validationProblem() -> StaticString? {
        if sampleRate <= 0 || sampleRate > 384_000 { return "sample rate out of range (1...384000 Hz)" }
        if nFFT < 16 || nFFT > 16384 || (nFFT & (nFFT - 1)) != 0 { return "n_fft must be a power of two in 16...16384" }
        if hopLength <= 0 || hopLength > nFFT { return "hop length must be in 1...n_fft" }
        if segmentSamples < nFFT { return "segment shorter than one FFT frame" }
        if nMels <= 0 || nMels > 512 { return "mel band count out of range (1...512)" }
        if nMFCC <= 0 || nMFCC > nMels { return "MFCC count must be in 1...n_mels" }
        if fMinHz < 0 || effectiveFMaxHz <= fMinHz || effectiveFMaxHz > sampleRate / 2 { return "mel band edges out of range" }
        if topDbCentibels < 0 { return "top_db must not be negative" }
        if spectrumPower != 1 && spectrumPower != 2 { return "spectrum power must be 1 or 2" }
        return nil
    }

    // MARK: Serialisation (little-endian, 16 x 4 bytes; shared by the feature cache, checkpoints, model file)

    /// Serialised size in bytes.
    public static let encodedByteCount = 64

    /// The fields as 16 little-endian 32-bit words: version, then the fields in declaration order
    /// (window, mel scale and centring as small integers).
    var encodedWords: [UInt32] {
        [
            FeatureConfig.layoutVersion,
            UInt32(bitPattern: sampleRate), UInt32(bitPattern: segmentSamples), UInt32(bitPattern: nFFT),
            UInt32(bitPattern: hopLength), UInt32(bitPattern: nMels), UInt32(bitPattern: nMFCC),
            UInt32(bitPattern: fMinHz), UInt32(bitPattern: fMaxHz), UInt32(bitPattern: topDbCentibels),
            UInt32(bitPattern: aminExponent), UInt32(bitPattern: refPowerExponent),
            UInt32(bitPattern: spectrumPower), UInt32(window.rawValue), UInt32(melScale.rawValue),
            center ? 1 : 0,
        ]
    }

    /// Serialises to `encodedByteCount` little-endian bytes.
    public var encodedBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(FeatureConfig.encodedByteCount)
        for w in encodedWords {
            out.append(UInt8(truncatingIfNeeded: w))
            out.append(UInt8(truncatingIfNeeded: w >> 8))
            out.append(UInt8(truncatingIfNeeded: w >> 16))
            out.append(UInt8(truncatingIfNeeded: w >> 24))
        }
        return out
    }

    /// Decodes from 16 words as written by `encodedWords`. Returns nil for an unknown layout version,
    /// an unknown enum value, or a configuration that fails `validationProblem()`.
    public init?(words w: [UInt32]) {
        guard w.count >= 16, w[0] == FeatureConfig.layoutVersion,
              let window = WindowKind(rawValue: UInt8(truncatingIfNeeded: w[13])), w[13] < 256,
              let mel = MelScaleKind(rawValue: UInt8(truncatingIfNeeded: w[14])), w[14] < 256,
              w[15] <= 1
        else { return nil }
        func s(_ i: Int) -> Int32 { Int32(bitPattern: w[i]) }
        self.init(
            sampleRate: s(1), segmentSamples: s(2), nFFT: s(3), hopLength: s(4), nMels: s(5), nMFCC: s(6),
            fMinHz: s(7), fMaxHz: s(8), topDbCentibels: s(9), aminExponent: s(10), refPowerExponent: s(11),
            spectrumPower: s(12), window: window, melScale: mel, center: w[15] == 1)
        if validationProblem() != nil { return nil }
    }

    /// Decodes from `encodedByteCount` little-endian bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count >= FeatureConfig.encodedByteCount else { return nil }
        var words: [UInt32] = []
        words.reserveCapacity(16)
        for i in 0..<16 {
            let b = i * 4
            words.append(UInt32(bytes[b]) | UInt32(bytes[b + 1]) << 8 | UInt32(bytes[b + 2]) << 16 | UInt32(bytes[b + 3]) << 24)
        }
        self.init(words: words)
    }
}
