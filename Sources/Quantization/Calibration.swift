// Activation-range calibration: min/max, percentile, and the MSE-optimal clipping, from the float model's
// layer outputs on calibration data.
import Foundation

/// How a tensor's int8 range is chosen from its calibration values.
public enum CalibrationMethod: Equatable, Sendable, CustomStringConvertible {
    /// The observed minimum and maximum (TFLite's default).
    case minMax
    /// The `p`-th and `(100 - p)`-th percentiles (e.g. 99.99), widened to contain 0.
    case percentile(Double)
    /// The clipping range `[alpha * min, alpha * max]` (alpha in (0, 1]) minimising the expected squared
    /// quantization error (rounding inside the range plus clipping outside) over the calibration values.
    case mse

    public var description: String {
        switch self {
        case .minMax: "minmax"
        case .percentile(let p): "percentile \(p)"
        case .mse: "mse"
        }
    }

    /// True when the method needs a histogram (a second pass over the data).
    public var needsHistogram: Bool { self != .minMax }
}

/// Running statistics of one tensor's values: min/max, and once `startHistogram` is called, a histogram
/// over [min, max] of the first pass.
public struct RangeObserver: Sendable {
    public private(set) var min = Double.infinity
    public private(set) var max = -Double.infinity
    public private(set) var count = 0
    /// Bin counts over `histogramRange` (empty until `startHistogram`).
    public private(set) var bins: [Double] = []
    public private(set) var histogramRange: ClosedRange<Double> = 0...0
    /// Values exactly 0 in the histogram pass (ReLU outputs have many; 0 is always exactly representable).
    public private(set) var zeroCount = 0.0

    public static let binCount = 4096

    public init() {}

    public mutating func observe<C: Collection>(_ values: C) where C.Element == Float {
        if bins.isEmpty {
            var lo = min, hi = max
            for v in values { let d = Double(v); if d < lo { lo = d }; if d > hi { hi = d } }
            min = lo; max = hi
            count += values.count
        } else {
            let lo = histogramRange.lowerBound, w = (histogramRange.upperBound - lo) / Double(Self.binCount)
            let n = Self.binCount
            var zeros = 0
            bins.withUnsafeMutableBufferPointer { b in
                for v in values {
                    if v == 0 { zeros += 1 }
                    var k = w > 0 ? Int((Double(v) - lo) / w) : 0
                    if k < 0 { k = 0 } else if k >= n { k = n - 1 }
                    b[k] += 1
                }
            }
            zeroCount += Double(zeros)
        }
    }

    /// Freezes min/max (widened to contain 0) and starts counting the next pass's values into a histogram.
    public mutating func startHistogram() {
        let lo = Swift.min(min.isFinite ? min : 0, 0), hi = Swift.max(max.isFinite ? max : 0, 0)
        histogramRange = lo...hi
        bins = [Double](repeating: 0, count: Self.binCount)
    }

    /// The calibrated range `(min, max)`, always containing 0.
    public func range(_ method: CalibrationMethod) -> (min: Double, max: Double) {
        let lo = Swift.min(min.isFinite ? min : 0, 0), hi = Swift.max(max.isFinite ? max : 0, 0)
        switch method {
        case .minMax:
            return (lo, hi)
        case .percentile(let p):
            precondition(!bins.isEmpty, "percentile calibration needs the histogram pass")
            let total = bins.reduce(0, +)
            let tail = total * (100 - p) / 100
            return (Swift.min(0, quantile(tail, fromTop: false)), Swift.max(0, quantile(tail, fromTop: true)))
        case .mse:
            precondition(!bins.isEmpty, "mse calibration needs the histogram pass")
            var best = (lo, hi), bestError = Double.infinity
            for step in stride(from: 1000, through: 50, by: -5) {
                let alpha = Double(step) / 1000
                let e = expectedSquaredError(min: alpha * lo, max: alpha * hi)
                if e < bestError { bestError = e; best = (alpha * lo, alpha * hi) }
            }
            return best
        }
    }

    /// Value below which (or above which, `fromTop`) `tail` of the counted values lie (bin edges, linear within a bin).
    func quantile(_ tail: Double, fromTop: Bool) -> Double {
        let lo = histogramRange.lowerBound, w = (histogramRange.upperBound - lo) / Double(Self.binCount)
        var acc = 0.0
        for j in 0..<Self.binCount {
            let k = fromTop ? Self.binCount - 1 - j : j
            if acc + bins[k] > tail {
                let frac = bins[k] > 0 ? (tail - acc) / bins[k] : 0
                return fromTop ? lo + w * (Double(k + 1) - frac) : lo + w * (Double(k) + frac)
            }
            acc += bins[k]
        }
        return fromTop ? histogramRange.lowerBound : histogramRange.upperBound
    }

    /// Sum over the histogram (bin centres) of the squared error of quantizing with the int8 range [min, max].
    public func expectedSquaredError(min lo: Double, max hi: Double) -> Double {
        let q = ActivationQuantization(min: lo, max: hi)
        let r = q.representableRange
        let base = histogramRange.lowerBound, w = (histogramRange.upperBound - base) / Double(Self.binCount)
        let zeroBin = w > 0 ? Swift.min(Self.binCount - 1, Swift.max(0, Int(-base / w))) : 0
        var e = 0.0
        for k in 0..<Self.binCount where bins[k] > 0 {
            let x = base + w * (Double(k) + 0.5)
            if x < r.lowerBound || x > r.upperBound {
                let d = x < r.lowerBound ? r.lowerBound - x : x - r.upperBound
                e += bins[k] * d * d
            } else {
                // Rounding error inside the range: uniform over one step (variance scale^2 / 12); exact zeros
                // are represented exactly.
                let n = k == zeroBin ? bins[k] - zeroCount : bins[k]
                e += n * q.scale * q.scale / 12
            }
        }
        return e
    }
}
