// A Float64 reference for the fixed-point frontend's tables (rounded to Q15 the way the host quantizer
// rounds them), shared by the runtime tests and the fuzz targets (linear-Hz bands) and the MFCC benchmark (Slaney bands).
import CRNNRuntime
import Foundation

/// v as Q15 with exponent e (v * 2^(15 - e), rounded to nearest, saturated to int16).
public func q15(_ v: Double, _ e: Int32) -> Int16 { Int16(min(32767, max(-32768, (v * pow(2, Double(15 - e))).rounded()))) }

/// The smallest exponent in -16...16 at which every value of `vs` fits Q15.
public func q15Exponent(_ vs: [Double]) -> Int32 {
    let m = vs.map(abs).max()!
    return (Int32(-16)...16).first { (m * pow(2, Double(15 - $0))).rounded() <= 32767 }!
}

/// The periodic Hann window of length n (librosa's fftbins=True) in Q15, exponent 0.
public func periodicHannQ15(_ n: Int) -> [Int16] {
    (0..<n).map { q15(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(n)), 0) }
}

/// The ortho DCT-II matrix (nMFCC rows of nMels), row-major, in Float64.
public func orthoDCT(nMFCC: Int, nMels: Int) -> [Double] {
    var dct: [Double] = []
    for k in 0..<nMFCC {
        for i in 0..<nMels {
            let s = k == 0 ? (1 / Double(nMels)).squareRoot() : (2 / Double(nMels)).squareRoot()
            dct.append(s * cos(Double.pi * Double(k) * Double(2 * i + 1) / Double(2 * nMels)))
        }
    }
    return dct
}

/// FrontendTables from a window and Float64 mel weights and DCT: each scaled to Q15 with its own exponent.
package func q15FrontendTables(window: [Int16], melSpans: [(firstBin: UInt16, binCount: UInt16)], melWeights w: [Double],
                              dct: [Double]) -> FrontendTables {
    let eMel = q15Exponent(w), eDct = q15Exponent(dct)
    return FrontendTables(window: window, melSpans: melSpans, melWeights: w.map { q15($0, eMel) }, melWeightExponent: eMel,
                          dct: dct.map { q15($0, eDct) }, dctExponent: eDct)
}

/// Tables made in Float64, then rounded as the host does: periodic Hann, triangular bands evenly spaced in Hz
/// (not mel) with area normalisation 2 / width, ortho DCT-II. The runtime tests' and the fuzz targets' tables.
package func linearBandFrontendTables(_ c: FeatureConfig) -> FrontendTables {
    let n = Int(c.nFFT), bins = n / 2 + 1, nMels = Int(c.nMels), nMFCC = Int(c.nMFCC)
    let fMax = Double(c.effectiveFMaxHz), fMin = Double(c.fMinHz), binHz = Double(c.sampleRate) / Double(n)
    let edges = (0..<(nMels + 2)).map { fMin + (fMax - fMin) * Double($0) / Double(nMels + 1) }
    var spans: [(firstBin: UInt16, binCount: UInt16)] = [], w: [Double] = []
    for m in 0..<nMels {
        var first = -1, vals: [Double] = []
        for k in 0..<bins {
            let f = Double(k) * binHz
            let tri = max(0, min((f - edges[m]) / (edges[m + 1] - edges[m]), (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1])))
            if tri > 0 { if first < 0 { first = k }; vals.append(tri * 2 / (edges[m + 2] - edges[m])) }
        }
        spans.append((UInt16(max(first, 0)), UInt16(vals.count)))
        w += vals
    }
    return q15FrontendTables(window: periodicHannQ15(n), melSpans: spans, melWeights: w, dct: orthoDCT(nMFCC: nMFCC, nMels: nMels))
}
