import CRNNRuntime
import Features
import Foundation

/// Learning-rate schedules for `fit`.
public enum LearningRateSchedule: String, CaseIterable, Codable, Sendable {
    /// Constant learning rate (Keras' default).
    case constant
    /// Halve the rate when validation loss has not improved for `patience / 2` epochs.
    case plateau
    /// Cosine decay from the initial rate to 1 % of it over the epoch budget.
    case cosine
}

/// Options of a training run. Defaults: at most 60 epochs, batch 32, patience 10, Adam 1e-3.
public struct TrainOptions: Codable, Equatable, Sendable {
    public var epochs = 60
    public var batchSize = 32
    public var patience = 10
    public var learningRate: Float = 1e-3
    public var schedule: LearningRateSchedule = .constant
    public var seed: UInt64 = 42
    /// Standardise each MFCC coefficient with the training tracks' mean and deviation (default on).
    public var normalize = true
    /// SpecAugment-style masking of the MFCC matrix: one block of up to this many frames and one of up
    /// to `frequencyMask` coefficients set to the (normalised) mean, per training example. 0 = off.
    public var timeMask = 0
    public var frequencyMask = 0
    /// Mixup with Beta(alpha, alpha) mixing weights; 0 = off.
    public var mixupAlpha: Float = 0
    /// Epochs before early stopping starts counting. nil = automatic: enough epochs for 300 optimizer steps,
    /// because batch norm's moving averages (momentum 0.99) keep 0.99^300 = 5 % of their initial values
    /// after 300 steps; validation loss measured before that judges stale statistics, not the model.
    public var minEpochs: Int? = nil
    /// Per-segment normalisation applied before the per-coefficient standardisation (`--normalize segment`,
    /// `segment-mean`); `.none` (the default) keeps the input exactly as before.
    public var segmentNormalization: SegmentNormalization = .none
    /// Also train on the augmented (degraded) segments of the training tracks that the feature file holds
    /// (`crnn-train features --augment`). Validation and test never see them.
    public var useAugmented = true
    /// Class-balanced loss: weight each training example by `N / (K * n_class)` over the training segments
    /// (`--balance weights`). Off by default.
    public var classBalancedLoss = false

    public init() {}

    /// Options as text (stored in resumable checkpoints). Options added after the first release appear only
    /// when they differ from their default, so older checkpoints resume without a spurious "options changed" note.
    public var asDictionary: [String: String] {
        var d = ["epochs": "\(epochs)", "batch": "\(batchSize)", "patience": "\(patience)", "lr": "\(learningRate)",
         "schedule": schedule.rawValue, "seed": "\(seed)", "normalize": "\(normalize)", "time_mask": "\(timeMask)",
         "frequency_mask": "\(frequencyMask)", "mixup": "\(mixupAlpha)",
         "min_epochs": minEpochs.map(String.init) ?? "auto"]
        if segmentNormalization != .none { d["segment_normalization"] = segmentNormalization.rawValue }
        if !useAugmented { d["use_augmented"] = "false" }
        if classBalancedLoss { d["balance"] = "weights" }
        return d
    }
}

/// Normalisation of each 3-s segment by its own statistics, per MFCC coefficient over the segment's frames
/// (cepstral mean / mean-and-variance normalisation). Needs no audio outside the segment, so streaming can do it.
public enum SegmentNormalization: String, CaseIterable, Codable, Sendable {
    /// Nothing per segment.
    case none
    /// Subtract each coefficient's mean over the segment's frames (CMN).
    case mean
    /// Subtract the mean and divide by the standard deviation (floored at 1e-3) per coefficient (CMVN).
    case meanVariance = "mean-variance"

    /// The floor of the per-segment deviation in `meanVariance` (MFCC units): a constant coefficient (silence,
    /// a band emptied by a low-pass) stays 0 instead of amplifying rounding noise.
    public static let stdFloor: Double = 1e-3

    /// Applies the normalisation in place to one frame-major `frames x coefficients` segment at `offset`.
    public func apply(_ x: inout [Float], offset: Int, frames: Int, coefficients c: Int) {
        guard self != .none, frames > 0 else { return }
        for k in 0..<c {
            var sum = 0.0, sq = 0.0
            for t in 0..<frames { let v = Double(x[offset + t * c + k]); sum += v; sq += v * v }
            let mean = sum / Double(frames)
            var scale = 1.0
            if self == .meanVariance {
                scale = 1 / max(Self.stdFloor, max(0, sq / Double(frames) - mean * mean).squareRoot())
            }
            for t in 0..<frames { let i = offset + t * c + k; x[i] = Float((Double(x[i]) - mean) * scale) }
        }
    }
}

/// Input normalisation: first the per-segment step (`segment`, off by default), then the per-coefficient
/// standardisation `(x - mean[c]) / std[c]` (identity for raw MFCCs).
public struct InputNormalization: Equatable, Sendable {
    public var mean: [Float]
    public var std: [Float]
    public var segment: SegmentNormalization

    public init(mean: [Float], std: [Float], segment: SegmentNormalization = .none) {
        precondition(mean.count == std.count)
        self.mean = mean
        self.std = std
        self.segment = segment
    }

    /// The normalisation a checkpoint was trained with (its stored mean/std and per-segment step).
    public init(meta: CheckpointMeta, coefficients: Int) throws {
        let seg: SegmentNormalization
        if let name = meta.inputSegmentNormalization {
            guard let s = SegmentNormalization(rawValue: name) else {
                throw CheckpointError("unknown per-segment input normalisation \"\(name)\" in the checkpoint (made by a newer crnn-train?)")
            }
            seg = s
        } else {
            seg = .none
        }
        if meta.inputMean.isEmpty {
            self = .identity(coefficients: coefficients)
            segment = seg
        } else {
            guard meta.inputMean.count == coefficients, meta.inputStd.count == coefficients else {
                throw CheckpointError("checkpoint's input normalisation has \(meta.inputMean.count) coefficients, expected \(coefficients)")
            }
            self.init(mean: meta.inputMean, std: meta.inputStd, segment: seg)
        }
    }

    /// Identity (for `--no-normalize`).
    public static func identity(coefficients: Int) -> InputNormalization {
        InputNormalization(mean: [Float](repeating: 0, count: coefficients), std: [Float](repeating: 1, count: coefficients))
    }

    /// Mean and deviation per coefficient over the given segments (float64 accumulation), measured after the
    /// per-segment step `segment` (so the standardisation sees what it will be applied to).
    public static func fit(_ cache: FeatureCache, segments: [Int], segment: SegmentNormalization = .none) -> InputNormalization {
        let c = Int(cache.config.nMFCC), f = cache.config.frameCount
        var sum = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        for s in segments {
            var seg = Array(cache.segment(s))
            segment.apply(&seg, offset: 0, frames: f, coefficients: c)
            var i = 0
            for _ in 0..<f { for k in 0..<c { let v = Double(seg[i + k]); sum[k] += v; sq[k] += v * v }; i += c }
        }
        let n = Double(max(1, segments.count * f))
        let mean = sum.map { $0 / n }
        let std = (0..<c).map { k in max(1e-6, (sq[k] / n - mean[k] * mean[k]).squareRoot()) }
        return InputNormalization(mean: mean.map(Float.init), std: std.map(Float.init), segment: segment)
    }

    /// Applies the normalisation in place to frame-major `frames x coefficients` values: the per-segment step
    /// (over all of `count`, which must be one whole segment when it is on), then the standardisation.
    public func apply(_ x: inout [Float], offset: Int = 0, count: Int) {
        let c = mean.count
        if segment != .none { segment.apply(&x, offset: offset, frames: count / max(1, c), coefficients: c) }
        for i in 0..<count { let k = i % c; x[offset + i] = (x[offset + i] - mean[k]) / std[k] }
    }
}

/// Builds model input tensors (N, frames, coefficients, 1) from feature-file segments.
public struct BatchMaker: Sendable {
    public let cache: FeatureCache
    public let normalization: InputNormalization

    public init(cache: FeatureCache, normalization: InputNormalization) {
        self.cache = cache
        self.normalization = normalization
    }

    public func batch(_ segments: some Collection<Int>) -> Tensor {
        let v = cache.valuesPerSegment
        var data = [Float](repeating: 0, count: segments.count * v)
        for (j, s) in segments.enumerated() {
            let seg = cache.segment(s)
            data.replaceSubrange(j * v ..< (j + 1) * v, with: seg)
            normalization.apply(&data, offset: j * v, count: v)
        }
        return Tensor(shape: [segments.count, cache.config.frameCount, Int(cache.config.nMFCC), 1], data: data)
    }
}

/// The result of `Trainer.fit`.
public struct FitResult: Sendable {
    public var history: [EpochRecord]
    public var bestEpoch: Int
    public var bestValidationLoss: Double
    public var stoppedEarly: Bool
}

/// Trains a model on the training part of a split with validation every epoch, early stopping on
/// validation loss (best weights restored), checkpoints at every improvement and a resumable
/// `last.ckpt` after every epoch.
public final class Trainer {
    public let model: Model
    public let cache: FeatureCache
    public let split: DatasetSplit
    public let options: TrainOptions
    public let normalization: InputNormalization
    public let optimizer: Adam
    let batches: BatchMaker

    public init(model: Model, cache: FeatureCache, split: DatasetSplit, options: TrainOptions) {
        self.model = model
        self.cache = cache
        self.split = split
        self.options = options
        switch (options.normalize, options.segmentNormalization) {
        case (true, let seg):
            normalization = InputNormalization.fit(cache, segments: split.train, segment: seg)
        case (false, let seg):
            var n = InputNormalization.identity(coefficients: Int(cache.config.nMFCC))
            n.segment = seg
            normalization = n
        }
        optimizer = Adam(learningRate: options.learningRate)
        batches = BatchMaker(cache: cache, normalization: normalization)
    }

    /// Checkpoint of the model's current weights with this run's metadata.
    public func checkpoint(state: TrainingState? = nil, provenance: [String: String] = [:]) -> Checkpoint {
        let meta = CheckpointMeta(
            model: model.config.kind.rawValue,
            modelOptions: ["filters": "\(model.config.filters)", "rnn_units": "\(model.config.rnnUnits)",
                           "classes": "\(model.config.classes)", "dropout": "\(model.config.dropoutRate)",
                           "normalized": "\(options.normalize)"],
            labels: cache.labels, inputMean: normalization.mean, inputStd: normalization.std,
            inputSegmentNormalization: normalization.segment == .none ? nil : normalization.segment.rawValue,
            split: split.kind.rawValue, splitSeed: options.seed, fold: split.fold,
            trainTracks: split.trainTracks, validationTracks: split.validationTracks, testTracks: split.testTracks,
            provenance: provenance)
        let weights = model.parameters.map { NamedTensor(name: $0.name, shape: $0.shape, values: $0.value) }
        var slots: [NamedTensor] = []
        if state != nil {
            for p in model.trainableParameters {
                if let m = optimizer.m[p.name] { slots.append(NamedTensor(name: "adam/m/" + p.name, shape: p.shape, values: m)) }
                if let v = optimizer.v[p.name] { slots.append(NamedTensor(name: "adam/v/" + p.name, shape: p.shape, values: v)) }
            }
        }
        return Checkpoint(featureConfig: cache.config, meta: meta, weights: weights, state: state, optimizer: slots)
    }

    /// Loads weights (and, from a resumable checkpoint, the optimizer moments) into this trainer.
    public func restore(_ ckpt: Checkpoint, optimizerState: Bool) throws {
        for w in ckpt.weights { try model.setParameter(w.name, to: w.values) }
        if optimizerState {
            optimizer.m = [:]
            optimizer.v = [:]
            for t in ckpt.optimizer {
                if t.name.hasPrefix("adam/m/") { optimizer.m[String(t.name.dropFirst(7))] = t.values }
                if t.name.hasPrefix("adam/v/") { optimizer.v[String(t.name.dropFirst(7))] = t.values }
            }
            optimizer.iterations = ckpt.state?.optimizerStep ?? 0
        }
    }

    /// Mean loss and accuracy over segments in inference mode, and the probabilities (segments x classes).
    public func evaluate(_ segments: [Int]) -> (loss: Double, accuracy: Double, probabilities: [Float]) {
        guard !segments.isEmpty else { return (0, 0, []) }
        let labels = cache.segmentLabels
        var lossSum = 0.0, correct = 0
        var probs: [Float] = []
        probs.reserveCapacity(segments.count * cache.labels.count)
        for start in stride(from: 0, to: segments.count, by: 64) {
            let idx = Array(segments[start ..< min(segments.count, start + 64)])
            let logits = model.forward(batches.batch(idx), mode: .inference)
            let y = idx.map { labels[$0] }
            lossSum += SoftmaxCrossEntropy.lossValue(logits: logits, labels: y) * Double(idx.count)
            let p = SoftmaxCrossEntropy.softmax(logits)
            for (j, pred) in argmaxRows(p.data, classCount: p.shape[1]).enumerated() where pred == y[j] { correct += 1 }
            probs += p.data
        }
        return (lossSum / Double(segments.count), Double(correct) / Double(segments.count), probs)
    }

    func learningRate(epoch: Int, sinceImprovement: Int, current: Float) -> Float {
        switch options.schedule {
        case .constant: return options.learningRate
        case .cosine:
            let t = Double(epoch - 1) / Double(max(1, options.epochs - 1))
            return Float(0.01 + 0.99 * 0.5 * (1 + cos(.pi * t))) * options.learningRate
        case .plateau:
            let wait = max(1, options.patience / 2)
            return sinceImprovement > 0 && sinceImprovement % wait == 0 ? max(current * 0.5, options.learningRate * 1e-3) : current
        }
    }

    /// Applies time/frequency masks to a normalised batch in place (mask value 0 = the training mean).
    func augment(_ x: inout Tensor, rng: inout SeededGenerator) {
        let n = x.shape[0], f = x.shape[1], c = x.shape[2]
        for b in 0..<n {
            if options.timeMask > 0 {
                let w = Int.random(in: 0...options.timeMask, using: &rng), t0 = Int.random(in: 0...max(0, f - w), using: &rng)
                for t in t0 ..< min(f, t0 + w) { for k in 0..<c { x.data[(b * f + t) * c + k] = 0 } }
            }
            if options.frequencyMask > 0 {
                let w = Int.random(in: 0...options.frequencyMask, using: &rng), k0 = Int.random(in: 0...max(0, c - w), using: &rng)
                for t in 0..<f { for k in k0 ..< min(c, k0 + w) { x.data[(b * f + t) * c + k] = 0 } }
            }
        }
    }

    /// Beta(a, a) sample via two gamma draws (Marsaglia-Tsang), for mixup.
    static func beta(_ a: Double, rng: inout SeededGenerator) -> Double {
        func gamma(_ k: Double) -> Double {
            if k < 1 { return gamma(k + 1) * pow(Double.random(in: 1e-12..<1, using: &rng), 1 / k) }
            let d = k - 1.0 / 3, c = 1 / (9 * d).squareRoot()
            while true {
                var x = 0.0, v = 0.0
                repeat {
                    let u1 = Double.random(in: 1e-12..<1, using: &rng), u2 = Double.random(in: 0..<1, using: &rng)
                    x = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
                    v = 1 + c * x
                } while v <= 0
                v = v * v * v
                let u = Double.random(in: 1e-12..<1, using: &rng)
                if log(u) < 0.5 * x * x + d - d * v + d * log(v) { return d * v }
            }
        }
        let g1 = gamma(a), g2 = gamma(a)
        return g1 / (g1 + g2)
    }

    /// The segments trained on: the split's training segments, then (with `useAugmented`) the augmented
    /// segments of its training tracks, never of a track that also has segments in validation or test.
    public var trainingSegments: [Int] {
        guard options.useAugmented, !cache.augmented.isEmpty else { return split.train }
        return split.train + cache.augmentedSegments(ofTracks: split.trainTracks, excluding: split.validationTracks + split.testTracks)
    }

    /// Per-class loss weights for `classBalancedLoss`: `N / (K * n_c)` over the labels of `segments` (K = classes
    /// present); 1 for every class when off or for absent classes.
    public func classWeights(_ segments: [Int]) -> [Float] {
        var w = [Float](repeating: 1, count: cache.labels.count)
        guard options.classBalancedLoss, !segments.isEmpty else { return w }
        let labels = cache.allSegmentLabels
        var n = [Int](repeating: 0, count: w.count)
        for s in segments { n[labels[s]] += 1 }
        let present = n.filter { $0 > 0 }.count
        for c in w.indices where n[c] > 0 { w[c] = Float(Double(segments.count) / Double(present * n[c])) }
        return w
    }

    /// Where a run stands between epochs: what `last.ckpt` keeps and a resumed run starts from.
    struct RunProgress {
        var history: [EpochRecord] = []
        var bestLoss = Double.infinity, bestEpoch = 0, since = 0, startEpoch = 1
        var lr: Float
    }

    /// Trains. `runDir` receives `model.ckpt` (best weights, at every improvement) and `last.ckpt`
    /// (resumable state, every epoch). With `resume`, continues from `runDir/last.ckpt`. Paths in `provenance` are
    /// recorded relative to the working directory (`ProvenancePath`).
    public func fit(runDir: String, resume: Bool = false, progress: Bool = true,
                    provenance: [String: String] = [:], log: (String) -> Void = { _ in }) throws -> FitResult {
        let provenance = ProvenancePath.relativized(provenance)
        let trainSegments = trainingSegments
        let weights = classWeights(trainSegments)
        if trainSegments.count > split.train.count {
            log("training on \(split.train.count) clean + \(trainSegments.count - split.train.count) augmented segments of the training tracks")
        }
        if options.classBalancedLoss {
            log("class-balanced loss weights: " + zip(cache.labels, weights).map { "\($0) \(String(format: "%.2f", $1))" }.joined(separator: ", "))
        }
        let lastPath = runDir + "/last.ckpt", bestPath = runDir + "/model.ckpt"
        // A run killed mid-write leaves its temporary file behind (the target keeps its previous content).
        for f in removeStaleTemporaryFiles(in: runDir, for: ["last.ckpt", "model.ckpt", "split.json"] + EvaluationReport.files) {
            log("removed \(f), left by a run killed while writing")
        }
        var run = RunProgress(lr: options.learningRate)
        if resume && !FileManager.default.fileExists(atPath: lastPath) {
            log("no \(lastPath) yet (the run was stopped before its first epoch ended): starting from epoch 1")
        } else if resume {
            run = try resumeRun(from: lastPath, trainSegments: trainSegments, log: log)
        }
        var stoppedEarly = run.since >= options.patience && run.startEpoch > 1
        var epoch = run.startEpoch
        while epoch <= options.epochs && !stoppedEarly {
            run.lr = learningRate(epoch: epoch, sinceImprovement: run.since, current: run.lr)
            optimizer.learningRate = run.lr
            let t0 = Date()
            let (train, bar) = try trainEpoch(epoch, segments: trainSegments, classWeights: weights, progress: progress)
            let val = evaluate(split.validation.isEmpty ? split.train : split.validation)
            let rec = EpochRecord(epoch: epoch, trainLoss: train.lossSum / Double(max(1, train.seen)),
                                  trainAccuracy: Double(train.correct) / Double(max(1, train.seen)),
                                  validationLoss: val.loss, validationAccuracy: val.accuracy, learningRate: Double(run.lr),
                                  seconds: Date().timeIntervalSince(t0))
            run.history.append(rec)
            bar?.finish(status: String(format: "loss %.4f acc %.3f | val loss %.4f acc %.3f | %.1f s", rec.trainLoss, rec.trainAccuracy, rec.validationLoss, rec.validationAccuracy, rec.seconds))
            if !progress {
                log(String(format: "epoch %d/%d: loss %.4f acc %.3f, val loss %.4f acc %.3f, %.1f s", epoch, options.epochs,
                           rec.trainLoss, rec.trainAccuracy, rec.validationLoss, rec.validationAccuracy, rec.seconds))
            }
            try endEpoch(epoch, validationLoss: val.loss, trainSegmentCount: trainSegments.count, run: &run,
                         bestPath: bestPath, lastPath: lastPath, provenance: provenance)
            if run.since >= options.patience {
                stoppedEarly = true
                log("early stop: validation loss has not improved for \(options.patience) epochs; best epoch \(run.bestEpoch)")
            }
            epoch += 1
        }
        // Restore the best weights.
        if run.bestEpoch > 0 { try restore(try Checkpoint(contentsOf: bestPath), optimizerState: false) }
        return FitResult(history: run.history, bestEpoch: run.bestEpoch, bestValidationLoss: run.bestLoss, stoppedEarly: stoppedEarly)
    }

    /// Loads `last.ckpt` (weights, optimizer moments, dropout generators) and returns where its run stood; logs
    /// every way in which continuing will differ from an uninterrupted run.
    func resumeRun(from lastPath: String, trainSegments: [Int], log: (String) -> Void) throws -> RunProgress {
        let last = try Checkpoint(contentsOf: lastPath)
        guard let st = last.state else { throw CheckpointError("\(lastPath) holds no training state to resume from") }
        guard last.meta.model == model.config.kind.rawValue, last.meta.trainTracks == split.trainTracks else {
            throw CheckpointError("\(lastPath) belongs to another run (model or split differ); resume with the same options")
        }
        try restore(last, optimizerState: true)
        var run = RunProgress(history: st.history, bestLoss: st.bestValidationLoss, bestEpoch: st.bestEpoch,
                              since: st.epochsSinceImprovement, startEpoch: st.completedEpochs + 1, lr: options.learningRate)
        if let bits = st.learningRateBits {
            run.lr = Float(bitPattern: bits)
        } else {
            run.lr = Float(st.options["current_lr"].flatMap(Double.init) ?? Double(options.learningRate))
        }
        if let states = st.randomStates {
            do { try model.setRandomStates(states) } catch {
                throw CheckpointError("\(lastPath): dropout generator states do not fit this model (\(error))")
            }
        } else {
            // An older checkpoint: no generator states stored. Dropout draws a fixed number of values per
            // training step, so the states follow from the steps taken if every epoch ran the full order.
            let steps = (trainSegments.count + options.batchSize - 1) / max(1, options.batchSize)
            if st.optimizerStep == steps * st.completedEpochs {
                let epoch = (0..<steps).map { min(options.batchSize, trainSegments.count - $0 * options.batchSize) }
                model.skipRandomDraws(batchSizes: Array(repeating: epoch, count: st.completedEpochs).flatMap { $0 })
                log("note: \(lastPath) predates stored dropout generator states; reconstructed them from the \(st.optimizerStep) steps taken (exact if the batch size was the same)")
            } else {
                log("note: \(lastPath) predates stored dropout generator states and its step count does not match this split and batch size; dropout masks after resuming differ from an uninterrupted run")
            }
        }
        if st.rngState != options.seed {
            log("note: \(lastPath) was trained with seed \(st.rngState), resuming with seed \(options.seed): shuffling and augmentation differ from an uninterrupted run")
        }
        var now = options.asDictionary, then = st.options
        now["seed"] = nil; then["seed"] = nil; then["current_lr"] = nil
        if options.schedule != .cosine { now["epochs"] = nil; then["epochs"] = nil }
        let changed = Set(now.keys).union(then.keys).sorted().filter { now[$0] != then[$0] }
        if !changed.isEmpty {
            log("note: resuming with other options than the run was started with (" +
                changed.map { "\($0) \(then[$0] ?? "?") -> \(now[$0] ?? "?")" }.joined(separator: ", ") +
                "): later epochs are not those of an uninterrupted run")
        }
        log("resuming after epoch \(st.completedEpochs) (best epoch \(run.bestEpoch), validation loss \(String(format: "%.4f", run.bestLoss)))")
        return run
    }

    /// One pass over the training segments in this epoch's shuffled order (seeded by the run seed and the epoch):
    /// augmentation, forward, loss, backward and an optimizer step per batch. Returns the summed loss, the correct
    /// and seen counts, and the progress bar (finished by the caller once validation is known).
    func trainEpoch(_ epoch: Int, segments: [Int], classWeights weights: [Float], progress: Bool) throws
        -> ((lossSum: Double, correct: Int, seen: Int), ProgressBar?) {
        let labels = cache.allSegmentLabels
        var rng = SeededGenerator(seed: options.seed &+ UInt64(epoch) &* 0x9E37_79B9)
        var order = segments
        order.shuffle(using: &rng)
        let steps = (order.count + options.batchSize - 1) / options.batchSize
        let bar = progress ? ProgressBar(total: order.count, label: String(format: "epoch %2d/%d", epoch, options.epochs), unit: "samples") : nil
        var lossSum = 0.0, correct = 0, seen = 0
        for s in 0..<steps {
            let idx = Array(order[s * options.batchSize ..< min(order.count, (s + 1) * options.batchSize)])
            var x = batches.batch(idx)
            let y = idx.map { labels[$0] }
            if options.timeMask > 0 || options.frequencyMask > 0 { augment(&x, rng: &rng) }
            let (loss, logits) = trainStep(x, labels: y, classWeights: weights, rng: &rng)
            guard loss.isFinite else {
                throw CheckpointError("training diverged at epoch \(epoch), step \(s + 1) (loss \(loss)); try a lower --lr or keep --normalize")
            }
            optimizer.step(model.trainableParameters)
            lossSum += Double(loss) * Double(idx.count)
            for (j, p) in argmaxRows(logits.data, classCount: logits.shape[1]).enumerated() where p == y[j] { correct += 1 }
            seen += idx.count
            bar?.advance(idx.count, status: String(format: "loss %.4f acc %.3f", lossSum / Double(seen), Double(correct) / Double(seen)))
        }
        return ((lossSum, correct, seen), bar)
    }

    /// Forward and backward of one batch (with mixup when enabled); the gradients are left in the model for the
    /// optimizer. Returns the batch loss and the training-mode logits.
    func trainStep(_ x: Tensor, labels y: [Int], classWeights weights: [Float], rng: inout SeededGenerator) -> (Float, Tensor) {
        model.zeroGrad()
        if options.mixupAlpha > 0 {
            let n = y.count
            let lam = Float(Self.beta(Double(options.mixupAlpha), rng: &rng))
            let perm = (0..<n).shuffled(using: &rng)
            var mixed = x
            let v = x.count / n
            for j in 0..<n { for i in 0..<v { mixed.data[j * v + i] = lam * x.data[j * v + i] + (1 - lam) * x.data[perm[j] * v + i] } }
            let logits = model.forward(mixed, mode: .training)
            let (l1, g1) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: y)
            let (l2, g2) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: perm.map { y[$0] })
            let loss = lam * l1 + (1 - lam) * l2
            var w1 = g1, w2 = g2
            weightRows(&w1, y, weights)
            weightRows(&w2, perm.map { y[$0] }, weights)
            var g = g1
            for i in g.data.indices { g.data[i] = lam * w1.data[i] + (1 - lam) * w2.data[i] }
            model.backward(g)
            return (loss, logits)
        }
        let logits = model.forward(x, mode: .training)
        var (loss, g) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: y)
        weightRows(&g, y, weights)
        model.backward(g)
        return (loss, logits)
    }

    /// With a class-balanced loss, scales each row of the loss gradient by its label's class weight.
    func weightRows(_ g: inout Tensor, _ y: [Int], _ weights: [Float]) {
        guard options.classBalancedLoss else { return }
        let k = g.shape[1]
        for (r, label) in y.enumerated() { for j in 0..<k { g.data[r * k + j] *= weights[label] } }
    }

    /// After an epoch's validation: keeps the best weights in `model.ckpt`, counts epochs without improvement
    /// (after the batch-norm warm-up) and writes the resumable state to `last.ckpt`.
    func endEpoch(_ epoch: Int, validationLoss: Double, trainSegmentCount: Int, run: inout RunProgress,
                  bestPath: String, lastPath: String, provenance: [String: String]) throws {
        let steps = (trainSegmentCount + options.batchSize - 1) / options.batchSize
        let warmup = options.minEpochs ?? (300 + steps - 1) / max(1, steps)
        if validationLoss < run.bestLoss {
            run.bestLoss = validationLoss
            run.bestEpoch = epoch
            run.since = 0
            try checkpoint(provenance: provenance).write(to: bestPath)
        } else if epoch > warmup {
            run.since += 1
        }
        var opts = options.asDictionary
        opts["current_lr"] = "\(run.lr)"
        let state = TrainingState(completedEpochs: epoch, optimizerStep: optimizer.iterations, bestEpoch: run.bestEpoch,
                                  bestValidationLoss: run.bestLoss, epochsSinceImprovement: run.since, history: run.history,
                                  rngState: options.seed, options: opts, randomStates: model.randomStates,
                                  learningRateBits: run.lr.bitPattern)
        try checkpoint(state: state, provenance: provenance).write(to: lastPath)
    }
}

extension Model {
    /// Rebuilds the architecture a checkpoint was trained with and loads its weights. Every parameter
    /// of the architecture must be in the checkpoint with the right size.
    public convenience init(checkpoint c: Checkpoint) throws {
        guard let kind = ModelKind(rawValue: c.meta.model) else { throw ModelError.unknownModel(c.meta.model) }
        let o = c.meta.modelOptions
        let config = ModelConfig(
            kind: kind, filters: Int(o["filters"] ?? "") ?? 32, rnnUnits: Int(o["rnn_units"] ?? ""),
            inputShape: [c.featureConfig.frameCount, Int(c.featureConfig.nMFCC), 1],
            classes: Int(o["classes"] ?? "") ?? c.meta.labels.count, dropoutRate: Float(o["dropout"] ?? "") ?? 0.1)
        self.init(config: config, seed: 0)
        let stored = Set(c.weights.map(\.name))
        if let missing = parameters.first(where: { !stored.contains($0.name) }) {
            throw ModelError.unknownParameter("\(missing.name) (missing from the checkpoint)")
        }
        for w in c.weights { try setParameter(w.name, to: w.values) }
    }
}
