import CRNNRuntime
import Foundation

/// Single-thread throughput of the float MFCC, for `crnn-train bench-mfcc` and tools/reference/bench_mfcc.py
/// (which compares it with librosa on the same number of segments).
///
/// Validates before it times: the MFCC of silence must be the closed form (c0 = 10 log10(amin) * sqrt(nMels),
/// the rest 0) and every benchmark output must be finite.
///
/// Example: `let r = try MFCCBenchmark.run(segments: 500); print(r.summaryLine)`
public enum MFCCBenchmark {
    public struct Result: Sendable {
        public let segments: Int
        public let msPerSegment: Double
        public let totalSeconds: Double
        /// Sum of all outputs, printed so the work cannot be optimised away and runs can be compared.
        public let checksum: Double
        /// One line the benchmark script parses: `bench-mfcc segments=N ms_per_segment=X ...`.
        public var summaryLine: String {
            "bench-mfcc segments=\(segments) threads=1 ms_per_segment=\(String(format: "%.4f", msPerSegment)) "
                + "segments_per_s=\(String(format: "%.1f", 1000 / msPerSegment)) checksum=\(String(format: "%.6e", checksum))"
        }
    }

    public struct ValidationError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Times `segments` calls of `MFCCExtractor.mfcc` on one thread, after a validation and a warm-up.
    /// Segments are deterministic synthetic audio (tones plus noise), 8 distinct ones cycled.
    public static func run(segments: Int, config: FeatureConfig = .paper) throws -> Result {
        precondition(segments > 0)
        let extractor: MFCCExtractor
        do { extractor = try MFCCExtractor(config: config) } catch { throw ValidationError(description: error.description) }
        let n = Int(config.segmentSamples), nMels = Int(config.nMels), nMFCC = Int(config.nMFCC)

        // Validate: silence gives the closed form.
        let silence = extractor.mfcc(segment: [Float](repeating: 0, count: n))
        let c0 = Double(10 * log10f(extractor.amin) - extractor.refDb) * Double(nMels).squareRoot()
        for t in 0..<config.frameCount {
            for k in 0..<nMFCC {
                let v = Double(silence[t * nMFCC + k]), want = k == 0 ? c0 : 0
                if abs(v - want) > 1e-3 * max(1, abs(want)) {
                    throw ValidationError(description: "silence MFCC[\(t)][\(k)] = \(v), expected \(want)")
                }
            }
        }

        var rng: UInt64 = 12345
        let inputs: [[Float]] = (0..<8).map { s in
            (0..<n).map { i in
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                let noise = Float(Int64(bitPattern: rng) >> 40) / Float(1 << 23)
                let phase = Double(i) * 2 * Double.pi * Double(110 * (s + 1)) / Double(config.sampleRate)
                return 0.4 * Float(sin(phase)) + 0.1 * noise
            }
        }
        for x in inputs {  // warm-up and output check
            let m = extractor.mfcc(segment: x)
            guard m.allSatisfy(\.isFinite) else { throw ValidationError(description: "non-finite MFCC") }
        }

        var checksum = 0.0
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<segments {
            let m = extractor.mfcc(segment: inputs[i & 7])
            checksum += Double(m[i % m.count])
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Result(segments: segments, msPerSegment: seconds * 1000 / Double(segments),
                      totalSeconds: seconds, checksum: checksum)
    }
}
