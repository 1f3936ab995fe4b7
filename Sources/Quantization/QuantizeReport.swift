// What `crnn-quantize` prints and writes: quantize-report.md and quantize-report.json.
import Foundation
import Training

/// The figures of one quantization run. JSON keys are snake_case; fractions are 0-1; a missing evaluation
/// gives nulls for the accuracy keys.
public struct QuantizeReport: Encodable, Sendable {
    public struct Layer: Encodable, Sendable {
        public var name: String
        public var floatLayer: String
        /// nil when the int8 tensor equals the float one exactly (no noise).
        public var sqnrDb: Double?
        public var values: Int
    }

    public var model: String
    public var checkpoint: String
    public var output: String
    public var calibrationMethod: String
    public var calibrationScope: String
    public var evaluationScope: String?
    public var floatSegmentAccuracy: Double?
    public var int8SegmentAccuracy: Double?
    public var floatTrackAccuracy: Double?
    public var int8TrackAccuracy: Double?
    public var segmentAccuracyChangePoints: Double?
    public var trackAccuracyChangePoints: Double?
    public var agreement: Double?
    public var evaluationSegments: Int?
    public var evaluationTracks: Int?
    /// What the device-path evaluation did, or why it did not run (e.g. the evaluation set is a feature file).
    public var devicePath: String?
    public var deviceSegmentAccuracy: Double?
    public var deviceTrackAccuracy: Double?
    /// Device top-1 vs the float model's top-1.
    public var deviceAgreement: Double?
    /// Device top-1 vs the int8 network's on the float MFCC of the same Int16 audio (the fixed-point frontend alone).
    public var deviceVsInt8Agreement: Double?
    /// The int8 network's segment accuracy on the float MFCC of the same Int16 audio.
    public var int8Pcm16FloatMfccSegmentAccuracy: Double?
    public var mfccSnrDbMin: Double?
    public var mfccSnrDbMean: Double?
    public var mfccMaxAbsError: Double?
    public var deviceSegments: Int?
    /// The model's genres, in class order (the order of `DeviceTrack.meanQ15`).
    public var labels: [String]
    public var deviceTracks: [DeviceTrack]?
    public var modelBytes: Int
    public var networkBytes: Int
    public var frontendBytes: Int
    public var floatWeightBytes: Int
    public var networkFraction: Double
    public var arenaBytes: Int
    public var layers: [Layer]
    public var ranges: [String: [Double]]
    public var lstmCellFractionBits: [String: Int32]
    /// Out of pool (`--eval` folder's evaluated tracks degraded, `--eval-extra` folders): one row per condition;
    /// nil when not run (no audio, or `--eval-conditions none` and no extra folder).
    public var outOfPool: [OutOfPoolRow]?
    /// What the out-of-pool rows are, or why they did not run.
    public var outOfPoolScope: String?
    /// Device top-1 == float top-1 over all out-of-pool segments (degraded and other-folder rows pooled).
    public var outOfPoolDeviceAgreement: Double? { outOfPool.flatMap { OutOfPoolRunner.pooledAgreement($0) } }
    /// The lowest per-row device agreement out of pool.
    public var outOfPoolDeviceAgreementMin: Double? { outOfPool?.compactMap(\.deviceAgreement).min() }

    public init(model: String, checkpoint: String, output: String, ranges: CalibratedRanges, calibrationScope: String,
                sizes: ModelSizes, sqnr: [LayerSQNR], accuracy: AccuracyComparison?, labels: [String] = [],
                device: DevicePathComparison? = nil, devicePath: String? = nil) {
        self.model = model
        self.checkpoint = ProvenancePath.relative(checkpoint)  // no absolute path of the machine that made it
        self.output = ProvenancePath.relative(output)
        calibrationMethod = ranges.method
        self.calibrationScope = calibrationScope
        evaluationScope = accuracy?.scope
        floatSegmentAccuracy = accuracy?.floatSegmentAccuracy
        int8SegmentAccuracy = accuracy?.int8SegmentAccuracy
        floatTrackAccuracy = accuracy?.floatTrackAccuracy
        int8TrackAccuracy = accuracy?.int8TrackAccuracy
        segmentAccuracyChangePoints = accuracy?.segmentChangePoints
        trackAccuracyChangePoints = accuracy?.trackChangePoints
        agreement = accuracy?.agreement
        evaluationSegments = accuracy?.segments
        evaluationTracks = accuracy?.tracks
        self.labels = labels
        self.devicePath = devicePath
        deviceSegmentAccuracy = device?.segmentAccuracy
        deviceTrackAccuracy = device?.trackAccuracy
        deviceAgreement = device?.agreementWithFloat
        deviceVsInt8Agreement = device?.agreementWithInt8OnFloatMFCC
        int8Pcm16FloatMfccSegmentAccuracy = device?.int8OnFloatMFCCSegmentAccuracy
        mfccSnrDbMin = device?.mfccSNRMinDB
        mfccSnrDbMean = device?.mfccSNRMeanDB
        mfccMaxAbsError = device?.mfccMaxAbsError
        deviceSegments = device?.segments
        deviceTracks = device?.tracks
        modelBytes = sizes.modelBytes
        networkBytes = sizes.networkBytes
        frontendBytes = sizes.frontendBytes
        floatWeightBytes = sizes.floatWeightBytes
        networkFraction = sizes.networkFraction
        arenaBytes = sizes.arenaBytes
        layers = sqnr.map { Layer(name: $0.name, floatLayer: $0.floatLayer, sqnrDb: $0.sqnrDB.isFinite ? $0.sqnrDB : nil, values: $0.values) }
        self.ranges = ranges.ranges
        lstmCellFractionBits = ranges.cellFractionBits
    }

    enum CodingKeys: String, CodingKey {
        case model, checkpoint, output, calibrationMethod, calibrationScope, evaluationScope, floatSegmentAccuracy,
             int8SegmentAccuracy, floatTrackAccuracy, int8TrackAccuracy, segmentAccuracyChangePoints,
             trackAccuracyChangePoints, agreement, evaluationSegments, evaluationTracks, devicePath, deviceSegmentAccuracy,
             deviceTrackAccuracy, deviceAgreement, deviceVsInt8Agreement, int8Pcm16FloatMfccSegmentAccuracy, mfccSnrDbMin,
             mfccSnrDbMean, mfccMaxAbsError, deviceSegments, labels, deviceTracks, modelBytes, networkBytes,
             frontendBytes, floatWeightBytes, networkFraction, arenaBytes, layers, ranges, lstmCellFractionBits,
             outOfPool, outOfPoolScope, outOfPoolDeviceAgreement, outOfPoolDeviceAgreementMin
    }

    /// Encodes every key, with null for absent values (so a reader always finds the documented keys).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeAll([
            .model: model, .checkpoint: checkpoint, .output: output, .calibrationMethod: calibrationMethod,
            .calibrationScope: calibrationScope, .evaluationScope: evaluationScope,
            .floatSegmentAccuracy: floatSegmentAccuracy, .int8SegmentAccuracy: int8SegmentAccuracy,
            .floatTrackAccuracy: floatTrackAccuracy, .int8TrackAccuracy: int8TrackAccuracy,
            .segmentAccuracyChangePoints: segmentAccuracyChangePoints, .trackAccuracyChangePoints: trackAccuracyChangePoints,
            .agreement: agreement, .evaluationSegments: evaluationSegments, .evaluationTracks: evaluationTracks,
            .devicePath: devicePath, .deviceSegmentAccuracy: deviceSegmentAccuracy, .deviceTrackAccuracy: deviceTrackAccuracy,
            .deviceAgreement: deviceAgreement, .deviceVsInt8Agreement: deviceVsInt8Agreement,
            .int8Pcm16FloatMfccSegmentAccuracy: int8Pcm16FloatMfccSegmentAccuracy, .mfccSnrDbMin: mfccSnrDbMin,
            .mfccSnrDbMean: mfccSnrDbMean, .mfccMaxAbsError: mfccMaxAbsError, .deviceSegments: deviceSegments,
            .labels: labels, .modelBytes: modelBytes, .networkBytes: networkBytes, .frontendBytes: frontendBytes,
            .floatWeightBytes: floatWeightBytes, .networkFraction: networkFraction, .arenaBytes: arenaBytes,
            .ranges: ranges, .lstmCellFractionBits: lstmCellFractionBits, .outOfPoolScope: outOfPoolScope,
            .outOfPoolDeviceAgreement: outOfPoolDeviceAgreement, .outOfPoolDeviceAgreementMin: outOfPoolDeviceAgreementMin,
        ])
        if let tracks = deviceTracks {
            // Class names as strings and scores in class order, so no key strategy touches a genre name.
            func name(_ c: Int) -> String { c < labels.count ? labels[c] : "\(c)" }
            var list = c.nestedUnkeyedContainer(forKey: .deviceTracks)
            for t in tracks {
                var o = list.nestedContainer(keyedBy: DeviceTrackKeys.self)
                try o.encodeAll([
                    .trackId: t.trackID, .relativePath: t.relativePath, .truth: name(t.label), .genre: name(t.predicted),
                    .scoresQ15: t.meanQ15, .segments: t.segmentTop1.count, .segmentGenres: t.segmentTop1.map(name),
                ])
            }
        } else {
            try c.encodeNil(forKey: .deviceTracks)
        }
        var layersContainer = c.nestedUnkeyedContainer(forKey: .layers)
        for l in layers {
            var o = layersContainer.nestedContainer(keyedBy: LayerKeys.self)
            try o.encodeAll([.name: l.name, .floatLayer: l.floatLayer, .sqnrDb: l.sqnrDb, .values: l.values])
        }
        if let rows = outOfPool {
            // Figures only (no per-genre dictionaries: no key strategy may touch a genre name).
            var list = c.nestedUnkeyedContainer(forKey: .outOfPool)
            for r in rows {
                var o = list.nestedContainer(keyedBy: OutOfPoolKeys.self)
                try o.encodeAll([
                    .condition: r.condition, .kind: r.kind, .tracks: r.tracks, .segments: r.segments,
                    .floatTrackAccuracy: r.floatTrackAccuracy, .floatSegmentAccuracy: r.floatSegmentAccuracy,
                    .deviceTrackAccuracy: r.deviceTrackAccuracy, .deviceSegmentAccuracy: r.deviceSegmentAccuracy,
                    .deviceAgreement: r.deviceAgreement,
                ])
            }
        } else {
            try c.encodeNil(forKey: .outOfPool)
        }
    }
    enum OutOfPoolKeys: String, CodingKey {
        case condition, kind, tracks, segments, floatTrackAccuracy, floatSegmentAccuracy, deviceTrackAccuracy,
             deviceSegmentAccuracy, deviceAgreement
    }
    enum LayerKeys: String, CodingKey { case name, floatLayer, sqnrDb, values }
    enum DeviceTrackKeys: String, CodingKey { case trackId, relativePath, truth, genre, scoresQ15, segments, segmentGenres }

    public func json() -> Data {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try! e.encode(self)
    }

    static func pct(_ x: Double?) -> String { x.map { String(format: "%.2f %%", 100 * $0) } ?? "-" }
    static func db(_ x: Double?) -> String { x.map { String(format: "%.2f dB", $0) } ?? "-" }
    static func points(_ x: Double?) -> String { x.map { String(format: "%+.2f points", $0) } ?? "-" }
    /// A markdown table: the header row, its `|---|` rule, one row per entry (an empty cell is written `| |`).
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        func row(_ cells: [String]) -> String { "|" + cells.map { $0.isEmpty ? " |" : " \($0) |" }.joined() + "\n" }
        return row(header) + "|" + String(repeating: "---|", count: header.count) + "\n" + rows.map(row).joined()
    }

    /// The sizes, per-layer SQNR and accuracy lines the command prints.
    public var summaryLines: [String] {
        var l: [String] = []
        l.append(String(format: "sizes: model file %d B (network %d B = %.1f %% of the %d B of float32 weights; frontend tables %d B; headers and tables %d B), arena %d B",
                        modelBytes, networkBytes, 100 * networkFraction, floatWeightBytes, frontendBytes,
                        modelBytes - networkBytes - frontendBytes, arenaBytes))
        l.append("per-layer SQNR (float vs int8, \(calibrationScope)):")
        for x in layers {
            l.append("  " + x.name.padding(toLength: 52, withPad: " ", startingAt: 0)
                     + (x.sqnrDb.map { String(format: "%6.1f dB", $0) } ?? "   exact"))
        }
        if let a = agreement {
            l.append("evaluation on \(evaluationScope ?? ""):")
            l.append("  segment accuracy: float \(Self.pct(floatSegmentAccuracy)), int8 \(Self.pct(int8SegmentAccuracy)) (\(Self.points(segmentAccuracyChangePoints)))")
            l.append("  track accuracy:   float \(Self.pct(floatTrackAccuracy)), int8 \(Self.pct(int8TrackAccuracy)) (\(Self.points(trackAccuracyChangePoints)))")
            l.append(String(format: "  top-1 agreement: %.2f %% of %d segments", 100 * a, evaluationSegments ?? 0))
            if let d = deviceAgreement {
                l.append("device path (\(devicePath ?? "")):")
                l.append("  segment accuracy: device \(Self.pct(deviceSegmentAccuracy)) beside int8 on float MFCC \(Self.pct(int8SegmentAccuracy)), float \(Self.pct(floatSegmentAccuracy))")
                l.append("  track accuracy:   device \(Self.pct(deviceTrackAccuracy)) beside int8 on float MFCC \(Self.pct(int8TrackAccuracy)), float \(Self.pct(floatTrackAccuracy))")
                l.append(String(format: "  device agreement with the float model: %.2f %% of %d segments", 100 * d, deviceSegments ?? 0))
                l.append("  fixed vs float MFCC (int8 net on both, same int16 audio): agreement \(Self.pct(deviceVsInt8Agreement)); SNR min \(Self.db(mfccSnrDbMin)), mean \(Self.db(mfccSnrDbMean)); max abs error \(mfccMaxAbsError.map { String(format: "%.4f", $0) } ?? "-")")
            } else if let why = devicePath {
                l.append("device path: \(why)")
            }
            if let rows = outOfPool, let pooled = outOfPoolDeviceAgreement {
                l.append("out of pool (\(outOfPoolScope ?? "")):")
                for r in rows {
                    l.append("  " + r.condition.padding(toLength: 20, withPad: " ", startingAt: 0)
                             + "track accuracy float \(Self.pct(r.floatTrackAccuracy)), device \(Self.pct(r.deviceTrackAccuracy)); device agreement \(Self.pct(r.deviceAgreement)) of \(r.segments) segments")
                }
                l.append("  device agreement out of pool: \(Self.pct(pooled)) of \(rows.map(\.segments).reduce(0, +)) segments (lowest row \(Self.pct(outOfPoolDeviceAgreementMin)))")
            } else if let why = outOfPoolScope {
                l.append("out of pool: \(why)")
            }
        } else {
            l.append("no evaluation set (give --eval, or a calibration set that holds the checkpoint's test tracks)")
        }
        return l
    }

    public func markdown() -> String {
        var s = "# \(model): int8 quantization\n\n"
        s += "Checkpoint `\(checkpoint)` -> `\(output)`. Calibration: \(calibrationMethod) on \(calibrationScope).\n\n"
        s += "## Accuracy (float vs int8, the int8 model run by CRNNRuntime's interpreter)\n\n"
        if agreement != nil {
            s += "Evaluated on \(evaluationScope ?? "").\n\n"
            s += Self.table(["metric", "float", "int8", "change"], [
                ["segment accuracy", Self.pct(floatSegmentAccuracy), Self.pct(int8SegmentAccuracy),
                 Self.points(segmentAccuracyChangePoints)],
                ["track accuracy", Self.pct(floatTrackAccuracy), Self.pct(int8TrackAccuracy), Self.points(trackAccuracyChangePoints)],
                ["top-1 agreement", "", Self.pct(agreement), ""],
            ]) + "\n"
            s += "## Device path (audio -> fixed-point MFCC -> int8 network, as crnn-infer)\n\n"
            if deviceAgreement != nil {
                s += "\(devicePath ?? "").\n\n"
                s += Self.table(["metric", "float", "int8 on float MFCC", "device"], [
                    ["segment accuracy", Self.pct(floatSegmentAccuracy), Self.pct(int8SegmentAccuracy), Self.pct(deviceSegmentAccuracy)],
                    ["track accuracy", Self.pct(floatTrackAccuracy), Self.pct(int8TrackAccuracy), Self.pct(deviceTrackAccuracy)],
                    ["top-1 agreement with the float model", "", Self.pct(agreement), Self.pct(deviceAgreement)],
                ]) + "\n"
                s += "Fixed vs float MFCC on the same int16 segments (\(deviceSegments ?? 0)): top-1 agreement of the int8 network on the two "
                s += "\(Self.pct(deviceVsInt8Agreement)) (int8 on this float MFCC: segment accuracy \(Self.pct(int8Pcm16FloatMfccSegmentAccuracy))); "
                s += "SNR min \(Self.db(mfccSnrDbMin)), mean \(Self.db(mfccSnrDbMean)); max abs error \(mfccMaxAbsError.map { String(format: "%.4f", $0) } ?? "-").\n\n"
                if let tracks = deviceTracks {
                    s += "| track | truth | device genre | device score |\n|---|---|---|---|\n"
                    for t in tracks {
                        let name = t.predicted < labels.count ? labels[t.predicted] : "\(t.predicted)"
                        let truth = t.label < labels.count ? labels[t.label] : "\(t.label)"
                        s += "| \(t.trackID) | \(truth) | \(name) | \(String(format: "%.4f", Double(t.meanQ15[t.predicted]) / 32768)) |\n"
                    }
                    s += "\n"
                }
            } else {
                s += "Not evaluated: \(devicePath ?? "no audio").\n\n"
            }
        } else {
            s += "No evaluation set.\n\n"
        }
        if let rows = outOfPool {
            s += "## Out of pool (device path vs float)\n\n\(outOfPoolScope ?? "").\n\n"
            s += "| condition | kind | tracks | segments | float track | device track | float segment | device segment | device = float |\n"
            s += "|---|---|---:|---:|---:|---:|---:|---:|---:|\n"
            for r in rows {
                s += "| \(r.condition) | \(r.kind) | \(r.tracks) | \(r.segments) | \(Self.pct(r.floatTrackAccuracy)) | \(Self.pct(r.deviceTrackAccuracy)) | "
                s += "\(Self.pct(r.floatSegmentAccuracy)) | \(Self.pct(r.deviceSegmentAccuracy)) | \(Self.pct(r.deviceAgreement)) |\n"
            }
            s += "\nPooled device agreement: \(Self.pct(outOfPoolDeviceAgreement)) (lowest row \(Self.pct(outOfPoolDeviceAgreementMin))).\n\n"
        } else if let why = outOfPoolScope {
            s += "## Out of pool\n\nNot evaluated: \(why).\n\n"
        }
        s += "## Sizes\n\n" + Self.table(["part", "bytes"], [
            ["model file", "\(modelBytes)"],
            ["network (weights, biases, quantization parameters)",
             "\(networkBytes) (\(String(format: "%.1f", 100 * networkFraction)) % of float32)"],
            ["frontend tables", "\(frontendBytes)"],
            ["float32 weights of the checkpoint", "\(floatWeightBytes)"],
            ["interpreter arena", "\(arenaBytes)"],
        ]) + "\n"
        s += "## Per-layer SQNR (float layer output vs dequantized int8, end to end up to that layer)\n\n"
        s += "| layer | float layer | SQNR (dB) | range |\n|---|---|---|---|\n"
        for x in layers {
            let r = ranges[x.floatLayer].map { String(format: "[%.4g, %.4g]", $0[0], $0[1]) } ?? "fixed 2^-7"
            s += "| \(x.name) | \(x.floatLayer) | \(x.sqnrDb.map { String(format: "%.1f", $0) } ?? "exact") | \(r) |\n"
        }
        if !lstmCellFractionBits.isEmpty {
            s += "\nLSTM cell state: " + lstmCellFractionBits.sorted { $0.key < $1.key }.map { "\($0.key) Q\(15 - $0.value).\($0.value)" }.joined(separator: ", ") + "\n"
        }
        return s
    }

    /// Writes quantize-report.md and quantize-report.json into `dir` (created if needed).
    public func write(to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(markdown().utf8).write(to: URL(fileURLWithPath: dir + "/quantize-report.md"))
        try json().write(to: URL(fileURLWithPath: dir + "/quantize-report.json"))
    }
}

extension KeyedEncodingContainer {
    /// Encodes every (key, value) pair; an absent optional is written as null (`encode`, not `encodeIfPresent`),
    /// so a reader always finds the documented keys.
    mutating func encodeAll(_ fields: KeyValuePairs<Key, any Encodable>) throws {
        for (key, value) in fields { try encode(value, forKey: key) }
    }
}
