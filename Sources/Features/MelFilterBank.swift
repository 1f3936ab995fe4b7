import Foundation
import CRNNRuntime

/// librosa's mel filter bank (`librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk=False, norm='slaney')`),
/// built the way librosa 0.11 builds it: the band edges and triangles in Float64, each triangle rounded to
/// Float32, then multiplied by the Slaney area normalisation `2 / (f[i+2] - f[i])` in Float64 and rounded
/// to Float32 again (librosa multiplies its float32 weight array in place by a float64 vector).
///
/// Example: `MelFilterBank(config: .paper)` has 128 bands over 1025 bins; band 0 spans bins 1..<3.
public struct MelFilterBank: Sendable {
    /// Number of mel bands (rows).
    public let nMels: Int
    /// Number of one-sided FFT bins (columns), `nFFT / 2 + 1`.
    public let binCount: Int
    /// Dense weights, `nMels x binCount`, row-major (row = band): librosa's matrix, element for element.
    public let weights: [Float]
    /// For each band, the half-open range of bins whose weight is non-zero (an empty range for an empty
    /// band). Inside the range every weight is positive.
    public let spans: [Range<Int>]
    /// The band weights restricted to their spans, band after band.
    public let packedWeights: [Float]
    /// `nMels + 1` offsets into `packedWeights`: band m's weights are `packedOffsets[m] ..< packedOffsets[m + 1]`.
    public let packedOffsets: [Int]
    /// `spans[m].lowerBound` for each band (the bin of `packedWeights[packedOffsets[m]]`).
    private let spanStarts: [Int]
    /// The `nMels + 2` band edges in Hz (Float64), as `librosa.mel_frequencies(nMels + 2, fmin, fmax)`.
    public let edgesHz: [Double]

    /// The filter bank of a configuration (its sample rate, nFFT, nMels, fMinHz and effective fMaxHz).
    public init(config: FeatureConfig) {
        self.init(sampleRate: Double(config.sampleRate), nFFT: Int(config.nFFT), nMels: Int(config.nMels),
                  fMinHz: Double(config.fMinHz), fMaxHz: Double(config.effectiveFMaxHz))
    }

    public init(sampleRate: Double, nFFT: Int, nMels: Int, fMinHz: Double, fMaxHz: Double) {
        precondition(nFFT > 0 && nMels > 0 && sampleRate > 0)
        let bins = nFFT / 2 + 1
        let freqs = MelFilterBank.fftFrequencies(sampleRate: sampleRate, nFFT: nFFT)
        let edges = MelFilterBank.melFrequencies(count: nMels + 2, fMinHz: fMinHz, fMaxHz: fMaxHz)
        var w = [Float](repeating: 0, count: nMels * bins)
        var spans: [Range<Int>] = []
        spans.reserveCapacity(nMels)
        for m in 0..<nMels {
            let lowWidth = edges[m + 1] - edges[m], highWidth = edges[m + 2] - edges[m + 1]
            let enorm = 2.0 / (edges[m + 2] - edges[m])
            var first = -1, end = -1
            for k in 0..<bins {
                let lower = -(edges[m] - freqs[k]) / lowWidth
                let upper = (edges[m + 2] - freqs[k]) / highWidth
                let triangle = Float(max(0, min(lower, upper)))
                let v = Float(Double(triangle) * enorm)
                w[m * bins + k] = v
                if v != 0 {
                    if first < 0 { first = k }
                    end = k + 1
                }
            }
            spans.append(first < 0 ? 0..<0 : first..<end)
        }
        var packed: [Float] = []
        var offsets: [Int] = []
        for m in 0..<nMels {
            offsets.append(packed.count)
            packed.append(contentsOf: w[(m * bins + spans[m].lowerBound)..<(m * bins + spans[m].upperBound)])
        }
        offsets.append(packed.count)
        spanStarts = spans.map(\.lowerBound)
        self.nMels = nMels
        binCount = bins
        weights = w
        self.spans = spans
        packedWeights = packed
        packedOffsets = offsets
        edgesHz = edges
    }

    /// Projects one power spectrum (`binCount` values) onto the bands (`nMels` values), summing only each
    /// band's non-zero bins.
    @inline(__always)
    public func apply(spectrum: UnsafePointer<Float>, into mel: UnsafeMutablePointer<Float>) {
        packedWeights.withUnsafeBufferPointer { pw in
            spanStarts.withUnsafeBufferPointer { starts in
                packedOffsets.withUnsafeBufferPointer { offsets in
                    let base = pw.baseAddress!, st = starts.baseAddress!, off = offsets.baseAddress!
                    var m = 0
                    while m < nMels {
                        let o = off[m], len = off[m &+ 1] &- o
                        mel[m] = MelFilterBank.dot(base + o, spectrum + st[m], len)
                        m &+= 1
                    }
                }
            }
        }
    }

    /// Dot product of two float vectors, 8 lanes at a time (the lanes make the sum order fixed and
    /// independent of the compiler; LLVM does not vectorise a plain float reduction).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i &+ 8 <= n {
            let off = i &* 4
            acc += ra.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
            i &+= 8
        }
        var s = acc.sum()
        while i < n {
            s += a[i] * b[i]
            i &+= 1
        }
        return s
    }

    // MARK: Slaney mel scale (librosa.hz_to_mel / mel_to_hz with htk=False)

    private static let linearStepHz = 200.0 / 3.0
    private static let logStartHz = 1000.0
    private static let logStartMel = logStartHz / linearStepHz
    private static let logStep = log(6.4) / 27.0

    /// Hz to Slaney mel: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
    public static func hzToMel(_ hz: Double) -> Double {
        if hz >= logStartHz { return logStartMel + log(hz / logStartHz) / logStep }
        return hz / linearStepHz
    }

    /// Slaney mel to Hz, the inverse of `hzToMel`.
    public static func melToHz(_ mel: Double) -> Double {
        if mel >= logStartMel { return logStartHz * exp(logStep * (mel - logStartMel)) }
        return linearStepHz * mel
    }

    /// `count` frequencies equally spaced on the mel scale from `fMinHz` to `fMaxHz` inclusive
    /// (`librosa.mel_frequencies`, with numpy.linspace's arithmetic: `i * step + start`, last = stop).
    public static func melFrequencies(count: Int, fMinHz: Double, fMaxHz: Double) -> [Double] {
        let lo = hzToMel(fMinHz), hi = hzToMel(fMaxHz)
        if count == 1 { return [melToHz(lo)] }
        let step = (hi - lo) / Double(count - 1)
        var mels = (0..<count).map { Double($0) * step + lo }
        mels[count - 1] = hi
        return mels.map(melToHz)
    }

    /// Centre frequency of each one-sided FFT bin (`numpy.fft.rfftfreq(nFFT, 1 / sampleRate)`).
    public static func fftFrequencies(sampleRate: Double, nFFT: Int) -> [Double] {
        let val = 1.0 / (Double(nFFT) * (1.0 / sampleRate))
        return (0...(nFFT / 2)).map { Double($0) * val }
    }
}
