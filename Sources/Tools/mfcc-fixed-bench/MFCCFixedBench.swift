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

/// Median and minimum of `runs` timings (ms) of `body`.
func timeMs(_ runs: Int, _ body: () -> Void) -> (median: Double, min: Double) {
    var t: [Double] = []
    for _ in 0..<runs { let t0 = nowNs(); body(); t.append(Double(nowNs() - t0) / 1e6) }
    t.sort()
    return (t[t.count / 2], t[0])
}

@main struct Bench {
    static func main() throws {
        let c = FeatureConfig.paper, n = Int(c.segmentSamples), nMels = Int(c.nMels)
        let (tables1, dense) = paperTables(c)
        var tables2 = tables1
        tables2.version = 2
        let v1 = try FixedPointMFCC(config: c, tables: tables1), v2 = try FixedPointMFCC(config: c, tables: tables2)
        // Music-like test signal: a few partials, a slow envelope, noise.
        var state: UInt64 = 1
        let pcm: [Int16] = (0..<n).map { i in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let t = Double(i) / 22050, noise = Double(Int64(bitPattern: state) >> 40) / Double(1 << 23)
            let v = 0.3 * sin(2 * .pi * 220 * t) + 0.2 * sin(2 * .pi * 1330 * t) * (0.5 + 0.5 * sin(3 * t)) + 0.05 * noise
            return Int16((v * 32767).rounded())
        }
        var scratch = [UInt64](repeating: 0, count: FixedPointMFCC.scratchBytes(config: c) / 8)
        var out1 = [Int32](repeating: 0, count: c.valuesPerSegment), out2 = out1
        let t = 60, nFFT = Int(c.nFFT)
        var refRow = [Double]()
        let quick = ProcessInfo.processInfo.environment["MFCC_BENCH_ONLY"] != nil || CommandLine.arguments.contains("--segments")
        for m in 0..<nMels where !quick {
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
        if quick { refRow = [Double](repeating: 0, count: nMels) }
        // Validate: frame 60's log-mel of each version against a Float64 DFT with the exact window and the same
        // (float) filters, over the bands above the segment's maximum - 80 dB.
        for (name, f) in [("version 1", v1), ("version 2", v2)] {
            var db = [Int32](repeating: 0, count: c.frameCount * nMels)
            pcm.withUnsafeBufferPointer { p in scratch.withUnsafeMutableBytes { s in db.withUnsafeMutableBufferPointer { f.segmentLogMel(p, into: $0, scratch: s) } } }
            var worst = 0.0, maxDb = -Double.infinity
            for v in db { maxDb = max(maxDb, Double(v) / 65536) }
            for m in 0..<nMels where refRow[m] > maxDb - 80 {
                worst = max(worst, abs(refRow[m] - Double(db[t * nMels + m]) / 65536))
            }
            if !quick { print(String(format: "validation %@: frame %d log-mel vs Float64 (float filters): max |error| %.4f dB", name, t, worst)) }
            guard worst < 0.1 || quick else { print("VALIDATION FAILED"); exit(1) }
        }

        // Time: whole segments of both versions, interleaved (same machine state), then the frame stage alone.
        func seg(_ f: FixedPointMFCC, _ o: inout [Int32]) {
            pcm.withUnsafeBufferPointer { p in scratch.withUnsafeMutableBytes { s in o.withUnsafeMutableBufferPointer { f.segment(p, into: $0, scratch: s) } } }
        }
        let env = ProcessInfo.processInfo.environment
        let runs = Int(env["MFCC_BENCH_RUNS"] ?? "60") ?? 60
        // tools/reference/bench_mfcc.py --swift-cmd "... --segments N [--version 1|2]": N segments of one version,
        // after 3 warm-up segments; prints ms_per_segment (one thread, whole segment from PCM, no reuse).
        let args = CommandLine.arguments
        if let i = args.firstIndex(of: "--segments"), i + 1 < args.count, let count = Int(args[i + 1]) {
            let version = args.firstIndex(of: "--version").flatMap { $0 + 1 < args.count ? Int(args[$0 + 1]) : nil } ?? 2
            let f = version == 1 ? v1 : v2
            for _ in 0..<3 { seg(f, &out1) }
            let t0 = nowNs()
            for _ in 0..<count { seg(f, &out1) }
            let ms = Double(nowNs() - t0) / 1e6 / Double(max(1, count))
            print(String(format: "fixed-point MFCC version %d: ms_per_segment=%.4f", version, ms))
            return
        }
        if let only = env["MFCC_BENCH_ONLY"] {  // profiling: N segments of one version, nothing else
            let f = only == "1" ? v1 : v2
            for _ in 0..<runs { seg(f, &out1) }
            print("checksum \(out1.reduce(0) { $0 &+ $1 })")
            return
        }
        var t1: [Double] = [], t2: [Double] = []
        for _ in 0..<runs {
            t1.append(timeMs(1) { seg(v1, &out1) }.min)
            t2.append(timeMs(1) { seg(v2, &out2) }.min)
        }
        t1.sort(); t2.sort()
        var sig = 0.0, noise = 0.0
        for (a, b) in zip(out1, out2) { sig += Double(a) * Double(a); noise += Double(a - b) * Double(a - b) }
        print(String(format: "fixed-point MFCC, paper config, one 3-s segment (%d runs each, interleaved):", runs))
        print(String(format: "  version 1: median %.3f ms (min %.3f ms)", t1[runs / 2], t1[0]))
        print(String(format: "  version 2: median %.3f ms (min %.3f ms)  speed-up %.2fx; v2 vs v1 MFCC: SNR %.1f dB",
                     t2[runs / 2], t2[0], t1[runs / 2] / t2[runs / 2], 10 * log10(sig / max(noise, 1e-300))))
        #if DEBUG || RUNTIME_BENCH
        var mel = [UInt64](repeating: 0, count: nMels)
        var row = [Int16](repeating: 0, count: nMels)
        var fs = [UInt64](repeating: 0, count: FixedPointMFCC.frameLogMelScratchBytes(config: c) / 8 + 1)
        let f1 = timeMs(max(5, runs / 3)) {
            pcm.withUnsafeBufferPointer { p in
                fs.withUnsafeMutableBytes { s in mel.withUnsafeMutableBufferPointer { m in
                    for f in 0..<c.frameCount { _ = v1.melPower(segment: p, frameIndex: f, into: m, scratch: s) } } }
            }
        }
        let f2 = timeMs(max(5, runs / 3)) {
            pcm.withUnsafeBufferPointer { p in
                fs.withUnsafeMutableBytes { s in row.withUnsafeMutableBufferPointer { r in
                    for f in 0..<c.frameCount { v2.frameLogMel(source: p, start: f * v2.hop - v2.pad, into: r.baseAddress!, scratch: s) } } }
            }
        }
        print(String(format: "  frames x 130, version 1 (window + FFT + mel): %.3f ms; then log + top_db + DCT: %.3f ms", f1.median, t1[runs / 2] - f1.median))
        print(String(format: "  frames x 130, version 2 (window + FFT + mel + log): %.3f ms; then top_db + DCT: %.3f ms", f2.median, t2[runs / 2] - f2.median))
        #else
        print("  (the frame-stage split needs the runtime's internals: run tools/mfcc_fixed_bench.sh)")
        #endif
        print("  checksum v1 \(out1.reduce(0) { $0 &+ $1 }) v2 \(out2.reduce(0) { $0 &+ $1 })")
    }
}
