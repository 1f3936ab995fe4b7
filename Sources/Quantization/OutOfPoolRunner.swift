// The out-of-pool measure as a library step (docs/out-of-pool.md): decode a checkpoint's held-out clips, run them
// clean and through each degradation, and run other folders' clips, through `OutOfPoolEvaluator`. Used by
// `crnn-train oop` and by `crnn-quantize --eval` (device agreement out of pool).
import AudioIO
import Features
import Foundation
import Training

public struct OutOfPoolRunner {
    public let evaluator: OutOfPoolEvaluator
    /// Seed of the random degradations (noise): clip i of a run gets `OutOfPoolEvaluator.clipSeed(seed, i)`.
    public var seed: UInt64
    /// Condition names to run (`clean`, `Degradation` names, other folders' names); nil = all.
    public var conditions: Set<String>?
    /// Makes a progress bar for a row (its name and segment count), or nil for none.
    public var progress: (String, Int) -> ProgressBar?

    public init(evaluator: OutOfPoolEvaluator, seed: UInt64 = 1, conditions: Set<String>? = nil,
                progress: @escaping (String, Int) -> ProgressBar? = { _, _ in nil }) {
        self.evaluator = evaluator
        self.seed = seed
        self.conditions = conditions
        self.progress = progress
    }

    func wants(_ name: String) -> Bool { conditions.map { $0.contains(name) } ?? true }

    var checkpoint: Checkpoint { evaluator.checkpoint }
    var rate: Int { Int(checkpoint.featureConfig.sampleRate) }

    /// Decodes the clips of `root` whose track ids are in `trackIDs` (genres must be the checkpoint's).
    public func decodeClips(root: String, trackIDs: Set<String>) throws(QuantizationError) -> [OutOfPoolClip] {
        let index: DatasetIndex
        do { index = try DatasetIndex(root: root) } catch { throw QuantizationError(error.description) }
        let labels = checkpoint.meta.labels
        var clips: [OutOfPoolClip] = []
        for c in index.clips where trackIDs.contains(c.trackID) {
            guard let label = labels.firstIndex(of: index.labels[c.label]) else { continue }
            do {
                clips.append(OutOfPoolClip(trackID: c.trackID, label: label,
                                           audio: try AudioDecoder.decodeMono(path: index.path(of: c), sampleRate: rate)))
            } catch { throw QuantizationError(error.description) }
        }
        return clips
    }

    /// The `clean` row (unless left out by `conditions` or `includeClean`) and one row per standard degradation
    /// of `clean`'s clips.
    public func heldOutRows(_ clean: [OutOfPoolClip], includeClean: Bool = true) throws(QuantizationError) -> [OutOfPoolRow] {
        let config = checkpoint.featureConfig
        let segments = clean.map { config.segmentCount(sampleCount: $0.audio.count) }.reduce(0, +)
        var rows: [OutOfPoolRow] = []
        if includeClean && wants("clean") { rows.append(try row("clean", kind: "held-out", count: clean.count, segments: segments) { clean[$0] }) }
        for d in Degradation.standard where wants(d.description) {
            let s = seed, r = rate
            rows.append(try row(d.description, kind: "degraded", count: clean.count, segments: segments) { i in
                var c = clean[i]
                c.audio = try d.apply(c.audio, sampleRate: r, seed: OutOfPoolEvaluator.clipSeed(s, i))
                return c
            })
        }
        return rows
    }

    /// One row over every clip of another folder (its name is the row's condition), leaving out tracks the
    /// checkpoint was trained on. Also returns how many were left out.
    public func otherFolderRow(_ dir: String) throws(QuantizationError) -> (row: OutOfPoolRow, leftOut: Int) {
        let xi: DatasetIndex
        do { xi = try DatasetIndex(root: dir) } catch { throw QuantizationError(error.description) }
        let labels = checkpoint.meta.labels, trained = Set(checkpoint.meta.trainTracks)
        var clips: [(DatasetClip, Int)] = []
        for c in xi.clips {
            guard let label = labels.firstIndex(of: xi.labels[c.label]) else {
                throw QuantizationError("\(dir): genre \(xi.labels[c.label]) is not one of the checkpoint's \(labels)")
            }
            if trained.contains(c.trackID) { continue }
            clips.append((c, label))
        }
        let name = URL(fileURLWithPath: dir).standardizedFileURL.lastPathComponent
        let r = rate
        let row = try row(name, kind: "other-folder", count: clips.count, segments: clips.count * 10) { i in
            let (c, label) = clips[i]
            return OutOfPoolClip(trackID: c.trackID, label: label, audio: try AudioDecoder.decodeMono(path: xi.path(of: c), sampleRate: r))
        }
        return (row, xi.clips.count - clips.count)
    }

    func row(_ name: String, kind: String, count: Int, segments: Int,
             _ clip: @escaping (Int) throws -> OutOfPoolClip) throws(QuantizationError) -> OutOfPoolRow {
        let bar = progress(name, segments)
        defer { bar?.finish() }
        do { return try evaluator.evaluate(condition: name, kind: kind, count: count, clip: clip, progress: bar) } catch {
            throw QuantizationError("\(name): \(error)")
        }
    }

    /// The pooled device agreement (device top-1 == float top-1 over all segments) of the rows that have one.
    public static func pooledAgreement(_ rows: [OutOfPoolRow]) -> Double? {
        var agree = 0.0, n = 0
        for r in rows { if let a = r.deviceAgreement { agree += a * Double(r.segments); n += r.segments } }
        return n > 0 ? agree / Double(n) : nil
    }
}
