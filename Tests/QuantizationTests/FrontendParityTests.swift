// Parity of the device's fixed-point MFCC (CRNNRuntime.FixedPointMFCC, Int16 input, tables from
// makeFrontendTables) with the float MFCC (Features.MFCCExtractor, input = the same Int16 / 32768):
// SNR = 10 log10(sum f^2 / sum (f - q)^2) over all 130 x 23 coefficients of a segment, and max abs error.
// Synthetic signals are made here; real music comes from ../shared/data/gtzan-mini when it exists.
import AudioIO
import CRNNRuntime
import Features
import Foundation
import Quantization
import TestSupport
import XCTest

/// One segment through both frontends.
struct FrontendComparison {
    let snrDb: Double, maxAbs: Double, logMelMaxAbsDb: Double
    /// The max-abs error this segment may have given its log-mel error (docs/fixed-point-mfcc.md §8):
    /// 2^-9 (output rounding) + 2^(e_dct - 16) * max_t sum_m |dB_q[t][m]| (DCT table rounding, half an LSB per
    /// entry) + max_{t,k} sum_m |D[k][m]| |dB_q[t][m] - dB_f[t][m]| (the log-mel error through the DCT)
    /// + 1e-4 (the float reference's own Float32 rounding of dB values and coefficients).
    let maxAbsBound: Double
}

final class FrontendParityTests: XCTestCase {
    static let config = FeatureConfig.paper
    static let float = try! MFCCExtractor(config: config)
    /// makeFrontendTables' version (2); MFCC_PARITY_VERSION=1 measures frontend version 1 on the same data.
    nonisolated(unsafe) static let tables: FrontendTables = {
        var t = try! makeFrontendTables(config: config)
        if let v = ProcessInfo.processInfo.environment["MFCC_PARITY_VERSION"], let n = UInt32(v) { t.version = n }
        return t
    }()
    static let fixed = try! FixedPointMFCC(config: config, tables: tables)

    /// Guard on the log-mel error (dB), not derived: the largest errors seen are 0.066 dB in the default run
    /// (gtzan-mini metal.00000 segment 3, top band 69 dB below the segment's maximum) and 0.080 dB over all 1000
    /// gtzan-mini segments, from the Q0.15 mel weights of one shared exponent:
    /// the top bands' small tail weights carry a relative rounding error of up to a few percent, which shows when
    /// the spectrum falls steeply across the band (docs/fixed-point-mfcc.md §4).
    static let logMelGuardDb = 0.1
    /// Regression guard on the SNR: the requirement is 40 dB, the measured minimum 81.95 dB (synthetic and all of gtzan-mini).
    static let snrGuardDb = 70.0

    static func compare(pcm: [Int16], float reference: [Float]? = nil) -> FrontendComparison {
        let c = config, n = Int(c.segmentSamples), nMels = Int(c.nMels), nMFCC = Int(c.nMFCC)
        precondition(pcm.count == n)
        let input = reference ?? floatAudio(fromPCM16: pcm)
        let f = float.mfcc(segment: input).map(Double.init)
        let fLog = float.logMelSpectrogram(segment: input).map(Double.init)
        var q = [Int32](repeating: 0, count: c.valuesPerSegment)
        var qLog = [Int32](repeating: 0, count: c.frameCount * nMels)
        var scratch = [UInt64](repeating: 0, count: FixedPointMFCC.scratchBytes(config: c) / 8)
        pcm.withUnsafeBufferPointer { p in
            scratch.withUnsafeMutableBytes { s in
                q.withUnsafeMutableBufferPointer { fixed.segment(p, into: $0, scratch: s) }
                qLog.withUnsafeMutableBufferPointer { fixed.segmentLogMel(p, into: $0, scratch: s) }
            }
        }
        var signal = 0.0, noise = 0.0, maxAbs = 0.0
        for (a, b) in zip(f, q) {
            let d = a - Double(b) / 256
            signal += a * a; noise += d * d; maxAbs = max(maxAbs, abs(d))
        }
        let qDb = qLog.map { Double($0) / 65536 }
        let logErr = zip(fLog, qDb).map { abs($0 - $1) }
        let dct = float.dctMatrix.values.map { abs(Double($0)) }
        var rowSum = 0.0, propagated = 0.0
        for t in 0..<c.frameCount {
            let row = (t * nMels)..<((t + 1) * nMels)
            rowSum = max(rowSum, qDb[row].reduce(0) { $0 + abs($1) })
            for k in 0..<nMFCC {
                var s = 0.0
                for m in 0..<nMels { s += dct[k * nMels + m] * logErr[t * nMels + m] }
                propagated = max(propagated, s)
            }
        }
        let bound = pow(2, -9) + pow(2, Double(tables.dctExponent - 16)) * rowSum + propagated + 1e-4
        return FrontendComparison(snrDb: noise == 0 ? .infinity : 10 * log10(signal / noise), maxAbs: maxAbs,
                                  logMelMaxAbsDb: logErr.max()!, maxAbsBound: bound)
    }

    func check(_ r: FrontendComparison, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertGreaterThanOrEqual(r.snrDb, 40, name, file: file, line: line)
        XCTAssertGreaterThanOrEqual(r.snrDb, Self.snrGuardDb, "regression guard: " + name, file: file, line: line)
        XCTAssertLessThanOrEqual(r.logMelMaxAbsDb, Self.logMelGuardDb, name, file: file, line: line)
        XCTAssertLessThanOrEqual(r.maxAbs, r.maxAbsBound, name, file: file, line: line)
    }

    // MARK: Synthetic signals

    static func sine(_ hz: Double, dbfs: Double, phase: Double = 0.3) -> [Int16] {
        let a = pow(10, dbfs / 20) * 32768
        return (0..<Int(config.segmentSamples)).map { i in
            clamp16(a * sin(2 * Double.pi * hz * Double(i) / Double(config.sampleRate) + phase))
        }
    }
    static func clamp16(_ v: Double) -> Int16 { Int16(max(-32768, min(32767, v.rounded()))) }

    static func syntheticSignals() -> [(String, [Int16])] {
        let n = Int(config.segmentSamples), sr = Double(config.sampleRate)
        var g = SeededNoise(seed: 42)
        var out: [(String, [Int16])] = []
        out.append(("sine 440 Hz 0 dBFS", sine(440, dbfs: -0.01)))
        out.append(("sine 440 Hz -20 dBFS", sine(440, dbfs: -20)))
        out.append(("sine 1 kHz -60 dBFS", sine(1000, dbfs: -60)))
        out.append(("sine 5 kHz -90 dBFS (1 LSB)", sine(5000, dbfs: -90)))
        let two = zip(sine(3000, dbfs: -12), sine(7100, dbfs: -30, phase: 1)).map { clamp16(Double($0) + Double($1)) }
        out.append(("sines 3 kHz + 7.1 kHz", two))
        out.append(("log chirp 50 Hz-10 kHz -6 dBFS", (0..<n).map { i in
            let t = Double(i) / sr, dur = Double(n) / sr, k = log(10000.0 / 50)
            return clamp16(0.5 * 32768 * sin(2 * Double.pi * 50 * dur / k * (exp(k * t / dur) - 1)))
        }))
        out.append(("white noise -10 dBFS", (0..<n).map { _ in clamp16(g.uniform() * 0.316 * 32768 * 1.732) }))
        out.append(("white noise -70 dBFS", (0..<n).map { _ in clamp16(g.uniform() * 10.4 * 1.732) }))
        out.append(("silence", [Int16](repeating: 0, count: n)))
        out.append(("clipped sine 200 Hz (+12 dB)", sine(200, dbfs: 12)))
        out.append(("clicks every 0.25 s", (0..<n).map { i in i % 5512 == 100 ? 30000 : 0 }))
        out.append(("full-scale square 1 kHz", (0..<n).map { i in (i / 11) % 2 == 0 ? 32767 : -32768 }))
        return out
    }

    func testSyntheticSignalsSNRAtLeast40dB() {
        var snrs: [Double] = []
        var worstAbs = 0.0, worstLog = 0.0
        for (name, pcm) in Self.syntheticSignals() {
            let r = Self.compare(pcm: pcm)
            print(String(format: "fixed vs float MFCC | %-32@ SNR %7.2f dB  max abs %.5f  (bound %.4f)  log-mel max abs %.5f dB",
                         name as NSString, r.snrDb, r.maxAbs, r.maxAbsBound, r.logMelMaxAbsDb))
            check(r, name)
            snrs.append(r.snrDb); worstAbs = max(worstAbs, r.maxAbs); worstLog = max(worstLog, r.logMelMaxAbsDb)
        }
        let finite = snrs.filter(\.isFinite)
        print(String(format: "fixed vs float MFCC | synthetic: SNR min %.2f dB mean %.2f dB, max abs %.5f, log-mel max abs %.5f dB",
                     finite.min()!, finite.reduce(0, +) / Double(finite.count), worstAbs, worstLog))
    }

    /// The frontend tables: exponents and sizes as the doc states them.
    func testFrontendTablesForThePaperConfig() throws {
        let t = Self.tables
        XCTAssertEqual(t.window.count, 2048)
        XCTAssertEqual(t.window[0], 0)
        XCTAssertEqual(t.window[1024], 32767)
        XCTAssertEqual(t.melSpans.count, 128)
        XCTAssertEqual(t.melWeightExponent, -4)
        XCTAssertEqual(t.dctExponent, -3)
        XCTAssertEqual(t.dct.count, 23 * 128)
        XCTAssertEqual(t.melWeights.count, t.melSpans.reduce(0) { $0 + Int($1.binCount) })
        XCTAssertGreaterThan(t.melWeights.max()!, 16384)  // the exponent uses the range
        // The tables survive the model file.
        var b = ModelBuilder()
        let x = b.addActivation(.int8, shape: [2], zeroPoint: 0)
        let y = b.addFullyConnected(input: x, weights: [1, 2, 3, 4], outputs: 2, bias: [0, 0],
                                    multipliers: [1 << 30, 1 << 30], shifts: [0, 0], outputZeroPoint: 0)
        b.inputTensor = x; b.outputTensor = y; b.frontend = t
        let bytes = b.encode()
        let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
        defer { raw.deallocate() }
        raw.copyBytes(from: bytes)
        let file = try ModelFile(bytes: UnsafeRawBufferPointer(raw))
        let back = try FixedPointMFCC(model: file)
        let pcm = Self.sine(440, dbfs: -20)
        var o1 = [Int32](repeating: 0, count: 130 * 23), o2 = o1
        var s = [UInt64](repeating: 0, count: FixedPointMFCC.scratchBytes(config: .paper) / 8)
        pcm.withUnsafeBufferPointer { p in
            s.withUnsafeMutableBytes { sc in
                o1.withUnsafeMutableBufferPointer { back.segment(p, into: $0, scratch: sc) }
                o2.withUnsafeMutableBufferPointer { Self.fixed.segment(p, into: $0, scratch: sc) }
            }
        }
        XCTAssertEqual(o1, o2)
    }

    func testPCMConversionRoundTrips() {
        let q: [Int16] = [-32768, -1, 0, 1, 32767]
        XCTAssertEqual(pcm16(fromFloat: floatAudio(fromPCM16: q)), q)
        XCTAssertEqual(pcm16(fromFloat: [1.0, -1.0, 2.0, .nan, 0.5]), [32767, -32768, 32767, 0, 16384])
    }

    // MARK: Real music

    func testGTZANMiniSegmentsSNR() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let data = root.deletingLastPathComponent().appendingPathComponent("shared/data/gtzan-mini")
        guard FileManager.default.fileExists(atPath: data.path) else { throw XCTSkip("no gtzan-mini at \(data.path)") }
        let genres = try FileManager.default.contentsOfDirectory(atPath: data.path).sorted()
        // Default: the first clip of each genre, every third segment (40 segments). MFCC_PARITY_CLIPS=10
        // MFCC_PARITY_STRIDE=1 measures every segment of gtzan-mini (the figures of docs/fixed-point-mfcc.md).
        let env = ProcessInfo.processInfo.environment
        let clipsPerGenre = Int(env["MFCC_PARITY_CLIPS"] ?? "1") ?? 1
        let segmentStride = max(1, Int(env["MFCC_PARITY_STRIDE"] ?? "3") ?? 3)
        let n = Int(Self.config.segmentSamples)
        var sameInput: [Double] = [], fromFloat: [Double] = []
        var worstAbs = 0.0, worstLog = 0.0, worstAbsFromFloat = 0.0
        for genre in genres {
            let dir = data.appendingPathComponent(genre)
            let clips = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".flac") }.sorted()
            for clip in clips.prefix(clipsPerGenre) {
                let audio = try AudioDecoder.decodeMono(path: dir.appendingPathComponent(clip).path, sampleRate: Int(Self.config.sampleRate))
                let segments = Self.config.segmentCount(sampleCount: audio.count)
                for s in stride(from: 0, to: segments, by: segmentStride) {
                    var seg = Array(audio[(s * n)..<min(audio.count, (s + 1) * n)])
                    seg += [Float](repeating: 0, count: n - seg.count)
                    let pcm = pcm16(fromFloat: seg)
                    let r = Self.compare(pcm: pcm)
                    let r2 = Self.compare(pcm: pcm, float: seg)  // float MFCC of the original float audio
                    check(r, "\(clip) segment \(s)")
                    sameInput.append(r.snrDb); fromFloat.append(r2.snrDb)
                    worstAbs = max(worstAbs, r.maxAbs); worstLog = max(worstLog, r.logMelMaxAbsDb)
                    worstAbsFromFloat = max(worstAbsFromFloat, r2.maxAbs)
                }
            }
        }
        print(String(format: "fixed vs float MFCC | frontend version %d | gtzan-mini %d segments, same Int16 input: SNR min %.2f dB median %.2f dB mean %.2f dB, max abs %.5f, log-mel max abs %.5f dB",
                     Int(Self.tables.version), sameInput.count, sameInput.min()!, sameInput.sorted()[sameInput.count / 2],
                     sameInput.reduce(0, +) / Double(sameInput.count), worstAbs, worstLog))
        print(String(format: "fixed vs float MFCC | gtzan-mini, float MFCC of the float audio (includes Int16 input rounding): SNR min %.2f dB mean %.2f dB, max abs %.5f",
                     fromFloat.min()!, fromFloat.reduce(0, +) / Double(fromFloat.count), worstAbsFromFloat))
        XCTAssertGreaterThanOrEqual(fromFloat.min()!, 40)
    }
}

/// Uniform noise in [-1, 1) from SplitMix64 (deterministic, no clock): TestSupport's generator.
typealias SeededNoise = SplitMix64
