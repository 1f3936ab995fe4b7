// Host side of the fixed-point MFCC (docs/fixed-point-mfcc.md §2): the integer frontend tables of the model file,
// made from the float definitions in Features (the same window, filter bank and DCT the float MFCC uses), and
// the PCM conversion both sides agree on.
import CRNNRuntime
import Features
import Foundation

/// The frontend tables (`FrontendTables`, model-file section 7) for `config`:
/// - window: `SpectrogramWindow.hannPeriodic`, as `round(w * 32768)` clamped to 32767 (Q0.15);
/// - mel: `MelFilterBank(config:)`'s spans and non-zero weights, one exponent e for all bands, the smallest
///   with `round(max w * 2^(15 - e)) <= 32767`; q = `round(w * 2^(15 - e))`;
/// - DCT: `DCTMatrix(config:)`, likewise with its own exponent.
/// Throws `MFCCConfigError` for a configuration the frontends do not implement.
///
/// Example: for `.paper`, `melWeightExponent == -4` and `dctExponent == -3`.
package func makeFrontendTables(config: FeatureConfig, version: UInt32 = FrontendTables.latestVersion) throws -> FrontendTables {
    if let problem = config.validationProblem() { throw MFCCConfigError(reason: "\(problem)") }
    let window = SpectrogramWindow.hannPeriodic(length: Int(config.nFFT)).map { w -> Int16 in
        Int16(min(32767, max(-32768, (Double(w) * 32768).rounded())))
    }
    let bank = MelFilterBank(config: config)
    let melExponent = sharedExponent(bank.packedWeights.map(Double.init))
    let melWeights = bank.packedWeights.map { quantizeQ15(Double($0), exponent: melExponent) }
    let spans = bank.spans.map { r -> (firstBin: UInt16, binCount: UInt16) in
        (UInt16(r.isEmpty ? 0 : r.lowerBound), UInt16(r.count))
    }
    let dctMatrix = DCTMatrix(config: config)
    let dctExponent = sharedExponent(dctMatrix.values.map(Double.init))
    let dct = dctMatrix.values.map { quantizeQ15(Double($0), exponent: dctExponent) }
    return FrontendTables(window: window, melSpans: spans, melWeights: melWeights, melWeightExponent: melExponent,
                          dct: dct, dctExponent: dctExponent, version: version)
}

/// The smallest e in -16...16 with `round(max |v| * 2^(15 - e)) <= 32767` (16 when even that does not fit,
/// -16 for all-zero values).
func sharedExponent(_ values: [Double]) -> Int32 {
    let maxAbs = values.reduce(0) { max($0, abs($1)) }
    if maxAbs == 0 { return -16 }
    for e in Int32(-16)...16 where (maxAbs * pow(2, Double(15 - e))).rounded() <= 32767 { return e }
    return 16
}

func quantizeQ15(_ v: Double, exponent: Int32) -> Int16 {
    Int16(min(32767, max(-32768, (v * pow(2, Double(15 - exponent))).rounded())))
}

// MARK: - PCM and output conversions shared by the host tools and the parity tests


/// Int16 PCM to the float samples the float MFCC sees for it: q / 32768 (exact in Float32).
public func floatAudio(fromPCM16 samples: [Int16]) -> [Float] { samples.map { Float($0) / 32768 } }

/// The frontend's Int32 MFCC (units of 2^-8) as Float values.
public func mfccFloat(fromQ8 values: [Int32]) -> [Float] { values.map { Float($0) / 256 } }
