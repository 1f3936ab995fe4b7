// Benchmark of the fixed-point MFCC on the paper config (66150 samples -> 130 x 23). The tables are made here in
// Float64 (periodic Hann, Slaney mel filters, ortho DCT-II; Tests/TestSupport/ReferenceFrontend.swift) the way
// Quantization.makeFrontendTables makes them, so that the tool needs the runtime only. Validates one frame's log-mel against a Float64 DFT pipeline before timing.
// Run by tools/mfcc_fixed_bench.sh.
#if DEBUG || RUNTIME_BENCH
@testable import CRNNRuntime  // the frame stage alone (melPower) is internal to the runtime
#else
import CRNNRuntime
#endif
import Foundation
import TestSupport

func slaneyMel(_ hz: Double) -> Double { hz >= 1000 ? 15 + log(hz / 1000) / (log(6.4) / 27) : hz * 3 / 200 }
func slaneyHz(_ mel: Double) -> Double { mel >= 15 ? 1000 * exp(log(6.4) / 27 * (mel - 15)) : mel * 200 / 3 }

func paperTables(_ c: FeatureConfig) -> (FrontendTables, [[Double]]) {
    let n = Int(c.nFFT), bins = n / 2 + 1, nMels = Int(c.nMels), nMFCC = Int(c.nMFCC), sr = Double(c.sampleRate)
    let lo = slaneyMel(Double(c.fMinHz)), hi = slaneyMel(Double(c.effectiveFMaxHz))
    let edges = (0..<(nMels + 2)).map { slaneyHz(lo + (hi - lo) * Double($0) / Double(nMels + 1)) }
    var spans: [(firstBin: UInt16, binCount: UInt16)] = [], w: [Double] = [], dense: [[Double]] = []
    for m in 0..<nMels {
        var first = -1, vals: [Double] = [], row = [Double](repeating: 0, count: bins)
        for k in 0..<bins {
            let f = Double(k) * sr / Double(n)
            let tri = max(0, min((f - edges[m]) / (edges[m + 1] - edges[m]), (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1])))
            if tri > 0 { if first < 0 { first = k }; vals.append(tri * 2 / (edges[m + 2] - edges[m])); row[k] = vals.last! }
        }
        spans.append((UInt16(max(first, 0)), UInt16(vals.count))); w += vals; dense.append(row)
    }
    let tables = q15FrontendTables(window: periodicHannQ15(n), melSpans: spans, melWeights: w,
                                   dct: orthoDCT(nMFCC: nMFCC, nMels: nMels))
    return (tables, dense)
}

func nowNs() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

@main struct Bench {
    static func main() throws {
        let c = FeatureConfig.paper, n = Int(c.segmentSamples)
        let (tables, dense) = paperTables(c)
        let mfcc = try FixedPointMFCC(config: c, tables: tables)
        // Music-like test signal: a few partials, a slow envelope, noise.
        var state: UInt64 = 1
        let pcm: [Int16] = (0..<n).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let t = Double(i) / 22050, noise = Double(Int64(bitPattern: state) >> 40) / Double(1 << 23)
            let v = 0.3 * sin(2 * .pi * 220 * t) + 0.2 * sin(2 * .pi * 1330 * t) * (0.5 + 0.5 * sin(3 * t)) + 0.05 * noise
            return Int16((v * 32767).rounded())
        }
        var scratch = [UInt64](repeating: 0, count: FixedPointMFCC.scratchBytes(config: c) / 8)
        var out = [Int32](repeating: 0, count: c.valuesPerSegment)
        var db = [Int32](repeating: 0, count: c.frameCount * Int(c.nMels))

        // Validate: frame 60's log-mel against a Float64 DFT with the exact window and the same (float) filters.
        pcm.withUnsafeBufferPointer { p in scratch.withUnsafeMutableBytes { s in db.withUnsafeMutableBufferPointer { mfcc.segmentLogMel(p, into: $0, scratch: s) } } }
        let t = 60, nFFT = Int(c.nFFT)
        var worst = 0.0, maxDb = -Double.infinity
        var refRow = [Double]()
        for m in 0..<Int(c.nMels) {
            var acc = 0.0
            for k in 0...(nFFT / 2) where dense[m][k] != 0 {
                var re = 0.0, im = 0.0
                for j in 0..<nFFT {
                    let x = Double(pcm[t * 512 - 1024 + j]) / 32768 * (0.5 - 0.5 * cos(2 * .pi * Double(j) / Double(nFFT)))
                    let a = -2 * Double.pi * Double((j * k) % nFFT) / Double(nFFT)
                    re += x * cos(a); im += x * sin(a)
                }
                acc += dense[m][k] * (re * re + im * im)
            }
            refRow.append(10 * log10(max(acc, 1e-10)))
        }
        for v in db { maxDb = max(maxDb, Double(v) / 65536) }
        for m in 0..<Int(c.nMels) where refRow[m] > maxDb - 80 {
            worst = max(worst, abs(refRow[m] - Double(db[t * Int(c.nMels) + m]) / 65536))
        }
        print(String(format: "validation: frame %d log-mel vs Float64 (float filters): max |error| %.4f dB", t, worst))
        guard worst < 0.1 else { print("VALIDATION FAILED"); exit(1) }

        // Time: whole segment, and the frame stage alone.
        var times: [Double] = []
        for _ in 0..<60 {
            let t0 = nowNs()
            pcm.withUnsafeBufferPointer { p in scratch.withUnsafeMutableBytes { s in out.withUnsafeMutableBufferPointer { mfcc.segment(p, into: $0, scratch: s) } } }
            times.append(Double(nowNs() - t0) / 1e6)
        }
        times.sort()
        let med = times[times.count / 2]
        print(String(format: "fixed-point MFCC, paper config, one 3-s segment: median %.3f ms (min %.3f ms), real-time factor %.5f",
                     med, times[0], med / 3000))
        #if DEBUG || RUNTIME_BENCH
        var frameTimes: [Double] = []
        var mel = [UInt64](repeating: 0, count: Int(c.nMels))
        var fs = [UInt64](repeating: 0, count: FixedPointMFCC.frameScratchBytes(config: c) / 8)
        for _ in 0..<20 {
            let t0 = nowNs()
            pcm.withUnsafeBufferPointer { p in
                fs.withUnsafeMutableBytes { s in mel.withUnsafeMutableBufferPointer { m in
                    for f in 0..<c.frameCount { _ = mfcc.melPower(segment: p, frameIndex: f, into: m, scratch: s) } } }
            }
            frameTimes.append(Double(nowNs() - t0) / 1e6)
        }
        frameTimes.sort()
        let fmed = frameTimes[frameTimes.count / 2]
        print(String(format: "  frames (window + FFT + mel) x 130: %.3f ms; log + top_db + DCT: %.3f ms", fmed, med - fmed))
        #else
        print("  (the frame-stage split needs the runtime's internals: run tools/mfcc_fixed_bench.sh)")
        #endif
        print("  checksum \(out.reduce(0) { $0 &+ $1 })")
    }
}
