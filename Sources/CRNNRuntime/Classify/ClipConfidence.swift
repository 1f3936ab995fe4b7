// How sure a clip's genre is. Every clip gets a top genre, also music outside the ten genres or unlike anything
// trained on; the confidence says how much that top genre stands out, and `uncertain` flags clips below a
// threshold calibrated out of pool (docs/out-of-pool.md, "Saying when it is unsure").

/// The top genre's mean probability and its lead over the runner-up, both in Q15 (32768 = 1), from a clip's
/// summed segment probabilities.
public struct ClipConfidence: Equatable, Sendable {
    /// The clip's genre (`ClipScores.top1`).
    public let top1: Int
    /// Mean probability of `top1` over the clip's segments, Q15 (`ClipScores.meanQ15(top1)`).
    public let probabilityQ15: Int32
    /// `probabilityQ15` minus the runner-up's mean probability, Q15 (= `probabilityQ15` with one class).
    public let marginQ15: Int32

    /// The default threshold: a clip whose top genre has a mean probability below 0.55 (18022 in Q15) is
    /// flagged uncertain. Calibrated out of pool (docs/out-of-pool.md, "Saying when it is unsure"): over 813
    /// tracks the default recipe had not heard (3 seeds: gtzan-extra and held-out tracks degraded), 0.55 separates
    /// wrong from right answers best (Youden's J 0.56: 86 % of the wrong answers flagged, 30 % of the right ones).
    public static let defaultThresholdQ15: Int32 = 18022

    public init(_ scores: ClipScores) {
        top1 = scores.top1
        probabilityQ15 = scores.meanQ15(top1)
        marginQ15 = scores.classCount > 1 ? probabilityQ15 - scores.meanQ15(scores.rank(1)) : probabilityQ15
    }

    /// True when the top genre's mean probability is below `thresholdQ15`.
    public func isUncertain(thresholdQ15: Int32 = ClipConfidence.defaultThresholdQ15) -> Bool {
        probabilityQ15 < thresholdQ15
    }
}
