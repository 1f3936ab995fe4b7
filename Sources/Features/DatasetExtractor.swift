import AudioIO
import CRNNRuntime
import Foundation

/// What an extraction did. `line` is the one summary line `crnn-train features` ends with.
public struct ExtractionSummary: Sendable {
    public var clips: Int
    public var segments: Int
    public var skipped: Int
    /// Seconds of audio in the extracted segments.
    public var audioSeconds: Double
    public var wallSeconds: Double
    /// One message per skipped clip: the file and the reason.
    public var warnings: [String]

    public var speedRealTime: Double { wallSeconds > 0 ? audioSeconds / wallSeconds : 0 }

    public var line: String {
        String(format: "clips: %d, segments: %d, skipped: %d, audio: %.2f h, speed: %.0fx real time",
               clips, segments, skipped, audioSeconds / 3600, speedRealTime)
    }
}

/// Cuts every clip of a dataset into full, non-overlapping segments and computes their MFCCs,
/// on all cores, into a `FeatureCache`.
public enum DatasetExtractor {
    /// Number of segments a clip of `sampleCount` samples yields (`FeatureConfig.segmentCount`), capped by `maxSegments`.
    public static func segmentCount(sampleCount: Int, config: FeatureConfig, maxSegments: Int?) -> Int {
        let n = config.segmentCount(sampleCount: sampleCount)
        return maxSegments.map { min($0, n) } ?? n
    }

    /// Segment `k` of a clip: samples `k*L ..< (k+1)*L`, zero-padded at the end when the clip stops short
    /// (only the last segment, by at most 1 %; see `FeatureConfig.segmentCount`).
    public static func segment(_ k: Int, of audio: [Float], config: FeatureConfig) -> [Float] {
        let L = Int(config.segmentSamples)
        let start = k * L, end = min(audio.count, start + L)
        var seg = Array(audio[start ..< end])
        if seg.count < L { seg += [Float](repeating: 0, count: L - seg.count) }
        return seg
    }

    /// The first segment whose MFCCs hold a NaN or infinity (a float file with absurd sample values, e.g. 1e30,
    /// overflows the power spectrum), or nil. Such a clip is refused rather than poisoning training.
    public static func nonFiniteSegment(_ features: [Float], config: FeatureConfig) -> Int? {
        guard let i = features.firstIndex(where: { !$0.isFinite }) else { return nil }
        return i / max(1, config.valuesPerSegment)
    }

    /// Extracts `clips` (all of `index` by default). Unreadable or too-short clips are skipped and
    /// reported in `warnings`; they do not stop the run.
    public static func extract(
        index: DatasetIndex, clips: ArraySlice<DatasetClip>? = nil, config: FeatureConfig = .paper,
        maxSegments: Int? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        shard: (index: Int, count: Int) = (1, 1), showProgress: Bool = true
    ) throws(DatasetError) -> (FeatureCache, ExtractionSummary) {
        let todo = Array(clips ?? index.clips[...])
        let extractor: MFCCExtractor
        do { extractor = try MFCCExtractor(config: config) } catch { throw DatasetError(error.description) }
        let L = Int(config.segmentSamples)
        let progress = showProgress ? ProgressBar(total: todo.count, label: "features", unit: "clips") : nil
        let start = Date()

        final class Slots: @unchecked Sendable {
            var results: [Result<[Float], DatasetError>?]
            let lock = NSLock()
            var next = 0
            init(_ n: Int) { results = Array(repeating: nil, count: n) }
            func take() -> Int { lock.lock(); defer { lock.unlock() }; next += 1; return next - 1 }
            func put(_ i: Int, _ r: Result<[Float], DatasetError>) { lock.lock(); results[i] = r; lock.unlock() }
        }
        let slots = Slots(todo.count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, todo.count))) { _ in
            while true {
                let i = slots.take()
                if i >= todo.count { break }
                let clip = todo[i]
                let path = index.path(of: clip)
                let result: Result<[Float], DatasetError>
                do throws(AudioError) {
                    let audio = try AudioDecoder.decodeMono(path: path, sampleRate: Int(config.sampleRate))
                    let count = segmentCount(sampleCount: audio.count, config: config, maxSegments: maxSegments)
                    if count == 0 {
                        let secs = Double(audio.count) / Double(config.sampleRate)
                        result = .failure(DatasetError(String(format: "%@: too short (%.2f s; a segment is %.2f s)", path, secs, Double(L) / Double(config.sampleRate))))
                    } else {
                        var feats: [Float] = []
                        feats.reserveCapacity(count * config.valuesPerSegment)
                        for k in 0..<count { feats += extractor.mfcc(segment: segment(k, of: audio, config: config)) }
                        if let bad = nonFiniteSegment(feats, config: config) {
                            result = .failure(DatasetError("\(path): segment \(bad) gives non-finite MFCCs (samples far outside [-1, 1])"))
                        } else {
                            result = .success(feats)
                        }
                    }
                } catch {
                    result = .failure(DatasetError(error.description))
                }
                slots.put(i, result)
                progress?.advance()
            }
        }
        progress?.finish()

        var cache = FeatureCache(config: config, labels: index.labels, tracks: [], values: [],
                                 shardIndex: shard.index, shardCount: shard.count)
        var summary = ExtractionSummary(clips: 0, segments: 0, skipped: 0, audioSeconds: 0, wallSeconds: 0, warnings: [])
        for (i, clip) in todo.enumerated() {
            switch slots.results[i]! {
            case .success(let feats):
                let n = feats.count / config.valuesPerSegment
                cache.tracks.append(FeatureTrack(trackID: clip.trackID, relativePath: clip.relativePath, label: clip.label,
                                                 firstSegment: cache.segmentCount, segmentCount: n))
                cache.values += feats
                summary.clips += 1
                summary.segments += n
            case .failure(let e):
                summary.skipped += 1
                summary.warnings.append(e.description)
            }
        }
        summary.audioSeconds = Double(summary.segments * L) / Double(config.sampleRate)
        summary.wallSeconds = Date().timeIntervalSince(start)
        return (cache, summary)
    }
}
