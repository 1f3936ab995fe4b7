// `crnn-train fit` as a library step: one model per split (one for a track split, one per fold for k-fold),
// each trained, evaluated on its test part (or validation part when it has none) and written to its run folder
// (model.ckpt, last.ckpt, metrics.json, report.md, curves.svg, confusion.svg, split.json); k-fold adds
// kfold.json with the mean and standard deviation over folds.
import Features
import Foundation

public struct FitRun {
    /// `cnn-gru`, `cnn-lstm` or `cnn`.
    public var model: String
    public var filters = 32
    /// Units per recurrent layer (nil: the architecture's default).
    public var units: Int?
    public var seed: UInt64 = 42
    public var options: TrainOptions
    public var cache: FeatureCache
    public var splits: [DatasetSplit]
    /// The run folder; folds go to `out/fold-N`.
    public var out: String
    public var resume = false
    public var progress = false
    /// Recorded in every checkpoint (command, date, source).
    public var provenance: [String: String] = [:]
    /// Extra lines for every report (e.g. which degraded copies were used).
    public var notes: [String] = []

    public init(model: String, options: TrainOptions, cache: FeatureCache, splits: [DatasetSplit], out: String) {
        self.model = model
        self.options = options
        self.cache = cache
        self.splits = splits
        self.out = out
    }

    /// One fold's (or the single split's) outcome.
    public struct Fold {
        public var split: DatasetSplit
        public var directory: String
        public var report: EvaluationReport
        public var result: FitResult
    }

    /// The k-fold summary (nil for a single split).
    public struct Summary {
        public var segment: (mean: Double, std: Double)
        public var track: (mean: Double, std: Double)
    }

    /// Trains every split in turn; `log` gets the summaries and epoch lines, `done` each fold as it finishes.
    public func run(log: (String) -> Void, done: (Fold) -> Void = { _ in }) throws -> (folds: [Fold], summary: Summary?) {
        var folds: [Fold] = []
        for s in splits {
            let dir = splits.count > 1 ? out + "/fold-\(s.fold! + 1)" : out
            log(s.summary)
            let m = try Model(named: model, filters: filters, rnnUnits: units, classes: cache.labels.count, seed: seed &+ UInt64(s.fold ?? 0),
                              inputShape: [cache.config.frameCount, Int(cache.config.nMFCC), 1])
            if s.fold == nil || s.fold == 0 { log(m.summary()) }
            let trainer = Trainer(model: m, cache: cache, split: s, options: options)
            let result = try trainer.fit(runDir: dir, resume: resume, progress: progress, provenance: provenance, log: log)
            let evalSegments = s.test.isEmpty ? s.validation : s.test
            let ev = trainer.evaluate(evalSegments)
            let st = cache.segmentTracks, sl = cache.segmentLabels
            var notes = [s.summary, "evaluated on the \(s.test.isEmpty ? "validation" : "test") part"] + self.notes
            if options.timeMask + options.frequencyMask > 0 || options.mixupAlpha > 0 {
                notes.append("augmentation: time mask \(options.timeMask), frequency mask \(options.frequencyMask), mixup \(options.mixupAlpha)")
            }
            if result.stoppedEarly { notes.append("stopped early after \(result.history.count) epochs") }
            let report = EvaluationReport(model: model, split: s.kind.rawValue, leaky: s.kind.isLeaky, labels: cache.labels,
                                          probabilities: ev.probabilities, segmentLabels: evalSegments.map { sl[$0] },
                                          segmentTracks: evalSegments.map { st[$0] }, history: result.history,
                                          bestEpoch: result.bestEpoch, notes: notes)
            try report.write(to: dir, title: "\(model)" + (s.fold.map { " fold \($0 + 1)" } ?? ""))
            let splitJSON: [String: Any] = ["kind": s.kind.rawValue, "fold": s.fold.map { $0 + 1 } ?? 0, "seed": seed,
                                            "train": s.trainTracks, "validation": s.validationTracks, "test": s.testTracks]
            try writeAtomically(Array(JSONSerialization.data(withJSONObject: splitJSON, options: [.prettyPrinted, .sortedKeys])),
                                to: dir + "/split.json")
            let fold = Fold(split: s, directory: dir, report: report, result: result)
            folds.append(fold)
            done(fold)
        }
        guard folds.count > 1 else { return (folds, nil) }
        let reports = folds.map(\.report)
        let seg = meanAndStd(reports.map(\.segmentAccuracy)), trk = meanAndStd(reports.map(\.trackAccuracy))
        let summary: [String: Any] = [
            "model": model, "folds": reports.count,
            "segment_accuracy_mean": seg.mean, "segment_accuracy_std": seg.std,
            "track_accuracy_mean": trk.mean, "track_accuracy_std": trk.std,
            "segment_accuracy": reports.map(\.segmentAccuracy), "track_accuracy": reports.map(\.trackAccuracy),
        ]
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
        try writeAtomically(Array(data), to: out + "/kfold.json")
        return (folds, Summary(segment: seg, track: trk))
    }
}
