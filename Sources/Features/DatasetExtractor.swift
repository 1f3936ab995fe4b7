import AudioIO
import CRNNRuntime
import Foundation

/// What an extraction did. `line` is the one summary line `crnn-train features` ends with.
public struct ExtractionSummary: Sendable {
    public var clips: Int
    public var segments: Int
    public var skipped: Int
    /// Degraded training segments (`--augment`), not counted in `segments`.
    public var augmentedSegments = 0
    /// Seconds of audio in the extracted segments.
    public var audioSeconds: Double
    public var wallSeconds: Double
    /// One message per skipped clip: the file and the reason.
    public var warnings: [String]

    public var speedRealTime: Double { wallSeconds > 0 ? audioSeconds / wallSeconds : 0 }

    public var line: String {
        String(format: "clips: %d, segments: %d, skipped: %d, audio: %.2f h, speed: %.0fx real time",
               clips, segments, skipped, audioSeconds / 3600, speedRealTime)
            + (augmentedSegments > 0 ? ", augmented: \(augmentedSegments)" : "")
    }
}

/// Degraded training copies for `crnn-train features --augment`: which degradations, how many per clip, seed.
public struct AugmentationPlan: Sendable, Equatable {
    public var degradations: [Degradation]
    /// Degraded copies per clip: nil = one per degradation; k = k distinct ones drawn per clip (seeded).
    public var perClip: Int?
    public var seed: UInt64

    public init(degradations: [Degradation], perClip: Int? = nil, seed: UInt64 = 1) {
        self.degradations = degradations
        self.perClip = perClip
        self.seed = seed
    }

    /// Degradations known by name (`Degradation.description`): the standard set of docs/out-of-pool.md
    /// (MP3 even where libsndfile cannot write it: it then fails with a clear message).
    public static var known: [Degradation] {
        var d = Degradation.standard
        if !d.contains(.mp3(quality: 0.5)) { d.append(.mp3(quality: 0.5)) }
        return d
    }

    /// The default recipe's degraded copies (docs/out-of-pool.md, "Recipes measured": `aug5`): resampled through
    /// 16 kHz and 8 kHz, a 300-3400 Hz band-pass, white noise at 20 dB SNR and -10 dB gain, one copy each per clip.
    public static let recipeDefaultList = "resample-16k,resample-8k,bandpass-300-3400,noise-snr20db,gain-10db"

    /// The plan an `--augment` value names: `default` (the recipe's list), `none` (nil: no copies) or a list.
    public static func named(_ value: String, perClip: Int? = nil, seed: UInt64 = 1) throws(DatasetError) -> AugmentationPlan? {
        switch value {
        case "none": return nil
        case "default": return AugmentationPlan(degradations: try parse(recipeDefaultList), perClip: perClip, seed: seed)
        default: return AugmentationPlan(degradations: try parse(value), perClip: perClip, seed: seed)
        }
    }

    /// Parses a comma-separated list of names (`resample-16k,resample-8k,bandpass-300-3400,noise-snr20db`).
    public static func parse(_ list: String) throws(DatasetError) -> [Degradation] {
        var out: [Degradation] = []
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let d = known.first(where: { $0.description == name }) ?? Self.parametric(name) else {
                throw DatasetError("unknown degradation \"\(name)\" (known: \(known.map(\.description).joined(separator: ", ")); "
                    + "also gain<+|->Ndb, noise-snrNdb, resample-Nk with other numbers)")
            }
            if !out.contains(d) { out.append(d) }
        }
        if out.isEmpty { throw DatasetError("--augment needs at least one degradation name") }
        return out
    }

    /// Other levels of the parametric conditions: `gain-10db`, `gain+6db`, `noise-snr30db`, `resample-11k`
    /// (names as `Degradation.description` writes them).
    static func parametric(_ name: String) -> Degradation? {
        func number(_ s: Substring) -> Double? { Double(s).flatMap { $0.isFinite ? $0 : nil } }
        if name.hasPrefix("gain"), name.hasSuffix("db"), let g = number(name.dropFirst(4).dropLast(2)), abs(g) <= 60 {
            return .gain(dB: g)
        }
        if name.hasPrefix("noise-snr"), name.hasSuffix("db"), let snr = number(name.dropFirst(9).dropLast(2)), (-20...80).contains(snr) {
            return .noise(snrDB: snr)
        }
        if name.hasPrefix("resample-"), name.hasSuffix("k"), let k = Int(name.dropFirst(9).dropLast()), (4...48).contains(k) {
            return .resampleThrough(rate: k * 1000)
        }
        return nil
    }

    /// The degradations applied to a clip (its relative path seeds the draw, so shards and thread order
    /// do not change it) and the seed of each (for the noise).
    public func choose(for relativePath: String) -> [(Degradation, UInt64)] {
        let base = seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(fnv1a(Array(relativePath.utf8)))
        var rng = SeededGenerator(seed: base)
        var picked = degradations
        if let k = perClip, k < degradations.count {
            picked.shuffle(using: &rng)
            picked = Array(picked.prefix(max(0, k)))
            // Keep the listed order so a clip's copies come out in a fixed order.
            picked = degradations.filter { picked.contains($0) }
        }
        return picked.enumerated().map { ($0.element, base &+ UInt64($0.offset + 1) &* 0xD1B5_4A32_D192_ED03) }
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
        shard: (index: Int, count: Int) = (1, 1), showProgress: Bool = true, augment: AugmentationPlan? = nil
    ) throws(DatasetError) -> (FeatureCache, ExtractionSummary) {
        let todo = Array(clips ?? index.clips[...])
        let extractor: MFCCExtractor
        do { extractor = try MFCCExtractor(config: config) } catch { throw DatasetError(error.description) }
        let L = Int(config.segmentSamples)
        let progress = showProgress ? ProgressBar(total: todo.count, label: "features", unit: "clips") : nil
        let start = Date()

        typealias ClipFeatures = (clean: [Float], copies: [(String, [Float])])
        final class Slots: @unchecked Sendable {
            var results: [Result<ClipFeatures, DatasetError>?]
            let lock = NSLock()
            var next = 0
            init(_ n: Int) { results = Array(repeating: nil, count: n) }
            func take() -> Int { lock.lock(); defer { lock.unlock() }; next += 1; return next - 1 }
            func put(_ i: Int, _ r: Result<ClipFeatures, DatasetError>) { lock.lock(); results[i] = r; lock.unlock() }
        }
        let slots = Slots(todo.count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(threads, todo.count))) { _ in
            while true {
                let i = slots.take()
                if i >= todo.count { break }
                let clip = todo[i]
                let path = index.path(of: clip)
                let result: Result<ClipFeatures, DatasetError>
                func features(_ audio: [Float]) -> [Float] {
                    let count = segmentCount(sampleCount: audio.count, config: config, maxSegments: maxSegments)
                    var feats: [Float] = []
                    feats.reserveCapacity(count * config.valuesPerSegment)
                    for k in 0..<count { feats += extractor.mfcc(segment: segment(k, of: audio, config: config)) }
                    return feats
                }
                do throws(AudioError) {
                    let audio = try AudioDecoder.decodeMono(path: path, sampleRate: Int(config.sampleRate))
                    let count = segmentCount(sampleCount: audio.count, config: config, maxSegments: maxSegments)
                    if count == 0 {
                        let secs = Double(audio.count) / Double(config.sampleRate)
                        result = .failure(DatasetError(String(format: "%@: too short (%.2f s; a segment is %.2f s)", path, secs, Double(L) / Double(config.sampleRate))))
                    } else {
                        let feats = features(audio)
                        if let bad = nonFiniteSegment(feats, config: config) {
                            result = .failure(DatasetError("\(path): segment \(bad) gives non-finite MFCCs (samples far outside [-1, 1])"))
                        } else {
                            // Degraded copies, each rounded to 16-bit PCM as a WAV copy would hold it (as the
                            // out-of-pool evaluation does); a copy whose MFCCs are not finite is left out.
                            var copies: [(String, [Float])] = []
                            for (d, seed) in augment?.choose(for: clip.relativePath) ?? [] {
                                let y = try d.apply(audio, sampleRate: Int(config.sampleRate), seed: seed)
                                let rounded = pcm16(fromFloat: y).map { Float($0) / 32768 }
                                let f = features(rounded)
                                if !f.isEmpty && nonFiniteSegment(f, config: config) == nil { copies.append((d.description, f)) }
                            }
                            result = .success((feats, copies))
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
            case .success(let (feats, _)):
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
        // Augmented copies after all clean segments (see AugmentedTrack), in clip order.
        var source = 0
        for i in todo.indices {
            guard case .success(let (_, copies)) = slots.results[i]! else { continue }
            for (name, f) in copies { cache.appendAugmented(source: source, condition: name, values: f) }
            source += 1
        }
        summary.augmentedSegments = cache.augmentedSegmentCount
        summary.audioSeconds = Double(summary.segments * L) / Double(config.sampleRate)
        summary.wallSeconds = Date().timeIntervalSince(start)
        return (cache, summary)
    }
}
