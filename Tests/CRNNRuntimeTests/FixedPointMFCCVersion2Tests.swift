// Runtime-only tests of front end version 2 (docs/fixed-point-mfcc.md §12): the radix-4 FFT and its stage kernels
// against a Float64 DFT and each other, the table log, the Int16 frame log-mel against a Float64 pipeline with the
// same weights, and its agreement with version 1. Helpers (dft, float64FrameLogMel, testSignal) are in
// FixedPointMFCCTests.swift.
import Foundation
import XCTest
@testable import CRNNRuntime

final class FixedPointMFCCVersion2Tests: XCTestCase {
    /// Power spectrum of `x` (|x| <= 2^28) by FixedRealFFTV2, bins 0...n/2 in natural order, and its exponent.
    func powerV2(_ fft: FixedRealFFTV2, _ x: [Int32]) -> ([UInt64], Int32) {
        let n = x.count
        var work = [UInt64](repeating: 0, count: FixedRealFFTV2.workCount(n: n) / 2)  // 8-byte aligned
        var bound: UInt32 = 0
        for v in x { bound |= magnitudeBits(v) }
        return work.withUnsafeMutableBytes { raw in
            let z = raw.baseAddress!.bindMemory(to: Int32.self, capacity: n + 2)
            for j in 0..<n { z[j] = x[j] }
            if bound == 0 { return ([UInt64](repeating: 0, count: n / 2 + 1), 0) }
            let (e, or) = fft.powerSpectrum(z, bound: bound)
            let p = raw.baseAddress!.assumingMemoryBound(to: UInt64.self)
            let out = (0...(n / 2)).map { p[fft.slot($0)] }
            XCTAssertEqual(out.reduce(0, |), or)
            return (out, e)
        }
    }

    func testDigitReversalIsAPermutation() {
        for n in [16, 32, 64, 2048, 16384] {
            let fft = FixedRealFFTV2(n: n)
            XCTAssertEqual(Set((0...(n / 2)).map { fft.slot($0) }).count, n / 2 + 1, "n \(n)")
            XCTAssertEqual(fft.slot(0), 0)
            XCTAssertEqual(fft.slot(n / 2), n / 2)
            XCTAssertEqual(fft.lastIsRadix2, [16, 64, 16384].contains(n))  // log2(n/2) odd
        }
    }

    /// Error bound of the version-2 FFT relative to the largest bin's magnitude: every radix-4 stage, the last
    /// stage and the split round once per component (0.5 LSB; twiddle rounding < 0.51 * 2^-30 of the value) at a
    /// scale where the data's largest component is >= 2^25 (the shift keeps it in (2^25, 2^28]), and later stages
    /// grow an error no faster than the signal: relative error < levels * sqrt(2) * 2^-25 < log2(n) * 2^-24.
    /// Inputs far below 2^25 are not scaled up (the frame step normalises its input to 2^28 first): there the
    /// stages shift nothing and the twiddle products' roundings (0.5 LSB each) add up through the later stages
    /// (random-walk growth sqrt(n)): absolute bound levels * sqrt(n) / 4 LSB.
    func testFFTV2MatchesFloat64DFT() {
        var g = SplitMix64(seed: 11)
        let top: Int32 = 1 << 28
        for n in [16, 32, 64, 128, 512, 2048] {
            let fft = FixedRealFFTV2(n: n)
            var kinds: [[Int32]] = []
            kinds.append((0..<n).map { _ in Int32(g.int(-Int(top), Int(top))) })                    // full range
            kinds.append((0..<n).map { j in Int32(g.int(-32768, 32767)) * Int32(4096 - abs(2048 - (j * 4096 / n))) }) // pcm * window-ish
            kinds.append((0..<n).map { _ in Int32(g.int(-3, 3)) })                                   // tiny
            kinds.append((0..<n).map { j in Int32((sin(Double(j) * 0.7) * 1.3e8).rounded()) })       // sine
            kinds.append((0..<n).map { j in j == 3 ? -5 : 0 })                                       // impulse
            kinds.append([Int32](repeating: -top, count: n))                                         // extreme DC
            kinds.append((0..<n).map { j in j % 2 == 0 ? top : -top })                               // extreme Nyquist
            let levels = Double(Int(log2(Double(n))))
            for (kind, x) in kinds.enumerated() {
                let (p, e) = powerV2(fft, x)
                let ref = dft(x)
                let mags = ref.map { ($0.0 * $0.0 + $0.1 * $0.1).squareRoot() }
                let peak = mags.max()!
                var worst = 0.0
                for k in 0...(n / 2) {
                    XCTAssertLessThan(p[k], UInt64(1) << 59)
                    worst = max(worst, abs((Double(p[k]) * pow(2, Double(e))).squareRoot() - mags[k]))
                }
                XCTAssertLessThanOrEqual(worst, levels * (pow(2, -24) * peak + Double(n).squareRoot() / 4), "n \(n) kind \(kind)")
                if peak > pow(2, 27) { XCTAssertLessThanOrEqual(worst / peak, levels * pow(2, -24), "n \(n) kind \(kind)") }
            }
        }
        // An impulse and the DC of a constant frame are exact.
        let fft = FixedRealFFTV2(n: 64)
        var x = [Int32](repeating: 0, count: 64)
        x[0] = 12345
        let (p, e) = powerV2(fft, x)
        for k in 0...32 { XCTAssertEqual(Double(p[k]) * pow(2, Double(e)), 12345.0 * 12345.0) }
    }

    /// Every stage kernel gives the portable kernel's bits: random stage inputs in [-2^28, 2^28 - 1] (the stage's
    /// input range) and the extremes, every stage length of several FFT sizes, shifts 0...5.
    func testStageKernelsAgreeBitForBit() {
        var g = SplitMix64(seed: 21)
        let kernels: [(String, FFTRadix4StageKernel.Type)] = {
            var k: [(String, FFTRadix4StageKernel.Type)] = [("portable", FFTRadix4StagePortable.self)]
            #if arch(x86_64)
            k.append(("sse2", FFTRadix4StageSSE2.self))
            #endif
            #if arch(arm64)  // on x86-64 hosts the NEON kernel is checked under QEMU: tools/conv_variants_qemu.sh
            k.append(("neon", FFTRadix4StageNEON.self))
            #endif
            return k
        }()
        print("FFT stage kernels tested: \(kernels.map { $0.0 }), selected: \(fftSelectedRadix4KernelName)")
        for n in [16, 32, 64, 256, 2048, 16384] {
            let fft = FixedRealFFTV2(n: n)
            var t = 0, p = 0
            for l in fft.stageLengths {
                for s: Int32 in 0...5 {
                    for kind in 0..<3 {
                        let input: [Int32] = (0..<n).map { _ in
                            switch kind {
                            case 0: return Int32(g.int(-(1 << 28), (1 << 28) - 1))
                            case 1: return g.next() % 2 == 0 ? -(1 << 28) : (1 << 28) - 1
                            default: return Int32(g.int(-40000, 40000))
                            }
                        }
                        var results: [([Int32], UInt32)] = []
                        for (_, k) in kernels {
                            var z = input
                            let acc = fft.stageTwiddles.withUnsafeBufferPointer { tb in
                                fft.packedTwiddles.withUnsafeBufferPointer { pb in
                                    z.withUnsafeMutableBufferPointer {
                                        k.stage($0.baseAddress!, half: n / 2, length: l, twiddles: tb.baseAddress! + t,
                                                packed: pb.baseAddress! + p, shift: s)
                                    }
                                }
                            }
                            results.append((z, acc))
                        }
                        for r in results.dropFirst() {
                            XCTAssertEqual(r.0, results[0].0, "n \(n) L \(l) s \(s) kind \(kind)")
                            XCTAssertEqual(r.1, results[0].1, "n \(n) L \(l) s \(s) kind \(kind)")
                        }
                    }
                }
                t += 6 * (l / 4)
                p += 48 * (l / 4)
            }
        }
    }

    func testTableLog2Accuracy() {
        let table = makeLog2Table()
        XCTAssertEqual(table.count, 129)
        XCTAssertEqual(table[0], 0)
        XCTAssertEqual(table[128], 1 << 20)
        var worst = 0.0
        table.withUnsafeBufferPointer { t in
            func check(_ x: UInt64) {
                let err = abs(Double(log2Q20Table(x, t.baseAddress!)) - log2(Double(x)) * 1_048_576)
                worst = max(worst, err)
            }
            for x in UInt64(1)...(1 << 17) { check(x) }
            var g = SplitMix64(seed: 3)
            for _ in 0..<20000 { check(max(1, g.next() >> (g.next() % 64))) }
            for b in 0..<64 { check(UInt64(1) << UInt64(b)); check((UInt64(1) << UInt64(b)) | ((UInt64(1) << UInt64(b)) - 1)) }
        }
        XCTAssertLessThanOrEqual(worst, 13)  // in 2^-20
        XCTAssertEqual(makeLog2Table().withUnsafeBufferPointer { log2Q20Table(8, $0.baseAddress!) }, 3 << 20)
    }

    func version2(_ c: FeatureConfig) throws -> FixedPointMFCC {
        var t = testFrontendTables(c)
        t.version = 2
        return try FixedPointMFCC(config: c, tables: t)
    }

    func frame(_ f: FixedPointMFCC, _ source: [Int16], _ start: Int, version1: Bool = false) -> [Int16] {
        var out = [Int16](repeating: 0, count: f.nMels)
        var scratch = [UInt64](repeating: 0, count: FixedPointMFCC.frameLogMelScratchBytes(config: f.config) / 8)
        source.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in scratch.withUnsafeMutableBytes { r in
                if version1 { f.frameLogMelVersion1(source: s, start: start, into: o.baseAddress!, scratch: r) }
                else { f.frameLogMel(source: s, start: start, into: o.baseAddress!, scratch: r) }
            } }
        }
        return out
    }

    /// Version 2 against a Float64 pipeline with the same integer mel weights: the window, the FFT, the mel sums
    /// and the table log add < 0.0008 dB to the Int16 rounding's 2^-8 dB (0.0039), at several signal levels.
    func testVersion2PipelineMatchesFloat64() throws {
        let c = smallConfig, t = testFrontendTables(c), f = try version2(c)
        XCTAssertNotNil(f.frameV2)
        let n = Int(c.nFFT), hop = Int(c.hopLength), pad = n / 2
        var worstAll = 0.0
        for (i, amp) in [32767.0, 3000, 33, 1].enumerated() {
            let pcm = testSignal(count: Int(c.segmentSamples), amplitude: amp, seed: UInt64(10 + i))
            for fr in 0..<f.frameCount {
                let got = frame(f, pcm, fr * hop - pad)
                let ref = float64FrameLogMel(pcm, start: fr * hop - pad, config: c, tables: t)
                for m in 0..<f.nMels { worstAll = max(worstAll, abs(Double(got[m]) / 128 - ref[m])) }
            }
        }
        print(String(format: "version 2 frame log-mel vs Float64 (same weights): max |error| %.5f dB", worstAll))
        XCTAssertLessThanOrEqual(worstAll, 1.0 / 256 + 0.0008)
    }

    /// Zeros outside the source are the same as an explicitly zero-padded frame; silence is the amin floor;
    /// a frame whose loud samples sit where the window is tiny (windowed again with a smaller shift) agrees
    /// with the version-1 arithmetic.
    func testFrameLogMelPaddingSilenceAndEdgeClicks() throws {
        let c = smallConfig, f = try version2(c), n = f.nFFT
        let pcm = testSignal(count: 1000, amplitude: 12000, seed: 5)
        for start in [-200, -n, 0, 500, 900, 1000] {
            let padded: [Int16] = (0..<n).map { j in start + j >= 0 && start + j < pcm.count ? pcm[start + j] : 0 }
            XCTAssertEqual(frame(f, pcm, start), frame(f, padded, 0), "start \(start)")
        }
        XCTAssertEqual(Set(frame(f, [Int16](repeating: 0, count: n), 0)), [-12800])
        XCTAssertEqual(Set(frame(f, pcm, 1000)), [-12800])  // entirely past the end
        var clicks = [Int16](repeating: 0, count: n)
        clicks[1] = 30000; clicks[n - 2] = -32768; clicks[2] = 7
        for x in [clicks, testSignal(count: n, amplitude: 20000, seed: 6), testSignal(count: n, amplitude: 2, seed: 7)] {
            let a = frame(f, x, 0), b = frame(f, x, 0, version1: true)
            let top = Int(b.max()!)
            for m in 0..<f.nMels where Int(b[m]) > top - 80 * 128 {
                XCTAssertLessThanOrEqual(abs(Int(a[m]) - Int(b[m])), 1, "band \(m)")
            }
        }
    }

    /// The paper configuration's frame log-mel agrees with the version-1 arithmetic (1 LSB of 2^-7 dB) on the bands
    /// within 80 dB of the frame's strongest, and is the same on a second call.
    func testPaperConfigFrameAgreesWithVersion1() throws {
        let f = try version2(.paper)
        for (i, amp) in [32767.0, 300, 3].enumerated() {
            let x = testSignal(count: 2048, amplitude: amp, seed: UInt64(30 + i))
            let a = frame(f, x, 0), b = frame(f, x, 0, version1: true)
            XCTAssertEqual(a, frame(f, x, 0))
            let top = Int(b.max()!)
            var worst = 0
            for m in 0..<f.nMels where Int(b[m]) > top - 80 * 128 { worst = max(worst, abs(Int(a[m]) - Int(b[m]))) }
            print("version 2 vs version 1 frame log-mel, paper config, amplitude \(amp): max difference \(worst) (2^-7 dB)")
            XCTAssertLessThanOrEqual(worst, 2, "amplitude \(amp)")
        }
    }

    /// A whole paper-config segment: the same on every call, and within 0.05 of the version-1 MFCC.
    func testPaperConfigSegmentIsDeterministicAndCloseToVersion1() throws {
        let f2 = try version2(.paper), f1 = try FixedPointMFCC(config: .paper, tables: testFrontendTables(.paper))
        let pcm: [Int16] = (0..<66150).map { Int16((3277 * sin(2 * Double.pi * 440 * Double($0) / 22050 + 0.3)).rounded()) }
        var s = [UInt64](repeating: 0, count: FixedPointMFCC.scratchBytes(config: .paper) / 8)
        func run(_ f: FixedPointMFCC) -> [Int32] {
            var o = [Int32](repeating: 0, count: 130 * 23)
            pcm.withUnsafeBufferPointer { p in s.withUnsafeMutableBytes { sc in o.withUnsafeMutableBufferPointer { f.segment(p, into: $0, scratch: sc) } } }
            return o
        }
        let a = run(f2), b = run(f2), c = run(f1)
        XCTAssertEqual(a, b)
        let worst = zip(a, c).map { abs(Int($0) - Int($1)) }.max()!
        print("version 2 vs version 1 MFCC, paper config, sine: max difference \(worst) (2^-8)")
        XCTAssertLessThanOrEqual(worst, 13)  // 0.05 in 2^-8
    }

    func testVersion2ScratchForThePaperConfig() throws {
        let f = try version2(.paper)
        XCTAssertEqual(f.frameLogMelWorkBytes, 8200)
        XCTAssertEqual(f.segmentScratchBytes, 8200 + 2 * 130 * 128)
        XCTAssertLessThanOrEqual(f.segmentScratchBytes, FixedPointMFCC.scratchBytes(config: .paper))
        XCTAssertGreaterThanOrEqual(FixedPointMFCC.frameLogMelScratchBytes(config: .paper), 8200)
    }
}
