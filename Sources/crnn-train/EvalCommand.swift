import ArgumentParser
import AudioIO
import CRNNRuntime
import Features
import Foundation
import Training

/// Loads a checkpoint and rebuilds its model with the stored weights.
func loadModel(_ path: String) throws -> (Checkpoint, Model, InputNormalization) {
    let ckpt: Checkpoint
    do { ckpt = try Checkpoint(contentsOf: path) } catch { throw badInput(error.description) }
    do {
        let m = try Model(checkpoint: ckpt)
        let c = Int(ckpt.featureConfig.nMFCC)
        let norm = try InputNormalization(meta: ckpt.meta, coefficients: c)
        return (ckpt, m, norm)
    } catch { throw badInput("\(path): \(error)") }
}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint: segment and track accuracy, per-genre precision/recall/F1, confusion.",
        discussion: """
            With --features or --data, evaluates every segment of the given set. When the set is the one the \
            model was trained on (same track ids), only the checkpoint's test tracks are used, so training data \
            never inflates the figures; --all-tracks overrides that. --json prints one JSON object with \
            segment_accuracy and track_accuracy (fractions 0-1), per_genre (precision, recall, f1, support) and \
            confusion (rows = true genre).
            """)

    @Option(help: "Checkpoint (model.ckpt) to evaluate.")
    var checkpoint: String

    @OptionGroup var source: FeatureSource

    @Flag(help: "Print the metrics as JSON.")
    var json = false

    @Flag(help: "Evaluate every track of the set, even ones the model was trained on.")
    var allTracks = false

    @Option(help: "Also write report.md, metrics.json and confusion.svg into this folder.")
    var report: String?

    func run() throws {
        let (ckpt, model, norm) = try loadModel(checkpoint)
        let cache = try source.load(quiet: json, config: ckpt.featureConfig)
        guard cache.config == ckpt.featureConfig else {
            throw badInput("the features were made with another configuration than the checkpoint's; re-extract them")
        }
        guard cache.labels == ckpt.meta.labels else {
            throw badInput("the set's genres \(cache.labels) differ from the model's \(ckpt.meta.labels)")
        }
        let known = Set(ckpt.meta.trainTracks + ckpt.meta.validationTracks)
        let overlaps = cache.tracks.contains { known.contains($0.trackID) }
        var segments = Array(0..<cache.segmentCount)
        var scope = "all \(cache.tracks.count) tracks of the set"
        if overlaps && !allTracks {
            let test = Set(ckpt.meta.testTracks)
            let st = cache.segmentTracks
            segments = segments.filter { test.contains(cache.tracks[st[$0]].trackID) }
            scope = "the checkpoint's \(ckpt.meta.testTracks.count) held-out test tracks"
            guard !segments.isEmpty else {
                throw badInput("this set holds the model's training tracks and none of its test tracks; use --all-tracks to evaluate anyway")
            }
        }
        let probs = predictProbabilities(model: model, norm: norm, cache: cache, segments: segments)
        let sl = cache.segmentLabels, st = cache.segmentTracks
        let r = EvaluationReport(model: ckpt.meta.model, split: ckpt.meta.split, leaky: ckpt.meta.split == "random",
                                 labels: cache.labels, probabilities: probs, segmentLabels: segments.map { sl[$0] },
                                 segmentTracks: segments.map { st[$0] }, notes: ["evaluated on \(scope)"])
        if let dir = report { try r.write(to: dir, title: "\(ckpt.meta.model) evaluation") }
        if json {
            FileHandle.standardOutput.write(r.json())
            print()
        } else {
            print(r.markdown(title: "\(ckpt.meta.model): evaluation on \(scope)"))
        }
    }
}

/// Probabilities (segments x classes) of the given segments, in inference mode, batches of 64.
func predictProbabilities(model: Model, norm: InputNormalization, cache: FeatureCache, segments: [Int]) -> [Float] {
    let maker = BatchMaker(cache: cache, normalization: norm)
    var out: [Float] = []
    for start in stride(from: 0, to: segments.count, by: 64) {
        out += model.predict(maker.batch(segments[start ..< min(segments.count, start + 64)])).data
    }
    return out
}

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Classify audio files with a float checkpoint (clip genre = mean of its 3-s segment probabilities).")

    @Option(help: "Checkpoint (model.ckpt).")
    var checkpoint: String

    @Argument(help: "Audio files (any format libsndfile reads).")
    var audio: [String]

    @Flag(help: "One JSON object per file: file, genre, scores (genre -> probability), segments, confidence, margin, uncertain.")
    var json = false

    @Option(help: "Flag a file uncertain when its top genre's mean probability is below this (0-1; default 0.55, calibrated out of pool: docs/out-of-pool.md).")
    var uncertainBelow: Double = Double(ClipConfidence.defaultThresholdQ15) / 32768

    func validate() throws {
        guard (0...1).contains(uncertainBelow) else { throw ValidationError("--uncertain-below must be in [0, 1]") }
    }

    func run() throws {
        guard !audio.isEmpty else { throw ValidationError("give at least one audio file") }
        let (ckpt, model, norm) = try loadModel(checkpoint)
        let config = ckpt.featureConfig
        let extractor = try MFCCExtractor(config: config)
        let L = Int(config.segmentSamples)
        var failures = 0
        for path in audio {
            let samples: [Float]
            do { samples = try AudioDecoder.decodeMono(path: path, sampleRate: Int(config.sampleRate)) } catch {
                warn("error: \(error.description)"); failures += 1; continue
            }
            let n = config.segmentCount(sampleCount: samples.count)
            guard n > 0 else {
                warn(String(format: "error: %@: too short (%.2f s; a segment is %.2f s)", path,
                            Double(samples.count) / Double(config.sampleRate), Double(L) / Double(config.sampleRate)))
                failures += 1
                continue
            }
            var values: [Float] = []
            for k in 0..<n { values += extractor.mfcc(segment: DatasetExtractor.segment(k, of: samples, config: config)) }
            if let bad = DatasetExtractor.nonFiniteSegment(values, config: config) {
                warn("error: \(path): segment \(bad) gives non-finite MFCCs (samples far outside [-1, 1])")
                failures += 1
                continue
            }
            let cache = FeatureCache(config: config, labels: ckpt.meta.labels,
                                     tracks: [FeatureTrack(trackID: path, relativePath: path, label: 0, firstSegment: 0, segmentCount: n)],
                                     values: values)
            let probs = predictProbabilities(model: model, norm: norm, cache: cache, segments: Array(0..<n))
            let k = ckpt.meta.labels.count
            var mean = [Double](repeating: 0, count: k)
            for s in 0..<n { for c in 0..<k { mean[c] += Double(probs[s * k + c]) / Double(n) } }
            let best = mean.indices.max { mean[$0] < mean[$1] }!
            // How sure: the top genre's mean probability and its lead over the runner-up (as crnn-infer's).
            let ranked = mean.sorted(by: >)
            let confidence = ranked[0], margin = ranked[0] - (k > 1 ? ranked[1] : 0)
            let uncertain = confidence < uncertainBelow
            if json {
                let scores = zip(ckpt.meta.labels, mean).map { "\(jsonString($0.0)):\(String(format: "%.6f", $0.1))" }.joined(separator: ",")
                print("{\"file\":\(jsonString(path)),\"genre\":\(jsonString(ckpt.meta.labels[best])),\"scores\":{\(scores)},\"segments\":\(n)"
                      + String(format: ",\"confidence\":%.6f,\"margin\":%.6f,\"uncertain\":%@}", confidence, margin, uncertain ? "true" : "false"))
            } else {
                let top = mean.indices.sorted { mean[$0] > mean[$1] }.prefix(3)
                    .map { String(format: "%@ %.1f %%", ckpt.meta.labels[$0], 100 * mean[$0]) }.joined(separator: ", ")
                print("\(path): \(ckpt.meta.labels[best])  (\(top); \(n) segments)"
                      + (uncertain ? String(format: "  uncertain (top genre %.1f %% < %.1f %%)", 100 * confidence, 100 * uncertainBelow) : ""))
            }
        }
        if failures > 0 { throw ExitCode(2) }
    }
}
