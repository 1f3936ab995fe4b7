import ArgumentParser
import CRNNRuntime
import Features
import Foundation
import Training

extension SplitKind: ExpressibleByArgument {}
extension LearningRateSchedule: ExpressibleByArgument {}

/// Where features come from: a dataset folder (extracted now) or a feature file.
struct FeatureSource: ParsableArguments {
    @Option(help: "Dataset folder (one sub-folder per genre); features are extracted first.")
    var data: String?

    @Option(help: "Feature file written by `crnn-train features`.")
    var features: String?

    /// `augment`: the degraded copies to extract with --data (nil: clean only); a feature file has its own.
    /// `config`: the feature configuration to extract with --data (a feature file has its own).
    func load(quiet: Bool, augment: AugmentationPlan? = nil, config: FeatureConfig = .paper) throws -> FeatureCache {
        switch (data, features) {
        case (let d?, nil):
            let index: DatasetIndex
            do { index = try DatasetIndex(root: d) } catch { throw badInput(error.description) }
            let (cache, summary): (FeatureCache, ExtractionSummary)
            do { (cache, summary) = try DatasetExtractor.extract(index: index, config: config, showProgress: !quiet, augment: augment) } catch { throw badInput(error.description) }
            for w in summary.warnings { warn("warning: skipped \(w)") }
            warn(summary.line)
            if summary.segments == 0 { throw badInput("no segment could be extracted from \(d)") }
            return cache
        case (nil, let f?):
            do { return try FeatureCache(contentsOf: f) } catch { throw badInput(error.description) }
        default:
            throw ValidationError("give exactly one of --data DIR or --features FILE")
        }
    }
}

/// The paper's feature configuration at another sample rate (n_fft, hop, mels and MFCCs unchanged; f_max = rate / 2)
/// with segments of `segmentSeconds`.
func featureConfig(sampleRate: Int, segmentSeconds: Double) throws -> FeatureConfig {
    guard sampleRate >= 8000 && sampleRate <= 48000 else { throw ValidationError("--sample-rate must be in 8000...48000 Hz") }
    var config = FeatureConfig.paper
    config.sampleRate = Int32(sampleRate)
    let samples = (segmentSeconds * Double(sampleRate)).rounded()
    guard segmentSeconds > 0, samples >= Double(config.nFFT), samples < 1e8 else {
        throw ValidationError("--segment-seconds must give at least one FFT frame (\(config.nFFT) samples)")
    }
    config.segmentSamples = Int32(samples)
    if let problem = config.validationProblem() { throw ValidationError("feature configuration: \(problem)") }
    return config
}

/// The input representation of a run, for its report.
func inputDescription(_ o: TrainOptions) -> String {
    switch (o.segmentNormalization, o.normalize) {
    case (.none, true): return "per-coefficient standardised MFCCs"
    case (.none, false): return "raw MFCCs (--no-normalize)"
    case (.meanVariance, _): return "per-segment mean and variance normalised MFCCs (--normalize segment)" + (o.normalize ? ", then standardised" : "")
    case (.mean, _): return "per-segment mean removed, then per-coefficient standardised MFCCs (--normalize segment-mean)" + (o.normalize ? "" : " (no standardisation)")
    }
}

struct FitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Train cnn-gru, cnn-lstm or the cnn baseline and write the checkpoint and reports.",
        discussion: """
            Writes into --out: model.ckpt (best weights by validation loss, written at every improvement), \
            last.ckpt (resumable state after every epoch), split.json (the track ids of each part), metrics.json, report.md (segment and track accuracy, \
            per-genre precision/recall/F1, confusion matrices), curves.svg and confusion.svg. With --split kfold \
            it trains one model per fold in --out/fold-N and reports the mean and standard deviation.

            The default recipe (chosen out of pool, docs/out-of-pool.md): per-coefficient standardised MFCCs, \
            training on degraded copies of the training tracks (resampled through 16 and 8 kHz, a 300-3400 Hz \
            band-pass, 20 dB SNR noise, -10 dB gain) besides the clean ones, and mixup (Beta(0.2, 0.2)). With --data the copies are extracted now \
            (--augment); with --features they come from the file (`crnn-train features` stores them by default; a \
            file without them trains on clean segments only, with a note). --recipe paper is the paper's recipe: raw \
            MFCCs, no degraded copies, no mixup.

            Splits: track (by track, stratified per genre; the honest one), random (by segment as in the paper: \
            leaky), kfold (track-level), filtered (the fault-filtered GTZAN split; needs the full GTZAN).
            """)

    @OptionGroup var source: FeatureSource

    @Option(help: ArgumentHelp("Recipe: default (standardised MFCCs + degraded training copies + mixup 0.2, chosen out of pool) or paper (raw MFCCs, no degraded copies, no mixup: = --normalize none --augment none --no-use-augmented --mixup 0).", valueName: "default|paper"))
    var recipe: String = "default"

    @Option(help: ArgumentHelp("With --data: the degraded training copies to extract (default: the recipe's 5; none; or a list as `crnn-train features --augment`).", valueName: "default|none|list"))
    var augment: String?

    @Option(help: "With --data: sample rate of the features in Hz (default 22050, the paper's); e.g. 16000 for a model fed by a 16-kHz microphone. The audio is resampled to it; the rate travels in the checkpoint and the model file.")
    var sampleRate: Int = 22050

    @Option(help: "Model: cnn-gru, cnn-lstm or cnn.")
    var model: String = "cnn-gru"

    @OptionGroup var splitting: SplitArguments

    @OptionGroup var schedule: ScheduleArguments

    @Option(help: "Filters per convolution layer.")
    var filters: Int = 32

    @Option(help: "Units per recurrent layer (default: GRU 20, LSTM 30).")
    var units: Int?

    @Option(help: "Seed for the split, initialisation, shuffling and dropout.")
    var seed: UInt64 = 42

    @OptionGroup var input: InputArguments

    @Flag(inversion: .prefixedNo, help: "Also train on the augmented (degraded) segments of the training tracks when the feature file has them (crnn-train features --augment); validation and test always use clean segments only.")
    var useAugmented = true

    @Option(help: ArgumentHelp("Class balance for imbalanced folders: none (default) or weights (each training example's loss weighted by N / (K * n_genre) over the training segments).", valueName: "mode"))
    var balance: String = "none"

    @OptionGroup var examples: ExampleAugmentationArguments

    @Option(help: "Run folder for checkpoints and reports.")
    var out: String

    @Flag(help: "Continue a killed run from --out/last.ckpt (same options).")
    var resume = false

    @Flag(help: "No progress bars; one line per epoch.")
    var quiet = false

    func validate() throws {
        guard ModelKind(rawValue: model) != nil else { throw ValidationError("--model must be cnn-gru, cnn-lstm or cnn") }
        guard schedule.epochs >= 1, schedule.batch >= 1, schedule.patience >= 1, filters >= 1, schedule.lr > 0 else {
            throw ValidationError("--epochs, --batch, --patience, --filters must be at least 1 and --lr positive")
        }
        _ = try input.mode(paperRecipe: recipe == "paper")
        guard ["default", "paper"].contains(recipe) else { throw ValidationError("--recipe must be default or paper") }
        if recipe == "paper" {
            if let n = input.normalize, n != "none" { throw ValidationError("--recipe paper feeds raw MFCCs: it contradicts --normalize \(n)") }
            if let a = augment, a != "none" { throw ValidationError("--recipe paper trains on clean segments: it contradicts --augment \(a)") }
            if let m = examples.mixup, m != 0 { throw ValidationError("--recipe paper has no mixup: it contradicts --mixup \(m)") }
        }
        if augment != nil && source.data == nil { throw ValidationError("--augment applies to --data (a feature file has its own copies: crnn-train features --augment)") }
        guard ["none", "weights"].contains(balance) else { throw ValidationError("--balance must be none or weights") }
    }

    func run() throws {
        let plan: AugmentationPlan?
        do { plan = recipe == "paper" ? nil : try AugmentationPlan.named(augment ?? "default") } catch { throw ValidationError(error.description) }
        let cache = try source.load(quiet: quiet, augment: plan, config: try featureConfig(sampleRate: sampleRate, segmentSeconds: 3))
        let augmented = recipe != "paper" && useAugmented
        if augmented && source.features != nil && cache.augmented.isEmpty {
            warn("note: \(source.features!) holds no degraded copies: training on clean segments only, not the default recipe "
                 + "(re-extract with `crnn-train features`, which stores them by default; --recipe paper says this on purpose)")
        }
        var opts = TrainOptions()
        schedule.apply(to: &opts)
        opts.seed = seed
        (opts.normalize, opts.segmentNormalization) = try input.mode(paperRecipe: recipe == "paper")
        opts.useAugmented = augmented
        opts.classBalancedLoss = balance == "weights"
        examples.apply(to: &opts, paperRecipe: recipe == "paper")
        let splits: [DatasetSplit]
        do { splits = try cache.splits(splitting.split, options: splitting.options(seed: seed)) } catch { throw badInput(error.description) }
        // The program by name, not by the build folder of the machine that ran it.
        let provenance = ["command": (["crnn-train"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
                          "date": ISO8601DateFormatter().string(from: Date()),
                          "source": source.data ?? source.features ?? ""]
        let copies = Set(cache.augmented.map(\.condition)).sorted()
        var run = FitRun(model: model, options: opts, cache: cache, splits: splits, out: out)
        run.filters = filters
        run.units = units
        run.seed = seed
        run.resume = resume
        run.progress = !quiet
        run.provenance = provenance
        run.notes = ["input: " + inputDescription(opts),
                     "degraded training copies: " + (augmented && !copies.isEmpty ? copies.joined(separator: ", ") : "none")]
        let summary: FitRun.Summary?
        do {
            summary = try run.run(log: { warn($0) }) { f in
                print(String(format: "%@%@: segment accuracy %.2f %%, track accuracy %.2f %% (best epoch %d) -> %@/model.ckpt",
                             model, f.split.fold.map { " fold \($0 + 1)" } ?? "", 100 * f.report.segmentAccuracy,
                             100 * f.report.trackAccuracy, f.result.bestEpoch, f.directory))
            }.summary
        } catch let e as CheckpointError { throw badInput(e.description) }
        if let sm = summary {
            print(String(format: "%@ %d-fold: segment accuracy %.2f ± %.2f %%, track accuracy %.2f ± %.2f %%",
                         model, splits.count, 100 * sm.segment.mean, 100 * sm.segment.std, 100 * sm.track.mean, 100 * sm.track.std))
        }
    }
}

/// How the tracks are divided into training, validation and test parts (fit --split and its parameters).
struct SplitArguments: ParsableArguments {
    @Option(help: "Split: track, random, kfold or filtered.")
    var split: SplitKind = .track

    @Option(help: "Validation fraction per genre (taken from the training part).")
    var valFraction: Double = 0.1

    @Option(help: "Test fraction per genre (0 when evaluating on another folder).")
    var testFraction: Double = 0.2

    @Option(help: "Folds for --split kfold.")
    var folds: Int = 5

    /// The split's parameters with the run's seed.
    func options(seed: UInt64) -> SplitOptions {
        SplitOptions(validationFraction: valFraction, testFraction: testFraction, folds: folds, seed: seed)
    }
}

/// The optimiser's schedule: epochs, batches, early stopping and learning rate (checked by FitCommand.validate,
/// whose message also names --filters).
struct ScheduleArguments: ParsableArguments {
    @Option(help: "Maximum epochs.")
    var epochs: Int = 60

    @Option(help: "Mini-batch size.")
    var batch: Int = 32

    @Option(help: "Early-stopping patience in epochs (on validation loss).")
    var patience: Int = 10

    @Option(help: "Epochs before early stopping counts (default: enough for 300 steps, so that batch norm's moving averages have settled).")
    var minEpochs: Int?

    @Option(help: "Adam learning rate.")
    var lr: Float = 1e-3

    @Option(help: "Learning-rate schedule: constant, plateau or cosine.")
    var lrSchedule: LearningRateSchedule = .constant

    func apply(to o: inout TrainOptions) {
        o.epochs = epochs
        o.batchSize = batch
        o.patience = patience
        o.minEpochs = minEpochs
        o.learningRate = lr
        o.schedule = lrSchedule
    }
}

/// Augmentation of the training examples themselves: time and frequency masks and mixup.
struct ExampleAugmentationArguments: ParsableArguments {
    @Option(help: "Augmentation: mask up to this many frames per example (0 = off).")
    var timeMask: Int = 0

    @Option(help: "Augmentation: mask up to this many MFCC coefficients per example (0 = off).")
    var freqMask: Int = 0

    @Option(help: "Mixup with Beta(a, a) weights (0 = off; default 0.2, the default recipe's: docs/out-of-pool.md; 0 with --recipe paper).")
    var mixup: Float?

    /// Mixup defaults to 0.2 with the default recipe and 0 with the paper's.
    func apply(to o: inout TrainOptions, paperRecipe: Bool) {
        o.timeMask = timeMask
        o.frequencyMask = freqMask
        o.mixupAlpha = mixup ?? (paperRecipe ? 0 : 0.2)
    }
}

/// The network's input representation: --no-normalize and --normalize.
struct InputArguments: ParsableArguments {
    @Flag(help: "Feed raw MFCCs (the paper's input) instead of per-coefficient standardised ones (= --normalize none).")
    var noNormalize = false

    @Option(help: ArgumentHelp("Input normalisation: coefficient (default: per-coefficient standardisation with the training tracks' statistics), none (raw MFCCs, = --no-normalize), segment (each segment's own mean and deviation per coefficient, CMVN; float only: crnn-quantize refuses it), segment-mean (each segment's own mean per coefficient removed, then per-coefficient standardisation; float only).", valueName: "mode"))
    var normalize: String?

    /// (standardise per coefficient, per-segment step); without --normalize, the paper's recipe feeds raw MFCCs.
    func mode(paperRecipe: Bool) throws -> (Bool, SegmentNormalization) {
        let mode = normalize ?? (noNormalize || paperRecipe ? "none" : "coefficient")
        if noNormalize && mode != "none" { throw ValidationError("--no-normalize contradicts --normalize \(mode)") }
        switch mode {
        case "coefficient": return (true, .none)
        case "none": return (false, .none)
        case "segment": return (false, .meanVariance)
        case "segment-mean": return (true, .mean)
        default: throw ValidationError("--normalize must be coefficient, none, segment or segment-mean")
        }
    }
}
