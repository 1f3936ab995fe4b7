import CRNNRuntime
import Foundation
import Features
import XCTest

/// Float MFCC against librosa 0.11.0 goldens (tools/reference/mfcc_goldens.py): every coefficient of every golden
/// must be within 0.01 of librosa's.
final class MFCCGoldenTests: XCTestCase {
    static let mfccTolerance: Float = 0.01
    /// The log-mel dB values (before the DCT) are compared with the same absolute tolerance, in dB.
    static let logMelToleranceDb: Float = 0.01

    func testManifestSaysWhoMadeIt() throws {
        let g = try MFCCGoldens.load()
        // The committed goldens record the script's path when they were made (tools/mfcc_goldens.py, before it moved to
        // tools/reference/); a regeneration records the new one.
        XCTAssertTrue(["tools/mfcc_goldens.py", "tools/reference/mfcc_goldens.py"].contains(g.generator), g.generator)
        XCTAssertEqual(g.versions["librosa"], "0.11.0")
        XCTAssertNotNil(g.versions["numpy"])
        XCTAssertGreaterThanOrEqual(g.cases.count, 10)
    }

    func testEveryGoldenMFCCMatchesLibrosa() throws {
        let g = try MFCCGoldens.load()
        for c in g.cases {
            let config = c.config.featureConfig
            let extractor = try MFCCExtractor(config: config)
            XCTAssertEqual(config.frameCount, c.frames, c.name)
            XCTAssertEqual(Int(config.nMFCC), c.nMFCC, c.name)
            let got = extractor.mfcc(segment: try g.signal(c.signal))
            let expected = try MFCCGoldens.floats(c.mfcc)
            let err = MaxError(got, expected, columns: c.nMFCC)
            print("golden \(c.name): MFCC \(err)")
            XCTAssertLessThanOrEqual(err.value, Self.mfccTolerance, "\(c.name): \(err)")
        }
    }

    func testGoldenLogMelMatchesLibrosa() throws {
        let g = try MFCCGoldens.load()
        var compared = 0
        for c in g.cases {
            guard let file = c.logmel else { continue }
            let config = c.config.featureConfig
            let got = try MFCCExtractor(config: config).logMelSpectrogram(segment: try g.signal(c.signal))
            let err = MaxError(got, try MFCCGoldens.floats(file), columns: Int(config.nMels))
            print("golden \(c.name): log-mel dB \(err)")
            XCTAssertLessThanOrEqual(err.value, Self.logMelToleranceDb, "\(c.name): \(err)")
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 3)
    }

    /// Silence: every mel power is 0, so every dB value is 10 log10(amin) (amin = Float32(1e-10), so
    /// -100.00001 in Float32, as librosa has it); top_db does not bind (the maximum is the same value) and
    /// only c0 = that * sqrt(128) is non-zero.
    func testSilenceIsTheAminFloor() throws {
        let extractor = try MFCCExtractor()
        let zeros = [Float](repeating: 0, count: 66150)
        let logMel = extractor.logMelSpectrogram(segment: zeros)
        let floorDb = 10 * log10f(Float(1e-10 as Double))
        XCTAssertTrue(logMel.allSatisfy { $0 == floorDb }, "log-mel of silence should be 10 log10(amin) dB")
        let m = extractor.mfcc(segment: zeros)
        XCTAssertEqual(Double(m[0]), Double(floorDb) * 128.0.squareRoot(), accuracy: 2e-4)
        XCTAssertEqual(m[23], m[0])
        XCTAssertTrue((1..<23).allSatisfy { abs(m[$0]) < 1e-3 })
    }

    /// librosa.filters.mel for the paper config: same non-zero spans, same Float32 weights.
    func testMelFilterBankMatchesLibrosa() throws {
        let g = try MFCCGoldens.load()
        let bank = MelFilterBank(config: .paper)
        let expected = try MFCCGoldens.floats(g.melBasisPaper.file)
        XCTAssertEqual(bank.nMels, 128)
        XCTAssertEqual(bank.binCount, 1025)
        XCTAssertEqual(bank.spans.map { [$0.lowerBound, $0.upperBound] }, g.melBasisPaper.spans)
        XCTAssertEqual(bank.packedWeights.count, expected.count)
        var maxRel: Float = 0, exact = 0
        for (a, b) in zip(bank.packedWeights, expected) {
            maxRel = max(maxRel, abs(a - b) / abs(b))
            if a == b { exact += 1 }
        }
        print("mel filter bank: \(exact) of \(expected.count) weights bit-identical, max relative error \(maxRel)")
        XCTAssertLessThanOrEqual(maxRel, 1e-6)
        // Outside the spans the dense matrix is zero.
        for m in 0..<bank.nMels {
            for k in 0..<bank.binCount where !bank.spans[m].contains(k) {
                XCTAssertEqual(bank.weights[m * bank.binCount + k], 0)
            }
        }
    }

    func testDCTMatrixIsOrthonormalDCTII() {
        let d = DCTMatrix(nMFCC: 128, nMels: 128)
        for a in [0, 1, 5, 22, 127] {
            for b in [0, 1, 5, 22, 127] {
                var s = 0.0
                for i in 0..<128 { s += Double(d.values[a * 128 + i]) * Double(d.values[b * 128 + i]) }
                XCTAssertEqual(s, a == b ? 1 : 0, accuracy: 1e-6, "rows \(a), \(b)")
            }
        }
        XCTAssertEqual(d.values[0], Float(1 / Double(128).squareRoot()))
        let small = DCTMatrix(config: .paper)
        XCTAssertEqual(small.values, Array(d.values.prefix(23 * 128)))
        XCTAssertEqual(small.transposed[5 * 23 + 7], small.values[7 * 128 + 5])
    }

    func testHannWindowIsPeriodic() {
        let w = SpectrogramWindow.hannPeriodic(length: 2048)
        XCTAssertEqual(w[0], 0)
        XCTAssertEqual(w[1024], 1)
        for i in 1..<1024 { XCTAssertEqual(w[i], w[2048 - i], "w[\(i)]") }
        XCTAssertEqual(w[512], 0.5, accuracy: 1e-7)
    }

    func testInvalidConfigThrows() {
        var bad = FeatureConfig.paper
        bad.nFFT = 1000
        XCTAssertThrowsError(try MFCCExtractor(config: bad))
        bad = .paper
        bad.nMFCC = 200
        XCTAssertThrowsError(try MFCCExtractor(config: bad))
    }
}

final class MelDecibelsTests: XCTestCase {
    /// The vectorisable 10 log10 is within one Float32 rounding of the Float64 value, over the whole range a
    /// mel power can take above amin (1e-10 ... 1e12), including exact powers of two and of ten.
    func testTenLog10AgainstFloat64() {
        var worstUlps: Float = 0
        var x: Float = 1e-10
        var values: [Float] = [1, 2, 0.5, 10, 100, 1e-10, Float.leastNormalMagnitude, Float.greatestFiniteMagnitude,
                               1.4142135, 1.4142137, 0.70710677]
        while x < 1e12 { values.append(x); x *= 1.0007 }
        for v in values {
            let exact = 10 * Foundation.log10(Double(v))
            let got = MelDecibels.tenLog10(v)
            let ulps = Float(abs(Double(got) - exact)) / max(Float(abs(exact)).ulp, Float.leastNormalMagnitude)
            worstUlps = max(worstUlps, ulps)
        }
        print("MelDecibels.tenLog10: worst error \(worstUlps) Float32 ulps over \(values.count) values")
        XCTAssertLessThanOrEqual(worstUlps, 0.5001)
        XCTAssertEqual(MelDecibels.tenLog10(100), 20)
        XCTAssertEqual(MelDecibels.tenLog10(1), 0)
    }
}
