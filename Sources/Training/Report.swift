import Features
import Foundation

/// Everything a run's reports show: segment and track accuracy, per-genre precision/recall/F1, confusion
/// matrices and the training history. Encoded to `metrics.json` with snake_case keys
/// (`segment_accuracy`, `track_accuracy`, `per_genre`, `confusion`, ...).
public struct EvaluationReport: Codable, Sendable {
    public var model: String
    public var split: String
    /// True for the segment-level random split, whose test accuracy is inflated by leakage.
    public var leaky: Bool
    public var labels: [String]
    public var segmentAccuracy: Double
    public var trackAccuracy: Double
    public var segments: Int
    public var tracks: Int
    /// Per genre (segment level): precision, recall, F1, support.
    public var perGenre: [String: ClassScores]
    public var macroF1: Double
    /// Segment-level confusion matrix, rows = true genre, columns = predicted, in `labels` order.
    public var confusion: [[Int]]
    public var trackConfusion: [[Int]]
    public var history: [EpochRecord]
    /// Epoch whose weights were kept (early stopping), 0 when not trained in this run.
    public var bestEpoch: Int
    public var notes: [String]

    /// Builds a report from segment probabilities (`segments x classes`, row-major).
    public init(model: String, split: String, leaky: Bool, labels: [String], probabilities: [Float],
                segmentLabels: [Int], segmentTracks: [Int], history: [EpochRecord] = [], bestEpoch: Int = 0,
                notes: [String] = []) {
        let k = labels.count
        let predicted = argmaxRows(probabilities, classCount: k)
        let seg = ClassificationMetrics(truth: segmentLabels, predicted: predicted, classCount: k)
        let tr = trackPredictions(probabilities: probabilities, classCount: k, segmentTrack: segmentTracks, segmentLabel: segmentLabels)
        let trm = ClassificationMetrics(truth: tr.map(\.truth), predicted: tr.map(\.predicted), classCount: k)
        self.model = model
        self.split = split
        self.leaky = leaky
        self.labels = labels
        segmentAccuracy = seg.accuracy
        trackAccuracy = trm.accuracy
        segments = seg.total
        tracks = trm.total
        perGenre = Dictionary(uniqueKeysWithValues: zip(labels, seg.perClass))
        macroF1 = seg.macroF1
        confusion = seg.confusion
        trackConfusion = trm.confusion
        self.history = history
        self.bestEpoch = bestEpoch
        self.notes = notes
    }

    public func json() -> Data {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try! e.encode(self)
    }

    public static func decode(_ data: Data) throws -> EvaluationReport {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return try d.decode(EvaluationReport.self, from: data)
    }

    /// The Markdown report: accuracies, the per-genre table (paper Tables III/IV) and the confusion matrix.
    public func markdown(title: String, extra: String = "") -> String {
        var s = "# \(title)\n\n"
        s += "Model `\(model)`, split `\(split)`\(leaky ? " (**segment-level: leaky**, shown for comparison with the paper only)" : "").\n\n"
        s += "| measure | value |\n|---|---|\n"
        s += String(format: "| segment accuracy | %.2f %% (%d segments) |\n", 100 * segmentAccuracy, segments)
        s += String(format: "| track accuracy (mean of segment probabilities) | %.2f %% (%d tracks) |\n", 100 * trackAccuracy, tracks)
        s += String(format: "| macro F1 (segments) | %.3f |\n", macroF1)
        if bestEpoch > 0 { s += "| best epoch (early stopping) | \(bestEpoch) of \(history.count) |\n" }
        s += "\n## Per genre (segments)\n\n| genre | precision | recall | F1 | support |\n|---|---|---|---|---|\n"
        for l in labels {
            let c = perGenre[l]!
            s += String(format: "| %@ | %.3f | %.3f | %.3f | %d |\n", l, c.precision, c.recall, c.f1, c.support)
        }
        s += "\n## Confusion matrix (segments; rows = true genre, columns = predicted)\n\n"
        s += matrixTable(confusion)
        s += "\n## Confusion matrix (tracks)\n\n" + matrixTable(trackConfusion)
        if !history.isEmpty {
            s += "\n## Training history\n\n| epoch | train loss | train acc | val loss | val acc | lr | s |\n|---|---|---|---|---|---|---|\n"
            for h in history {
                s += String(format: "| %d | %.4f | %.2f %% | %.4f | %.2f %% | %.2g | %.1f |\n", h.epoch, h.trainLoss,
                            100 * h.trainAccuracy, h.validationLoss, 100 * h.validationAccuracy, h.learningRate, h.seconds)
            }
            s += "\n![training curves](curves.svg)\n"
        }
        s += "\n![confusion matrix](confusion.svg)\n"
        if !notes.isEmpty { s += "\n## Notes\n\n" + notes.map { "- " + $0 }.joined(separator: "\n") + "\n" }
        return s + extra
    }

    func matrixTable(_ m: [[Int]]) -> String {
        var s = "| true \\ predicted | " + labels.joined(separator: " | ") + " |\n"
        s += "|---|" + String(repeating: "---|", count: labels.count) + "\n"
        for (i, row) in m.enumerated() { s += "| **\(labels[i])** | " + row.map(String.init).joined(separator: " | ") + " |\n" }
        return s
    }

    /// The files `write(to:title:)` writes.
    public static let files = ["metrics.json", "report.md", "confusion.svg", "curves.svg"]

    /// Writes metrics.json, report.md, confusion.svg and (with a history) curves.svg into `dir`, each
    /// atomically (a killed run leaves the previous complete file, never a truncated one).
    public func write(to dir: String, title: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try writeAtomically(Array(json()), to: dir + "/metrics.json")
        try writeAtomically(Array(markdown(title: title).utf8), to: dir + "/report.md")
        try writeAtomically(Array(SVGPlots.confusion(confusion, labels: labels, title: "\(title): confusion (segments)").utf8),
                            to: dir + "/confusion.svg")
        if !history.isEmpty {
            try writeAtomically(Array(SVGPlots.curves(history, title: "\(title): training curves").utf8), to: dir + "/curves.svg")
        }
    }
}
