// crnn-quantize's pipeline as a library step (testable without the command line): calibrate (or take given
// ranges) -> build the int8 model -> validate it as the runtime will -> per-layer SQNR -> int8 vs float on the
// evaluation segments -> the device path from the evaluation clips' audio -> out of pool -> the report.
import CRNNRuntime
import Features
import Foundation
import Training

public struct QuantizePipeline {
    public var checkpoint: Checkpoint
    /// Paths as the report names them.
    public var checkpointPath: String
    public var outputPath: String
    public var calibration: SegmentSelection
    /// The evaluation segments, and the dataset folder holding their audio (the device path needs it).
    public var evaluation: SegmentSelection?
    public var evaluationAudio: String?
    public var method: CalibrationMethod = .percentile(99.99)
    /// Ranges to build from instead of calibrating (`--ranges`).
    public var ranges: CalibratedRanges?
    /// Out-of-pool conditions for the evaluated clips: nil = every standard degradation, [] = none.
    public var outOfPoolConditions: Set<String>?
    /// Other dataset folders of unseen tracks (`--eval-extra`).
    public var outOfPoolExtra: [String] = []
    public var outOfPoolSeed: UInt64 = 1
    /// The frontend version written into the model (`--frontend-version`; FrontendTables.version). Default 1: version 2
    /// (stream frame reuse) agreed with the float-MFCC int8 path on 98.5 % of gtzan-mini segments, under the 99 % of
    /// tools/device_parity.sh (docs/fixed-point-mfcc.md §10).
    public var frontendVersion: UInt32 = 1
    /// A progress bar for a stage (label, total segments), or nil for none.
    public var progress: (String, Int) -> ProgressBar? = { _, _ in nil }

    public init(checkpoint: Checkpoint, checkpointPath: String, outputPath: String, calibration: SegmentSelection) {
        self.checkpoint = checkpoint
        self.checkpointPath = checkpointPath
        self.outputPath = outputPath
        self.calibration = calibration
    }

    public struct Result {
        public var model: QuantizedModel
        public var ranges: CalibratedRanges
        public var report: QuantizeReport
    }

    /// Runs the pipeline. `built` is called as soon as the model exists (before the evaluations), e.g. to write it.
    public func run(built: (QuantizedModel, CalibratedRanges) throws -> Void = { _, _ in }) throws(QuantizationError) -> Result {
        let ckpt = checkpoint
        try Quantizer.checkInputRepresentable(ckpt.meta)
        let fm = try step("float model") { try FloatModel(ckpt) }
        let calibrated: CalibratedRanges
        if let r = ranges {
            calibrated = r
        } else {
            let bar = progress("calibrate", calibration.segments.count * (method.needsHistogram ? 2 : 1))
            calibrated = try Calibrator.calibrate(fm, data: calibration, method: method, progress: bar)
            bar?.finish()
        }
        let qm = try Quantizer.build(checkpoint: ckpt, ranges: calibrated, frontendVersion: frontendVersion)
        try step("writing") { try built(qm, calibrated) }

        let aligned = AlignedModelBytes(qm.bytes)
        let file: ModelFile
        do { file = try ModelFile(bytes: aligned.raw) } catch {
            throw QuantizationError("the written model does not validate: \(error.message) (a quantizer bug)")
        }
        let sizes = ModelSizes(model: file, floatWeightBytes: ckpt.weightBytes, arenaBytes: ArenaPlan(model: file).arenaBytes)

        let sqnrBar = progress("SQNR", calibration.segments.count)
        let sqnr = try step("SQNR") { try Evaluator.layerSQNR(fm, model: qm, data: calibration, progress: sqnrBar) }
        sqnrBar?.finish()

        var accuracy: AccuracyComparison?
        var device: DevicePathComparison?
        var devicePath: String?
        if let es = evaluation {
            let bar = progress("evaluate", es.segments.count)
            let a = try step("evaluation") { try Evaluator.compare(fm, model: qm, data: es, progress: bar) }
            bar?.finish()
            accuracy = a
            // The device path (what crnn-infer computes) needs the evaluation clips' audio.
            if let root = evaluationAudio {
                let bar = progress("device path", es.segments.count)
                let d = try step("device path") {
                    try DeviceEvaluator.compare(model: qm, data: es, floatTop1: a.floatTop1, audioRoot: root, progress: bar)
                }
                bar?.finish()
                device = d
                devicePath = "\(d.tracks.count) clips of \(root) decoded to int16 PCM, fixed-point MFCC + int8 network, clip = ClipScores as crnn-infer"
            } else {
                devicePath = "not evaluated: the evaluation set is a feature file and the device path needs audio (give --eval a dataset folder)"
            }
        }

        var report = QuantizeReport(model: ckpt.meta.model, checkpoint: checkpointPath, output: outputPath, ranges: calibrated,
                                    calibrationScope: calibration.scope, sizes: sizes, sqnr: sqnr, accuracy: accuracy,
                                    labels: ckpt.meta.labels, device: device, devicePath: devicePath)
        (report.outOfPool, report.outOfPoolScope) = try outOfPool(model: qm.bytes)
        return Result(model: qm, ranges: calibrated, report: report)
    }

    /// The out-of-pool rows: the evaluated clips under each degradation, and the extra folders; or why none.
    func outOfPool(model: [UInt8]) throws(QuantizationError) -> ([OutOfPoolRow]?, String?) {
        let degrade = outOfPoolConditions.map { !$0.isEmpty } ?? true
        guard degrade || !outOfPoolExtra.isEmpty else { return (nil, "not run (--eval-conditions none and no --eval-extra)") }
        let ev = try step("out of pool") { try OutOfPoolEvaluator(checkpoint: checkpoint, int8: model) }
        let runner = OutOfPoolRunner(evaluator: ev, seed: outOfPoolSeed, conditions: outOfPoolConditions,
                                     progress: { [progress] in progress("oop " + $0, $1) })
        var rows: [OutOfPoolRow] = []
        var scope: [String] = []
        if degrade, let es = evaluation, let root = evaluationAudio {
            let ids = Set(es.segments.map { es.cache.tracks[es.cache.segmentTracks[$0]].trackID })
            let clips = try runner.decodeClips(root: root, trackIDs: ids)
            rows += try runner.heldOutRows(clips, includeClean: false)
            scope.append("the \(clips.count) evaluated tracks of \(root) degraded (seed \(outOfPoolSeed))")
        } else if degrade {
            scope.append("no degraded rows (they need --eval to be a dataset folder)")
        }
        for dir in outOfPoolExtra {
            let (row, leftOut) = try runner.otherFolderRow(dir)
            rows.append(row)
            scope.append("\(row.tracks) clips of \(dir)" + (leftOut > 0 ? " (\(leftOut) trained on, left out)" : ""))
        }
        return (rows.isEmpty ? nil : rows, scope.joined(separator: "; "))
    }

    /// Runs one stage; an error other than a QuantizationError is wrapped with the stage's name.
    private func step<T>(_ what: String, _ body: () throws -> T) throws(QuantizationError) -> T {
        do { return try body() } catch let e as QuantizationError { throw e } catch { throw QuantizationError("\(what): \(error)") }
    }
}
