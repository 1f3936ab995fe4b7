import Foundation

/// Precision, recall and F1 of one class, as in the paper's Tables III/IV.
public struct ClassScores: Equatable, Sendable, Codable {
    public var precision: Double
    public var recall: Double
    public var f1: Double
    /// Number of true examples of this class.
    public var support: Int
}

/// Classification metrics from true and predicted labels.
///
/// Example: `let m = ClassificationMetrics(truth: [0, 1, 1], predicted: [0, 1, 0], classCount: 2)`
/// gives `m.accuracy == 2/3`, `m.confusion == [[1, 0], [1, 1]]` (rows = truth, columns = prediction).
public struct ClassificationMetrics: Equatable, Sendable {
    public let classCount: Int
    /// `confusion[t][p]`: examples of true class t predicted as p.
    public let confusion: [[Int]]

    public init(truth: [Int], predicted: [Int], classCount: Int) {
        precondition(truth.count == predicted.count)
        var c = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
        for (t, p) in zip(truth, predicted) { c[t][p] += 1 }
        self.classCount = classCount
        confusion = c
    }

    public var total: Int { confusion.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { (0..<classCount).reduce(0) { $0 + confusion[$1][$1] } }
    public var accuracy: Double { total > 0 ? Double(correct) / Double(total) : 0 }

    /// Per-class precision/recall/F1; 0 where undefined (no predictions or no examples).
    public var perClass: [ClassScores] {
        (0..<classCount).map { k in
            let tp = Double(confusion[k][k])
            let predicted = Double((0..<classCount).reduce(0) { $0 + confusion[$1][k] })
            let actual = Double(confusion[k].reduce(0, +))
            let p = predicted > 0 ? tp / predicted : 0
            let r = actual > 0 ? tp / actual : 0
            let f = p + r > 0 ? 2 * p * r / (p + r) : 0
            return ClassScores(precision: p, recall: r, f1: f, support: Int(actual))
        }
    }

    /// Unweighted mean F1 over the classes that have examples.
    public var macroF1: Double {
        let s = perClass.filter { $0.support > 0 }
        return s.isEmpty ? 0 : s.reduce(0) { $0 + $1.f1 } / Double(s.count)
    }
}

/// Track-level prediction: the mean of a track's segment probabilities, then the argmax.
///
/// `probabilities` is `segmentCount x classCount` row-major; `segmentTrack[s]` is the track of segment s.
/// Returns (track index, true label, predicted label) for every track that has segments, in track order.
public func trackPredictions(probabilities: [Float], classCount: Int, segmentTrack: [Int], segmentLabel: [Int])
    -> [(track: Int, truth: Int, predicted: Int)]
{
    var sums: [Int: [Double]] = [:]
    var labels: [Int: Int] = [:]
    for (s, t) in segmentTrack.enumerated() {
        var row = sums[t] ?? [Double](repeating: 0, count: classCount)
        for k in 0..<classCount { row[k] += Double(probabilities[s * classCount + k]) }
        sums[t] = row
        labels[t] = segmentLabel[s]
    }
    return sums.keys.sorted().map { t in
        let row = sums[t]!
        let best = row.indices.max { row[$0] < row[$1] }!
        return (t, labels[t]!, best)
    }
}

/// Argmax of each row of a row-major `rows x classCount` matrix (first index on ties).
public func argmaxRows(_ m: [Float], classCount: Int) -> [Int] {
    stride(from: 0, to: m.count, by: classCount).map { base in
        var best = 0
        for k in 1..<classCount where m[base + k] > m[base + best] { best = k }
        return best
    }
}

/// Mean and sample standard deviation.
public func meanAndStd(_ xs: [Double]) -> (mean: Double, std: Double) {
    guard !xs.isEmpty else { return (0, 0) }
    let m = xs.reduce(0, +) / Double(xs.count)
    guard xs.count > 1 else { return (m, 0) }
    let v = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(xs.count - 1)
    return (m, v.squareRoot())
}
