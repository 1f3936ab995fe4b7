import ArgumentParser
import AudioIO
import CRNNRuntime
import Features
import Foundation
import Quantization
import Training

enum MethodName: String, ExpressibleByArgument, CaseIterable {
    case minmax, percentile, mse
}

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Fold, calibrate and quantize a float checkpoint into an int8 model file (the default command).",
        discussion: """
            Weights are int8 symmetric per output channel, activations int8 asymmetric per tensor, biases int32, \
            requantization Q31 multiplier + shift (docs/quantization.md). The per-coefficient input standardisation \
            is done in integers before the int8 input cast; batch norms 1 and 2 become integer per-channel affine \
            steps and batch norm 3 is folded into the recurrent (or dense) layer's input weights.

            Calibration (--calibration DIR|FEATURES: a dataset folder, whose features are extracted first, or a \
            feature file): when the set holds the checkpoint's tracks, only its TRAINING tracks are used, never \
            validation or test tracks. Ranges: percentile (default; --percentile, default 99.99), minmax or mse \
            (the clipping that minimises the quantization error); the logits always keep their min/max range.

            Evaluation runs the int8 model in CRNNRuntime's interpreter on float MFCCs rounded to Q23.8: float and \
            int8 segment and track accuracy and top-1 agreement, on --eval (its held-out test tracks when it holds \
            the checkpoint's tracks), or else on the calibration set's test tracks when it has them. Per-layer SQNR \
            (float layer output vs dequantized int8) is measured on the calibration segments.

            --report DIR writes quantize-report.md and quantize-report.json (float_segment_accuracy, \
            int8_segment_accuracy, float_track_accuracy, int8_track_accuracy, agreement as fractions 0-1; \
            model_bytes, network_bytes, frontend_bytes, float_weight_bytes, arena_bytes; layers with name and sqnr_db).

            Device path: when the evaluation set is a dataset folder (audio available), each evaluated clip is also \
            decoded, converted to int16 PCM (round(x * 32768), as crnn-train convert writes WAVs), cut into segments \
            and classified exactly as crnn-infer does (fixed-point MFCC + int8 network; clip genre = argmax of the \
            summed Q15 segment probabilities): device_segment_accuracy, device_track_accuracy, device_agreement \
            (with the float model), device_vs_int8_agreement (with the int8 network on the float MFCC of the same \
            int16 audio), mfcc_snr_db_min / mfcc_snr_db_mean (fixed vs float MFCC) and device_tracks (per clip: \
            track_id, genre, scores_q15 in class order, segment_genres). With a feature file these keys are null.
            """)

    @Argument(help: "Float checkpoint (model.ckpt written by crnn-train fit).")
    var checkpoint: String

    @Option(help: "Calibration data: a dataset folder or a feature file.")
    var calibration: String

    @Option(help: "Model file to write (.crnn).")
    var out: String

    @Option(help: "Evaluation data: a dataset folder or a feature file (default: the calibration set's test tracks).")
    var eval: String?

    @Option(help: "Write quantize-report.md and quantize-report.json into this folder.")
    var report: String?

    @OptionGroup var ranging: CalibrationArguments

    @OptionGroup var outOfPool: OutOfPoolArguments

    @Option(help: "Fixed-point frontend version of the model file: 1 (default) keeps the log-mel in 32 bits; 2 rounds each frame's log-mel to 16 bits and uses the faster radix-4 FFT, so that a stream keeps and reuses frames (for streaming, boards and microcontrollers; the shipped models use it). Version 2's device path agreed with the float-MFCC int8 path on 98.5 % of gtzan-mini segments, version 1's on 99.5-100 % (docs/fixed-point-mfcc.md).")
    var frontendVersion: UInt32 = 1

    @Flag(help: "No progress bars.")
    var quiet = false

    func validate() throws {
        if frontendVersion < 1 || frontendVersion > FrontendTables.latestVersion {
            throw ValidationError("--frontend-version must be 1...\(FrontendTables.latestVersion)")
        }
        try ranging.check()
        _ = try outOfPool.conditionSet()
    }

    /// Loads a dataset folder (extracting its features with the checkpoint's configuration) or a feature file,
    /// and checks that it matches the checkpoint. `audioRoot` is the folder when the set is one (audio available).
    func loadSet(_ path: String, for ckpt: Checkpoint, role: String) throws -> (cache: FeatureCache, audioRoot: String?) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw badInput("\(path): no such \(role) folder or feature file")
        }
        let cache: FeatureCache
        if isDir.boolValue {
            do {
                let index = try DatasetIndex(root: path)
                let (c, summary) = try DatasetExtractor.extract(index: index, config: ckpt.featureConfig, showProgress: !quiet)
                for w in summary.warnings { warn("warning: skipped \(w)") }
                cache = c
            } catch { throw badInput(error.description) }
        } else {
            do { cache = try FeatureCache(contentsOf: path) } catch { throw badInput(error.description) }
        }
        guard cache.config == ckpt.featureConfig else {
            throw badInput("\(path): the \(role) features were made with another feature configuration than the checkpoint's; re-extract them")
        }
        guard cache.labels == ckpt.meta.labels else {
            throw badInput("\(path): the \(role) set's genres \(cache.labels) differ from the checkpoint's \(ckpt.meta.labels)")
        }
        return (cache, isDir.boolValue ? path : nil)
    }

    func run() throws {
        let ckpt: Checkpoint
        do { ckpt = try Checkpoint(contentsOf: checkpoint) } catch { throw badInput(error.description) }
        do { try Quantizer.checkInputRepresentable(ckpt.meta) } catch { throw badInput("\(checkpoint): \(error.description)") }
        do { _ = try FloatModel(ckpt) } catch { throw badInput("\(checkpoint): \(error)") }

        let (calCache, calAudio) = try loadSet(calibration, for: ckpt, role: "calibration")
        let cal: SegmentSelection
        do { cal = try SegmentSelection.calibration(calCache, checkpoint: ckpt, limit: ranging.calibrationSegments, augmented: ranging.calibrateAugmented) } catch {
            throw badInput("\(calibration): \(error.description)")
        }
        warn("calibration: \(cal.scope)")
        var evalSet: SegmentSelection?
        var evalAudio: String?
        if let e = eval {
            let (cache, audio) = try loadSet(e, for: ckpt, role: "evaluation")
            evalAudio = audio
            guard let s = SegmentSelection.evaluation(cache, checkpoint: ckpt) else {
                throw badInput("\(e): this set holds the model's tracks but none of its held-out (test, or without a test part validation) tracks")
            }
            evalSet = s
        } else {
            let known = Set(ckpt.meta.trainTracks + ckpt.meta.validationTracks + ckpt.meta.testTracks)
            if calCache.tracks.contains(where: { known.contains($0.trackID) }) {
                evalSet = SegmentSelection.evaluation(calCache, checkpoint: ckpt)
                evalAudio = calAudio
            }
        }
        if let es = evalSet { warn("evaluation: \(es.scope)") }

        var pipeline = QuantizePipeline(checkpoint: ckpt, checkpointPath: checkpoint, outputPath: out, calibration: cal)
        pipeline.frontendVersion = frontendVersion
        pipeline.evaluation = evalSet
        pipeline.evaluationAudio = evalAudio
        pipeline.method = ranging.method
        if let r = ranging.ranges {
            guard let d = FileManager.default.contents(atPath: r), let v = try? JSONDecoder().decode(CalibratedRanges.self, from: d) else {
                throw badInput("\(r): not a ranges file written by --save-ranges")
            }
            pipeline.ranges = v
        }
        pipeline.outOfPoolConditions = try outOfPool.conditionSet()
        pipeline.outOfPoolExtra = outOfPool.evalExtra
        pipeline.outOfPoolSeed = outOfPool.evalSeed
        let q = quiet
        pipeline.progress = { q ? nil : ProgressBar(total: $1, label: $0, unit: "segments") }

        let result: QuantizePipeline.Result
        do {
            result = try pipeline.run { model, calibrated in
                if let s = ranging.saveRanges {
                    let e = JSONEncoder()
                    e.outputFormatting = [.prettyPrinted, .sortedKeys]
                    do { try writeAtomically(Array(try e.encode(calibrated)), to: s) } catch { throw QuantizationError("\(s): \(error)") }
                }
                do { try writeAtomically(model.bytes, to: out) } catch { throw QuantizationError("\(out): \(error)") }
                warn("wrote \(out): \(model.bytes.count) bytes")
            }
        } catch { throw badInput(error.description) }
        let r = result.report
        print("\(ckpt.meta.model): \(out), calibration \(result.ranges.method)")
        for line in r.summaryLines { print(line) }
        if let dir = report {
            do { try r.write(to: dir) } catch { throw badInput("\(dir): \(error)") }
            warn("wrote \(dir)/quantize-report.md and quantize-report.json")
        }
    }
}

/// How the int8 ranges are calibrated (or read back), and which calibration segments count.
struct CalibrationArguments: ParsableArguments {
    @Option(help: "Range calibration: percentile (default: it agreed with the float models at least as well as minmax in every gtzan-mini run measured), minmax or mse.")
    var calibrationMethod: MethodName = .percentile

    @Option(help: "Percentile for --calibration-method percentile (two-sided: p and 100 - p).")
    var percentile: Double = 99.99

    @Option(help: "Use at most this many (evenly spaced) calibration segments.")
    var calibrationSegments: Int?

    @Option(help: "Build from these calibrated ranges (JSON written by --save-ranges) instead of calibrating.")
    var ranges: String?

    @Option(help: "Write the calibrated ranges as JSON (to rebuild the same model bit for bit with --ranges).")
    var saveRanges: String?

    @Flag(inversion: .prefixedNo, help: "Also calibrate on the degraded copies of the calibration tracks when the feature file has them (crnn-train features --augment, the default recipe), so the int8 ranges cover the audio the model was trained for.")
    var calibrateAugmented = true

    /// The usage checks of these options (called by QuantizeCommand.validate, after --frontend-version's).
    func check() throws {
        if !(50 < percentile && percentile <= 100) { throw ValidationError("--percentile must be in (50, 100]") }
        if let n = calibrationSegments, n < 1 { throw ValidationError("--calibration-segments must be at least 1") }
    }

    var method: CalibrationMethod {
        switch calibrationMethod {
        case .minmax: .minMax
        case .percentile: .percentile(percentile)
        case .mse: .mse
        }
    }
}

/// The out-of-pool rows of the report: the evaluated tracks degraded, and other folders.
struct OutOfPoolArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Out of pool: the --eval folder's evaluated tracks degraded under these conditions (comma-separated: resample-16k, resample-8k, ogg-vorbis-q0.3, mp3-q0.5, gain-20db, noise-snr20db, speed+3%, speed-3%, bandpass-300-3400), or all (default), or none; device path vs float per condition (docs/out-of-pool.md). Needs --eval to be a dataset folder.", valueName: "list"))
    var evalConditions: String = "all"

    @Option(help: "Out of pool: another dataset folder of tracks the model has not seen (repeatable), e.g. ../shared/data/gtzan-extra: device path vs float on every clip not trained on.")
    var evalExtra: [String] = []

    @Option(help: "Seed of the random degradations (noise) of the out-of-pool rows.")
    var evalSeed: UInt64 = 1

    /// The --eval-conditions names (nil = all, empty = none).
    func conditionSet() throws -> Set<String>? {
        switch evalConditions {
        case "all": return nil
        case "none": return []
        default:
            let names = Set(evalConditions.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            if let bad = names.first(where: { n in !AugmentationPlan.known.contains { $0.description == n } }) {
                throw ValidationError("--eval-conditions: unknown condition \(bad) (all, none, or names of docs/out-of-pool.md: "
                                      + AugmentationPlan.known.map(\.description).joined(separator: ", ") + ")")
            }
            return names
        }
    }
}
