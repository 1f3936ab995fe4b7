// Runtime-only tests of the fixed-point MFCC: twiddles, FFT against a Float64 DFT, log2/dB over the whole input
// range, the DCT's integer arithmetic, the whole pipeline against a Float64 pipeline with the same integer
// tables, streaming frame reuse, the model-file path. (Parity with the float MFCC of Features is tested in
// QuantizationTests/FrontendParityTests.swift.)
import Foundation
import XCTest
@testable import CRNNRuntime

/// Frontend tables made in the test: TestSupport's Float64 reference with linear-Hz bands.
func testFrontendTables(_ c: FeatureConfig) -> FrontendTables { linearBandFrontendTables(c) }

/// A small configuration for tests that need a Float64 DFT per frame.
let smallConfig = FeatureConfig(sampleRate: 8000, segmentSamples: 2048, nFFT: 256, hopLength: 64, nMels: 16, nMFCC: 8)

/// Int16 test signal: sum of sines plus LCG noise, at `amplitude` (of 32768).
func testSignal(count: Int, amplitude: Double, seed: UInt64) -> [Int16] {
    var g = SplitMix64(seed: seed)
    return (0..<count).map { i in
        let t = Double(i)
        let v = 0.5 * sin(0.05 * t) + 0.3 * sin(0.31 * t + 1) + 0.2 * (Double(g.next() % 2001) / 1000 - 1)
        return Int16(max(-32768, min(32767, (v * amplitude).rounded())))
    }
}

/// Float64 DFT of a real sequence: bins 0...n/2.
func dft(_ x: [Int32]) -> [(Double, Double)] { dft(x.map(Double.init)) }
func dft(_ x: [Double]) -> [(Double, Double)] {
    let n = x.count
    return (0...(n / 2)).map { k in
        var re = 0.0, im = 0.0
        for j in 0..<n {
            let a = -2 * Double.pi * Double((j * k) % n) / Double(n)
            re += x[j] * cos(a); im += x[j] * sin(a)
        }
        return (re, im)
    }
}

/// Float64 log-mel (dB, floored at -100) of the frame of `pcm` starting at sample `start` (zeros outside the
/// signal), with the exact periodic Hann window and the tables' integer mel weights and exponent, full scale
/// 32768: the reference the fixed-point frame is compared with.
func float64FrameLogMel(_ pcm: [Int16], start: Int, config c: FeatureConfig, tables t: FrontendTables) -> [Double] {
    let n = Int(c.nFFT)
    let x: [Double] = (0..<n).map { j in
        let s = start + j
        return s >= 0 && s < pcm.count ? Double(pcm[s]) * (0.5 - 0.5 * cos(2 * Double.pi * Double(j) / Double(n))) : 0
    }
    let spec = dft(x)
    var off = 0, out: [Double] = []
    for m in 0..<Int(c.nMels) {
        var acc = 0.0
        for q in 0..<Int(t.melSpans[m].binCount) {
            let k = Int(t.melSpans[m].firstBin) + q
            acc += Double(t.melWeights[off + q]) * (spec[k].0 * spec[k].0 + spec[k].1 * spec[k].1)
        }
        off += Int(t.melSpans[m].binCount)
        out.append(max(10 * log10(max(acc * pow(2, Double(t.melWeightExponent - 15)) / (32768.0 * 32768), 1e-300)), -100))
    }
    return out
}

final class FixedPointMFCCTests: XCTestCase {

    // MARK: Twiddles and FFT

    func testTwiddlesMatchSineToHalfLSB() {
        for n in [16, 64, 1024, 2048, 16384] {
            let tw = fixedTwiddlesQ30(n: n)
            var worst = 0.0
            for k in 0...(n / 2) {
                let a = 2 * Double.pi * Double(k) / Double(n)
                worst = max(worst, abs(Double(tw.cos[k]) - cos(a) * 1_073_741_824), abs(Double(tw.sin[k]) - sin(a) * 1_073_741_824))
            }
            XCTAssertLessThanOrEqual(worst, 0.51, "n = \(n)")
        }
        XCTAssertEqual(fixedTwiddlesQ30(n: 16).cos[2], 759_250_125)
        XCTAssertEqual(fixedTwiddlesQ30(n: 16).cos[0], 1 << 30)
        XCTAssertEqual(fixedTwiddlesQ30(n: 16).sin[4], 1 << 30)
        XCTAssertEqual(fixedTwiddlesQ30(n: 16).cos[8], -(1 << 30))
    }

    /// Error bound of the FFT, relative to the largest bin: each of the log2(n) levels (stages + split) adds at
    /// most ~1.2 LSB (rounding 0.5 per component, twiddle rounding < 0.51 * 2^-30 times |b| < 2^29.5) at a scale
    /// where the data's largest component is >= 2^27, and the later stages at most double an error as they
    /// double the signal: relative error < log2(n) * 1.2 * sqrt(2) / 2^27 < log2(n) * 2^-26.
    func testFFTMatchesFloat64DFT() {
        var g = SplitMix64(seed: 7)
        for n in [16, 32, 128, 512, 2048] {
            let fft = FixedRealFFT(n: n)
            var kinds: [[Int32]] = []
            kinds.append((0..<n).map { _ in g.int32() })                                        // full 32-bit
            kinds.append((0..<n).map { _ in Int32(g.int(-32768, 32767)) * Int32(g.int(0, 32767)) }) // pcm * window
            kinds.append((0..<n).map { _ in Int32(g.int(-3, 3)) })                               // tiny
            kinds.append((0..<n).map { j in Int32((sin(Double(j) * 0.7) * 1e9).rounded()) })     // sine
            kinds.append((0..<n).map { j in j == 3 ? -5 : 0 })                                   // impulse
            kinds.append([Int32](repeating: Int32.min, count: n))                                // extreme DC
            let levels = Double(Int(log2(Double(n))))
            for (kind, x) in kinds.enumerated() {
                var re = [Int32](repeating: 0, count: n / 2 + 1), im = re, work = [Int32](repeating: 0, count: n)
                let e = fft.spectrum(x, re: &re, im: &im, work: &work)
                let ref = dft(x)
                let peak = ref.map { ($0.0 * $0.0 + $0.1 * $0.1).squareRoot() }.max()!
                var worst = 0.0
                for k in 0...(n / 2) {
                    let dr = Double(re[k]) * pow(2, Double(e)) - ref[k].0, di = Double(im[k]) * pow(2, Double(e)) - ref[k].1
                    worst = max(worst, (dr * dr + di * di).squareRoot())
                }
                XCTAssertLessThanOrEqual(worst / peak, levels * pow(2, -26), "n \(n) kind \(kind)")
                XCTAssertLessThan(re.map { abs(Int64($0)) }.max()!, 760_000_000)  // < 2^29.5
                // The power spectrum is the squared spectrum with twice the exponent.
                var p = [UInt64](repeating: 0, count: n / 2 + 1)
                XCTAssertEqual(fft.powerSpectrum(x, into: &p, work: &work), 2 * e)
                for k in 0...(n / 2) { XCTAssertEqual(p[k], UInt64(Int64(re[k]) * Int64(re[k]) + Int64(im[k]) * Int64(im[k]))) }
            }
        }
    }

    func testImpulseAndZeroFramesAreExact() {
        let n = 64, fft = FixedRealFFT(n: n)
        var x = [Int32](repeating: 0, count: n), p = [UInt64](repeating: 1, count: n / 2 + 1), work = x
        XCTAssertEqual(fft.powerSpectrum(x, into: &p, work: &work), 0)
        XCTAssertEqual(p, [UInt64](repeating: 0, count: n / 2 + 1))
        x[0] = 12345
        let e = fft.powerSpectrum(x, into: &p, work: &work)
        for k in 0...(n / 2) { XCTAssertEqual(Double(p[k]) * pow(2, Double(e)), 12345.0 * 12345.0) }
    }

    // MARK: Logarithm and decibels

    func testLog2AccuracyOverTheWholeRange() {
        var worst = 0.0
        func check(_ x: UInt64) {
            let err = abs(Double(log2Q20(x)) - log2(Double(x)) * 1_048_576)
            worst = max(worst, err)
        }
        for x in UInt64(1)...UInt64(1 << 18) { check(x) }
        var g = SplitMix64(seed: 3)
        for bits in 1...64 {
            for _ in 0..<2000 { check(g.next() >> UInt64(64 - bits) | (UInt64(1) << UInt64(bits - 1))) }
            let top = bits == 64 ? UInt64.max : (UInt64(1) << UInt64(bits)) - 1
            check(top); check(UInt64(1) << UInt64(bits - 1))
        }
        XCTAssertLessThanOrEqual(worst, 0.51)
        XCTAssertEqual(log2Q20(1), 0)
        XCTAssertEqual(log2Q20(8), 3 << 20)
        XCTAssertEqual(log2Q20(3), 1_661_954)  // log2(3) * 2^20 = 1661953.61
        XCTAssertEqual(log2Q20(0), Int32.min)
    }

    func testDecibelsWithinOneHundredThousandthOfADecibel() {
        XCTAssertEqual(decibelsQ16(mantissa: 1, exponent: 0), 0)
        XCTAssertEqual(decibelsQ16(mantissa: 100, exponent: 0), 1_310_720)
        XCTAssertEqual(decibelsQ16(mantissa: 0, exponent: 5), Int32.min)
        var g = SplitMix64(seed: 11)
        var worst = 0.0
        for _ in 0..<20000 {
            let m = g.next() >> UInt64(g.int(0, 63)) | 1
            let e = Int32(g.int(-900, 900))
            let exact = 10 * (log2(Double(m)) + Double(e)) * log10(2.0)
            worst = max(worst, abs(Double(decibelsQ16(mantissa: m, exponent: e)) / 65536 - exact))
        }
        XCTAssertLessThanOrEqual(worst, 1e-5)
    }

    // MARK: DCT

    func testDCTIsTheRoundedIntegerSum() throws {
        let c = smallConfig, t = testFrontendTables(c)
        let f = try FixedPointMFCC(config: c, tables: t)
        var g = SplitMix64(seed: 5)
        let db = (0..<(f.frameCount * f.nMels)).map { _ in Int32(g.int(-120 * 65536, 60 * 65536)) }
        var out = [Int32](repeating: 0, count: f.frameCount * f.nMFCC)
        db.withUnsafeBufferPointer { d in out.withUnsafeMutableBufferPointer { f.mfcc(logMel: d, into: $0) } }
        let shift = Int(23 - t.dctExponent)
        var worstVsReal = 0.0
        for fr in 0..<f.frameCount {
            for k in 0..<f.nMFCC {
                var acc: Int128 = 0, real = 0.0
                for m in 0..<f.nMels {
                    acc += Int128(t.dct[k * f.nMels + m]) * Int128(db[fr * f.nMels + m])
                    let s = k == 0 ? (1 / Double(f.nMels)).squareRoot() : (2 / Double(f.nMels)).squareRoot()
                    real += s * cos(Double.pi * Double(k * (2 * m + 1)) / Double(2 * f.nMels)) * Double(db[fr * f.nMels + m]) / 65536
                }
                XCTAssertEqual(Int128(out[fr * f.nMFCC + k]), (acc + (Int128(1) << (shift - 1))) >> shift)
                worstVsReal = max(worstVsReal, abs(Double(out[fr * f.nMFCC + k]) / 256 - real))
            }
        }
        // Table rounding: |dD| <= 2^(e-16) per entry times sum |dB| (<= 16 * 120), plus the output's 2^-9.
        XCTAssertLessThanOrEqual(worstVsReal, pow(2, Double(t.dctExponent - 16)) * 16 * 120 + pow(2, -9))
    }

    // MARK: Whole pipeline

    /// The pipeline against a Float64 pipeline using the SAME integer mel weights (so only the window refinement,
    /// FFT, mel sums and log arithmetic are measured): log-mel within 0.001 dB everywhere, several signal levels.
    func testPipelineMatchesFloat64PipelineWithSameTables() throws {
        let c = smallConfig, t = testFrontendTables(c)
        let f = try FixedPointMFCC(config: c, tables: t)
        let n = Int(c.nFFT), hop = Int(c.hopLength), pad = n / 2
        for (i, amp) in [32767.0, 3000, 33, 1].enumerated() {
            let pcm = testSignal(count: Int(c.segmentSamples), amplitude: amp, seed: UInt64(i))
            var db = [Int32](repeating: 0, count: f.frameCount * f.nMels)
            var scratch = [UInt64](repeating: 0, count: FixedPointMFCC.scratchBytes(config: c) / 8 + 1)
            pcm.withUnsafeBufferPointer { p in
                db.withUnsafeMutableBufferPointer { d in scratch.withUnsafeMutableBytes { f.segmentLogMel(p, into: d, scratch: $0) } }
            }
            // Float64 reference with the same window, weights and exponents.
            // The runtime refines the Q0.15 window to Q1.30: the reference uses the exact Hann window.
            var ref = (0..<f.frameCount).flatMap { float64FrameLogMel(pcm, start: $0 * hop - pad, config: c, tables: t) }
            let floor = ref.max()! - 80
            ref = ref.map { max($0, floor) }
            let worst = zip(db, ref).map { abs(Double($0) / 65536 - $1) }.max()!
            XCTAssertLessThanOrEqual(worst, 0.001, "amplitude \(amp)")
        }
    }

    func testSilenceGivesTheAminFloor() throws {
        let c = smallConfig, f = try FixedPointMFCC(config: c, tables: testFrontendTables(c))
        let pcm = [Int16](repeating: 0, count: Int(c.segmentSamples))
        var db = [Int32](repeating: 0, count: f.frameCount * f.nMels)
        var scratch = [UInt64](repeating: 0, count: FixedPointMFCC.scratchBytes(config: c) / 8)
        pcm.withUnsafeBufferPointer { p in
            db.withUnsafeMutableBufferPointer { d in scratch.withUnsafeMutableBytes { f.segmentLogMel(p, into: d, scratch: $0) } }
        }
        XCTAssertEqual(Set(db), [-100 * 65536])
    }

    // MARK: Streaming

    func testInteriorFramesAreReusableAndEdgeFramesAreNot() throws {
        let c = smallConfig, f = try FixedPointMFCC(config: c, tables: testFrontendTables(c))
        XCTAssertEqual(f.interiorFrames, 2..<31)  // frame t covers t*64-128 ..< t*64+128 of 2048 samples
        let d = 5, n = Int(c.segmentSamples)
        let long = testSignal(count: n + d * f.hop, amplitude: 20000, seed: 9)
        let a = Array(long[0..<n]), b = Array(long[(d * f.hop)...])
        var scratch = [UInt64](repeating: 0, count: FixedPointMFCC.frameScratchBytes(config: c) / 8)
        func mel(_ s: [Int16], _ t: Int) -> ([UInt64], Int32) {
            var m = [UInt64](repeating: 0, count: f.nMels)
            let e = s.withUnsafeBufferPointer { p in
                m.withUnsafeMutableBufferPointer { mp in scratch.withUnsafeMutableBytes { f.melPower(segment: p, frameIndex: t, into: mp, scratch: $0) } }
            }
            return (m, e)
        }
        for t in 0..<f.frameCount {
            let reusable = f.interiorFrames.contains(t) && f.interiorFrames.contains(t + d)
            if t + d < f.frameCount {
                let same = mel(b, t) == mel(a, t + d)
                if reusable { XCTAssertTrue(same, "frame \(t)") }
                if t < f.interiorFrames.lowerBound { XCTAssertFalse(same, "edge frame \(t) should differ") }
            }
            // The frame-level entry point on an interior frame's own samples gives the same mel power.
            if f.interiorFrames.contains(t) {
                var m = [UInt64](repeating: 0, count: f.nMels)
                let frame = Array(a[(t * f.hop - f.pad)..<(t * f.hop - f.pad + f.nFFT)])
                let e = frame.withUnsafeBufferPointer { p in
                    m.withUnsafeMutableBufferPointer { mp in scratch.withUnsafeMutableBytes { f.melPower(frame: p, into: mp, scratch: $0) } }
                }
                XCTAssertTrue((m, e) == mel(a, t))
            }
        }
        // finishSegment over per-frame mel powers equals segment().
        var mels = [UInt64](), exps = [Int32]()
        for t in 0..<f.frameCount { let (m, e) = mel(b, t); mels += m; exps.append(e) }
        var viaFrames = [Int32](repeating: 0, count: f.frameCount * f.nMFCC), direct = viaFrames
        var logMel = [Int32](repeating: 0, count: f.frameCount * f.nMels)
        mels.withUnsafeBufferPointer { mp in exps.withUnsafeBufferPointer { ep in
            logMel.withUnsafeMutableBufferPointer { l in viaFrames.withUnsafeMutableBufferPointer {
                f.finishSegment(melPower: mp, exponents: ep, logMelScratch: l, into: $0) } } } }
        var seg = [UInt64](repeating: 0, count: FixedPointMFCC.scratchBytes(config: c) / 8)
        b.withUnsafeBufferPointer { p in direct.withUnsafeMutableBufferPointer { o in seg.withUnsafeMutableBytes { f.segment(p, into: o, scratch: $0) } } }
        XCTAssertEqual(viaFrames, direct)
    }

    func testPaperConfigScratchAndInteriorFrames() throws {
        let f = try FixedPointMFCC(config: .paper, tables: testFrontendTables(.paper))
        XCTAssertEqual(f.interiorFrames, 2..<128)
        XCTAssertEqual(FixedPointMFCC.scratchBytes(config: .paper), 232_976)
        XCTAssertEqual(f.frameCount, 130)
    }

    // MARK: Model file and validation

    func testFromModelFileEqualsFromTables() throws {
        let c = smallConfig, t = testFrontendTables(c)
        var b = ModelBuilder()
        b.featureConfig = c
        let x = b.addActivation(.int8, shape: [4], zeroPoint: 1)
        let y = b.addFullyConnected(input: x, weights: [1, 2, 3, 4, 5, 6, 7, 8], outputs: 2, bias: [0, 0],
                                    multipliers: [1 << 30, 1 << 30], shifts: [0, 0], outputZeroPoint: 0)
        b.inputTensor = x; b.outputTensor = y
        b.frontend = t
        let bytes = AlignedBytes(b.encode())
        let file = try ModelFile(bytes: bytes.raw)
        let back = try XCTUnwrap(file.frontendTables())
        XCTAssertEqual(back.window, t.window); XCTAssertEqual(back.melWeights, t.melWeights); XCTAssertEqual(back.dct, t.dct)
        XCTAssertEqual(back.melWeightExponent, t.melWeightExponent); XCTAssertEqual(back.dctExponent, t.dctExponent)
        XCTAssertTrue(back.melSpans.map { [$0.firstBin, $0.binCount] } == t.melSpans.map { [$0.firstBin, $0.binCount] })
        let f1 = try FixedPointMFCC(model: file), f2 = try FixedPointMFCC(config: c, tables: t)
        let pcm = testSignal(count: Int(c.segmentSamples), amplitude: 9000, seed: 4)
        var o1 = [Int32](repeating: 0, count: f1.frameCount * f1.nMFCC), o2 = o1
        var s = [UInt64](repeating: 0, count: FixedPointMFCC.scratchBytes(config: c) / 8)
        pcm.withUnsafeBufferPointer { p in
            o1.withUnsafeMutableBufferPointer { o in s.withUnsafeMutableBytes { f1.segment(p, into: o, scratch: $0) } }
            o2.withUnsafeMutableBufferPointer { o in s.withUnsafeMutableBytes { f2.segment(p, into: o, scratch: $0) } }
        }
        XCTAssertEqual(o1, o2)
        // Without a frontend section the model cannot give a frontend.
        b.frontend = nil
        let plain = AlignedBytes(b.encode())
        XCTAssertThrowsError(try FixedPointMFCC(model: try ModelFile(bytes: plain.raw)))
    }

    func testRejectsTablesThatDoNotFit() {
        let c = smallConfig
        var t = testFrontendTables(c)
        t.melWeights[3] = -1
        XCTAssertThrowsError(try FixedPointMFCC(config: c, tables: t))
        t = testFrontendTables(c); t.window[100] += 2  // not the Hann window
        XCTAssertThrowsError(try FixedPointMFCC(config: c, tables: t))
        t = testFrontendTables(c); t.window.removeLast()
        XCTAssertThrowsError(try FixedPointMFCC(config: c, tables: t))
        t = testFrontendTables(c); t.melSpans[0].binCount += 1
        XCTAssertThrowsError(try FixedPointMFCC(config: c, tables: t))
        var c1 = c; c1.spectrumPower = 1
        XCTAssertThrowsError(try FixedPointMFCC(config: c1, tables: testFrontendTables(c1)))
    }
}
