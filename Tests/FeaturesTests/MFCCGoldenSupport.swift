import CRNNRuntime
import Foundation
import XCTest

/// The golden files written by tools/reference/mfcc_goldens.py (librosa 0.11.0) in Fixtures/mfcc.
struct MFCCGoldens: Decodable {
    struct SignalSpec: Decodable {
        let kind: String
        let file: String?
        let count: Int?
        let halfPeriod: Int?
        let amplitude: Float?
        let source: String?
        let scale: Float?
        let gain: Float?
        let limit: Float?
        let sum: Double
        let sumOfSquares: Double
    }
    struct Config: Decodable {
        let sampleRate, segmentSamples, nFFT, hopLength, nMels, nMFCC, fMinHz, fMaxHz: Int32
        let topDbCentibels, aminExponent, refPowerExponent, spectrumPower: Int32
        let center: Bool
        var featureConfig: FeatureConfig {
            FeatureConfig(sampleRate: sampleRate, segmentSamples: segmentSamples, nFFT: nFFT, hopLength: hopLength,
                          nMels: nMels, nMFCC: nMFCC, fMinHz: fMinHz, fMaxHz: fMaxHz,
                          topDbCentibels: topDbCentibels, aminExponent: aminExponent,
                          refPowerExponent: refPowerExponent, spectrumPower: spectrumPower, center: center)
        }
    }
    struct Case: Decodable {
        let name, signal: String
        let config: Config
        let frames, nMFCC: Int
        let mfcc: String
        let logmel: String?
    }
    struct MelBasis: Decodable {
        let file: String
        let spans: [[Int]]
    }
    struct Gtzan: Decodable {
        let file: String
        let segmentIndex: Int
        let mfcc: String
        let frames, nMFCC: Int
        let config: Config
        let segmentSum: Double
    }
    let generator: String
    let versions: [String: String]
    let signals: [String: SignalSpec]
    let cases: [Case]
    let melBasisPaper: MelBasis
    let gtzan: Gtzan?

    static let directory: URL = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/mfcc")

    static func load() throws -> MFCCGoldens {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        return try JSONDecoder().decode(MFCCGoldens.self, from: data)
    }

    /// Float32 little-endian values of a fixture file.
    static func floats(_ file: String) throws -> [Float] {
        let data = try Data(contentsOf: directory.appendingPathComponent(file))
        precondition(data.count % 4 == 0)
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
    }

    /// The input signal `name`, read from its file or rebuilt by float32 operations that are exact
    /// (so bit-identical to the script's), then checked against the sums the script recorded.
    func signal(_ name: String) throws -> [Float] {
        guard let spec = signals[name] else { throw GoldenError("no signal \(name) in the manifest") }
        let x: [Float]
        switch spec.kind {
        case "file":
            x = try MFCCGoldens.floats(spec.file!)
        case "zeros":
            x = [Float](repeating: 0, count: spec.count!)
        case "square":
            let a = spec.amplitude!, h = spec.halfPeriod!
            x = (0..<spec.count!).map { ($0 / h) % 2 == 0 ? a : -a }
        case "scaled":
            let s = spec.scale!
            x = try signal(spec.source!).map { $0 * s }
        case "clipped":
            let g = spec.gain!, l = spec.limit!
            x = try signal(spec.source!).map { min(max($0 * g, -l), l) }
        case "prefix":
            x = Array(try signal(spec.source!).prefix(spec.count!))
        default:
            throw GoldenError("unknown signal kind \(spec.kind)")
        }
        let sum = x.reduce(0.0) { $0 + Double($1) }
        let sumSq = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        guard abs(sum - spec.sum) <= 1e-9 * max(1, abs(spec.sum)) + 1e-6,
              abs(sumSq - spec.sumOfSquares) <= 1e-9 * max(1, spec.sumOfSquares)
        else { throw GoldenError("signal \(name) differs from the script's (sum \(sum) vs \(spec.sum))") }
        return x
    }
}

struct GoldenError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Largest absolute difference between two frame-major matrices and where it occurs.
struct MaxError: CustomStringConvertible {
    var value: Float = 0
    var row = 0, column = 0
    var actual: Float = 0, expected: Float = 0

    init(_ actual: [Float], _ expected: [Float], columns: Int) {
        precondition(actual.count == expected.count, "\(actual.count) values vs \(expected.count) expected")
        for i in 0..<actual.count {
            let d = abs(actual[i] - expected[i])
            if d > value || d.isNaN {
                value = d.isNaN ? .infinity : d
                row = i / columns
                column = i % columns
                self.actual = actual[i]
                self.expected = expected[i]
            }
        }
    }

    var description: String {
        "max |err| = \(value) at frame \(row), index \(column) (swift \(actual), librosa \(expected))"
    }
}
