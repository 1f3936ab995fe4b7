import CFFTW
import CRNNRuntime
import Foundation

/// Why an `MFCCExtractor` could not be made: the configuration fails `FeatureConfig.validationProblem()`.
public struct MFCCConfigError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { "invalid feature configuration: \(reason)" }
}

/// Float MFCC matching `librosa.feature.mfcc` (librosa 0.11) for one segment, per `FeatureConfig`:
///
/// 1. frames of `nFFT` samples every `hopLength`; with `center` the segment is padded by `nFFT / 2`
///    zeros on each side (librosa `center=True, pad_mode='constant'`);
/// 2. periodic Hann window, real FFT (FFTW, single precision), `|X|^2` (or `|X|` if `spectrumPower == 1`);
/// 3. mel projection with `MelFilterBank` (librosa's Slaney filters, Float32 weights);
/// 4. `power_to_db`: `10 log10(max(amin, p)) - 10 log10(max(amin, ref))`, then the floor
///    `max(dB, maxOfThisSegment - topDb)` (skipped when `topDbCentibels == 0`);
/// 5. orthonormal DCT-II over the mel axis, first `nMFCC` coefficients (`DCTMatrix`).
///
/// Output is frame-major: `frameCount` rows of `nMFCC` values (130 x 23 for `.paper`); librosa's array
/// is the transpose. Measured parity with librosa and throughput are in docs/features.md.
///
/// Thread safety: an extractor is immutable after `init`; `mfcc` and `logMelSpectrogram` may be called from
/// any number of threads at once (the FFT plan is made once under the FFTW planner lock and executed with
/// per-call buffers).
///
/// Example:
/// ```
/// let extractor = try MFCCExtractor()                  // FeatureConfig.paper
/// let features = extractor.mfcc(segment: samples)      // samples.count == 66150 -> 130 * 23 values
/// ```
public final class MFCCExtractor: Sendable {
    public let config: FeatureConfig
    /// The analysis window (`nFFT` values).
    public let window: [Float]
    public let melFilterBank: MelFilterBank
    public let dctMatrix: DCTMatrix
    /// `amin` as the Float32 librosa compares against (`np.maximum(amin, S)` on a float32 array).
    public let amin: Float
    /// `10 log10(max(amin, ref))`, subtracted from every dB value (0 for ref = 1).
    public let refDb: Float
    /// The dynamic range kept below the segment's maximum in dB, or nil when `topDbCentibels == 0`.
    public let topDb: Float?
    private let plan: FFTRealPlan

    /// Builds the window, filter bank, DCT matrix and FFT plan for `config`.
    /// Throws `MFCCConfigError` when `config.validationProblem()` reports a problem.
    public init(config: FeatureConfig = .paper) throws(MFCCConfigError) {
        if let problem = config.validationProblem() { throw MFCCConfigError(reason: "\(problem)") }
        self.config = config
        window = SpectrogramWindow.hannPeriodic(length: Int(config.nFFT))
        melFilterBank = MelFilterBank(config: config)
        dctMatrix = DCTMatrix(config: config)
        // amin and ref are decimal powers of ten in librosa's Python source (1e-10, 1.0): parse the same literal.
        let aminD = Double("1e\(config.aminExponent)")!
        let refD = Double("1e\(config.refPowerExponent)")!
        amin = Float(aminD)
        refDb = Float(10.0 * log10(max(aminD, refD)))
        topDb = config.topDbCentibels == 0 ? nil : Float(Double(config.topDbCentibels) / 100.0)
        plan = FFTRealPlan(length: Int(config.nFFT))
    }

    /// MFCCs of one segment of exactly `config.segmentSamples` samples: `frameCount * nMFCC` values,
    /// frame-major. Safe to call from several threads at once.
    public func mfcc(segment: UnsafeBufferPointer<Float>) -> [Float] {
        let frames = config.frameCount, nMels = Int(config.nMels), nMFCC = Int(config.nMFCC)
        var logMel = [Float](repeating: 0, count: frames * nMels)
        logMel.withUnsafeMutableBufferPointer { computeLogMel(segment: segment, into: $0.baseAddress!) }
        var out = [Float](repeating: 0, count: frames * nMFCC)
        logMel.withUnsafeBufferPointer { lm in
            dctMatrix.values.withUnsafeBufferPointer { d in
                out.withUnsafeMutableBufferPointer { o in
                    MFCCExtractor.dctRows(logMel: lm.baseAddress!, frames: frames, nMels: nMels,
                                          dct: d.baseAddress!, nMFCC: nMFCC, into: o.baseAddress!)
                }
            }
        }
        return out
    }

    public func mfcc(segment: [Float]) -> [Float] { segment.withUnsafeBufferPointer { mfcc(segment: $0) } }

    /// The log-mel spectrogram in dB after `power_to_db` (amin, ref and the top_db floor), before the DCT:
    /// `frameCount * nMels` values, frame-major. This is librosa's `power_to_db(melspectrogram(...))`, transposed.
    public func logMelSpectrogram(segment: UnsafeBufferPointer<Float>) -> [Float] {
        var logMel = [Float](repeating: 0, count: config.frameCount * Int(config.nMels))
        logMel.withUnsafeMutableBufferPointer { computeLogMel(segment: segment, into: $0.baseAddress!) }
        return logMel
    }

    public func logMelSpectrogram(segment: [Float]) -> [Float] {
        segment.withUnsafeBufferPointer { logMelSpectrogram(segment: $0) }
    }

    /// The mel power spectrogram (after the filter bank, before `power_to_db`): `frameCount * nMels`, frame-major.
    public func melPowerSpectrogram(segment: UnsafeBufferPointer<Float>) -> [Float] {
        var mel = [Float](repeating: 0, count: config.frameCount * Int(config.nMels))
        mel.withUnsafeMutableBufferPointer { computeMelPower(segment: segment, into: $0.baseAddress!) }
        return mel
    }

    // MARK: - Stages

    /// Mel power of every frame into `mel` (`frameCount * nMels`).
    private func computeMelPower(segment: UnsafeBufferPointer<Float>, into mel: UnsafeMutablePointer<Float>) {
        precondition(segment.count == Int(config.segmentSamples),
                     "segment has \(segment.count) samples, the feature config expects \(config.segmentSamples)")
        let nFFT = Int(config.nFFT), hop = Int(config.hopLength), nMels = Int(config.nMels)
        let bins = config.binCount, frames = config.frameCount, n = segment.count
        let pad = config.center ? nFFT / 2 : 0
        let magnitudeOnly = config.spectrumPower == 1
        let buffers = FFTRealPlan.Buffers(length: nFFT)
        var power = [Float](repeating: 0, count: bins)
        let x = segment.baseAddress!
        window.withUnsafeBufferPointer { wb in
            power.withUnsafeMutableBufferPointer { pb in
                let w = wb.baseAddress!, frame = buffers.input, spec = buffers.outputFloats, p = pb.baseAddress!
                for t in 0..<frames {
                    // Frame t covers samples start ..< start + nFFT of the segment; outside it, zeros.
                    let start = t &* hop &- pad
                    let lo = max(0, -start), hi = min(nFFT, n &- start)
                    var i = 0
                    while i < lo { frame[i] = 0; i &+= 1 }
                    let src = x + start
                    i = lo
                    while i < hi { frame[i] = w[i] * src[i]; i &+= 1 }
                    i = max(hi, lo)
                    while i < nFFT { frame[i] = 0; i &+= 1 }
                    plan.execute(input: frame, output: buffers.output)
                    var k = 0
                    while k < bins {
                        let re = spec[2 &* k], im = spec[2 &* k &+ 1]
                        p[k] = re * re + im * im
                        k &+= 1
                    }
                    if magnitudeOnly {
                        k = 0
                        while k < bins { p[k] = p[k].squareRoot(); k &+= 1 }
                    }
                    melFilterBank.apply(spectrum: p, into: mel + t &* nMels)
                }
            }
        }
    }

    /// Log-mel dB of every frame into `out` (`frameCount * nMels`).
    private func computeLogMel(segment: UnsafeBufferPointer<Float>, into out: UnsafeMutablePointer<Float>) {
        computeMelPower(segment: segment, into: out)
        let count = config.frameCount * Int(config.nMels)
        let amin = self.amin, refDb = self.refDb
        // One pass over the powers: their maximum, and whether all are finite (p * 0 is NaN for NaN or inf).
        var laneMax = SIMD8<Float>(repeating: -.infinity), laneNaN = SIMD8<Float>()
        var i = 0
        let raw = UnsafeRawPointer(out)
        while i &+ 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            laneMax = laneMax.replacing(with: v, where: v .> laneMax)
            laneNaN += v * 0
            i &+= 8
        }
        var maxPower = laneMax.max(), nonFinite = laneNaN.sum()
        while i < count { maxPower = max(maxPower, out[i]); nonFinite += out[i] * 0; i &+= 1 }
        if nonFinite == 0 && amin.isNormal {
            i = 0
            while i < count {  // elementwise, no reduction: vectorises
                out[i] = MelDecibels.tenLog10(max(amin, out[i])) - refDb
                i &+= 1
            }
        } else {
            for i in 0..<count { out[i] = 10 * log10f(max(amin, out[i])) - refDb }
        }
        guard let topDb else { return }
        // dB is a non-decreasing function of the power, so the largest dB value is that of the largest power.
        var maxDb: Float
        if nonFinite == 0 && amin.isNormal {
            maxDb = MelDecibels.tenLog10(max(amin, maxPower)) - refDb
        } else {
            maxDb = -.infinity
            for i in 0..<count { maxDb = max(maxDb, out[i]) }
        }
        let floor = maxDb - topDb
        i = 0
        while i < count { out[i] = max(out[i], floor); i &+= 1 }
    }

    /// `out[t][k] = sum_m logMel[t][m] * D[k][m]` for every frame: one dot product per coefficient over the
    /// contiguous mel row, accumulated in Float64 (c0 sums 128 values of up to ~100 dB, where a Float32
    /// running sum alone costs up to ~1e-3), 8 lanes at a time.
    private static func dctRows(logMel: UnsafePointer<Float>, frames: Int, nMels: Int,
                                dct: UnsafePointer<Float>, nMFCC: Int, into out: UnsafeMutablePointer<Float>) {
        for t in 0..<frames {
            let row = logMel + t &* nMels, o = out + t &* nMFCC
            for k in 0..<nMFCC {
                o[k] = Float(dotInDouble(row, dct + k &* nMels, nMels))
            }
        }
    }

    @inline(__always)
    private static func dotInDouble(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Double {
        var acc = SIMD8<Double>()
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i &+ 8 <= n {
            let off = i &* 4
            acc += SIMD8<Double>(ra.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self))
                * SIMD8<Double>(rb.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self))
            i &+= 8
        }
        var s = acc.sum()
        while i < n {
            s += Double(a[i]) * Double(b[i])
            i &+= 1
        }
        return s
    }
}
