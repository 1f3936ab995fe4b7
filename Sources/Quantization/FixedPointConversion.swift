// Float -> fixed-point conversions of the host quantizer (docs/quantization.md sections 1, 3, 4).
// Everything here runs on the desktop; the runtime only ever sees the integers these produce.
import CRNNRuntime
import Foundation

/// Why a float quantity cannot be represented in the model file.
public struct QuantizationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A non-negative real multiplier as the runtime stores it: `real = multiplier * 2^(shift - 31)`.
///
/// Conversion (docs/quantization.md section 1): `(f, e) = frexp(M)` with `0.5 <= f < 1`,
/// `multiplier = round(f * 2^31)` (2^31 carries into `2^30, e + 1`), `shift = e`. Multipliers below
/// 2^-32 (shift < -31) are stored denormalised at shift -31 (`multiplier = round(M * 2^62)`, possibly 0),
/// which the runtime accepts; multipliers of 2^30 or more cannot be stored.
///
/// Example: `QuantizedMultiplier(0.75)` is `(1610612736, 0)`; `QuantizedMultiplier(3.0)` is `(1610612736, 2)`.
public struct QuantizedMultiplier: Equatable, Sendable, CustomStringConvertible {
    public var multiplier: Int32
    public var shift: Int32

    public init(multiplier: Int32, shift: Int32) {
        self.multiplier = multiplier
        self.shift = shift
    }

    public init(_ real: Double) throws(QuantizationError) {
        guard real.isFinite, real >= 0 else { throw QuantizationError("multiplier \(real) is negative or not finite") }
        if real == 0 { self.init(multiplier: 0, shift: 0); return }
        let e = real.exponent + 1                       // real = f * 2^e, 0.5 <= f < 1
        let f = real.significand / 2                    // significand in [1, 2)
        if e < -31 {
            // Denormalised: multiplier * 2^(-31 - 31) = real.
            let m = (real * 0x1p62).rounded(.toNearestOrAwayFromZero)
            self.init(multiplier: Int32(m), shift: -31)
            return
        }
        var m = (f * 0x1p31).rounded(.toNearestOrAwayFromZero)
        var s = e
        if m == 0x1p31 { m = 0x1p30; s += 1 }
        guard s <= 30 else { throw QuantizationError("multiplier \(real) is too large for a Q31 multiplier and shift (>= 2^30)") }
        self.init(multiplier: Int32(m), shift: Int32(s))
    }

    /// The real value this pair stands for (exact in Double).
    public var realValue: Double { Double(multiplier) * pow(2, Double(shift) - 31) }

    public var pair: (Int32, Int32) { (multiplier, shift) }

    public var description: String { "\(multiplier) * 2^(\(shift) - 31)" }
}

/// An int8 per-tensor affine quantization: `real = scale * (q - zeroPoint)`.
public struct ActivationQuantization: Equatable, Sendable {
    public var scale: Double
    public var zeroPoint: Int32

    public init(scale: Double, zeroPoint: Int32) {
        self.scale = scale
        self.zeroPoint = zeroPoint
    }

    /// TFLite's asymmetric choice for a calibrated range: the range is widened to contain 0, `scale =
    /// (max - min) / 255`, `zeroPoint = round(-128 - min / scale)` clamped to -128...127, so that the real
    /// value 0 is exactly representable (needed by zero padding and ReLU). A degenerate range gets scale 1/256.
    ///
    /// Example: `[0, 6]` gives scale 6/255 and zero point -128 (ReLU outputs use the full code range).
    public init(min lo: Double, max hi: Double) {
        let lo = Swift.min(lo, 0), hi = Swift.max(hi, 0)
        let range = hi - lo
        let scale = range > 1e-12 ? range / 255 : 1.0 / 256
        let z = (-128 - lo / scale).rounded(.toNearestOrAwayFromZero)
        self.init(scale: scale, zeroPoint: Int32(Swift.max(-128, Swift.min(127, z))))
    }

    /// The fixed quantization of recurrent hidden states: zero point 0, scale 2^-7.
    public static let recurrentState = ActivationQuantization(scale: 1.0 / 128, zeroPoint: 0)

    /// Nearest int8 code (saturated).
    public func quantize(_ x: Double) -> Int8 {
        let q = (x / scale).rounded(.toNearestOrAwayFromZero) + Double(zeroPoint)
        return Int8(Swift.max(-128, Swift.min(127, q)))
    }

    public func dequantize(_ q: Int8) -> Double { scale * Double(Int32(q) - zeroPoint) }

    /// Smallest and largest real values the codes reach.
    public var representableRange: ClosedRange<Double> { dequantize(-128)...dequantize(127) }

    /// The scale as the model file stores it (informational).
    public func storedScale() throws(QuantizationError) -> QuantizedMultiplier { try QuantizedMultiplier(scale) }
}

/// Weights quantized symmetrically (zero point 0) per output channel: `real = scales[c] * q`.
public struct ChannelQuantizedWeights: Sendable {
    /// `channels * perChannel` codes in -127...127, channel-major.
    public var values: [Int8]
    public var scales: [Double]
    public var perChannel: Int { scales.isEmpty ? 0 : values.count / scales.count }

    /// `weights[c * perChannel + k]` (channel-major). `scales[c] = max_k |w| / 127` (1 for an all-zero channel),
    /// `q = round(w / scales[c])`, which lies in -127...127 by construction.
    ///
    /// Example: channel weights `[0.5, -1.0, 0.25]` give scale 1/127 and codes `[64, -127, 32]` (63.5 rounds away from 0).
    public init(channelMajor weights: [Float], channels: Int) {
        self.init(channelMajorDouble: weights.map(Double.init), channels: channels)
    }

    /// The same from Double weights (e.g. after folding a batch norm in Double).
    public init(channelMajorDouble weights: [Double], channels: Int) {
        precondition(channels > 0 && weights.count % channels == 0)
        let n = weights.count / channels
        var values = [Int8](repeating: 0, count: weights.count)
        var scales = [Double](repeating: 1, count: channels)
        for c in 0..<channels {
            var amax = 0.0
            for k in 0..<n { amax = Swift.max(amax, abs(weights[c * n + k])) }
            let s = amax > 0 ? amax / 127 : 1
            scales[c] = s
            for k in 0..<n {
                let q = (weights[c * n + k] / s).rounded(.toNearestOrAwayFromZero)
                values[c * n + k] = Int8(Swift.max(-127, Swift.min(127, q)))
            }
        }
        self.values = values
        self.scales = scales
    }

    public func dequantized(_ c: Int, _ k: Int) -> Double { scales[c] * Double(values[c * perChannel + k]) }
}

/// Rounds a real bias to the int32 grid `biasScale`, saturating at +-(2^30 - 1) (the runtime's exactness limit).
public func quantizeBias(_ b: Double, scale: Double) -> Int32 {
    let q = (b / scale).rounded(.toNearestOrAwayFromZero)
    let limit = Double((1 << 30) - 1)
    return Int32(Swift.max(-limit, Swift.min(limit, q)))
}

/// Transposes a row-major `rows x cols` matrix (Keras kernels `[in, out]` -> the runtime's `[out, in]`).
public func transposed(_ m: [Float], rows: Int, cols: Int) -> [Float] {
    precondition(m.count == rows * cols)
    var t = [Float](repeating: 0, count: m.count)
    for r in 0..<rows { for c in 0..<cols { t[c * rows + r] = m[r * cols + c] } }
    return t
}
