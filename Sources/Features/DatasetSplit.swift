import Foundation
import SplitMix

/// SplitMix64 (the SplitMix module) as a RandomNumberGenerator: a small seeded generator whose sequence is the
/// same on every platform and Swift version (the standard library's generators are not seedable). Used for splits
/// and shuffling.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var bits: SplitMix64
    /// The whole generator state (SplitMix64 is one 64-bit counter): `SeededGenerator(seed: g.state)`
    /// continues exactly where `g` stands (a resumable checkpoint stores this).
    public var state: UInt64 { bits.state }
    public init(seed: UInt64) { bits = SplitMix64(seed: seed) }
    public mutating func next() -> UInt64 { bits.next() }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * uniform() }
}

/// How to divide a dataset into training, validation and test parts.
public enum SplitKind: String, CaseIterable, Sendable {
    /// By track, stratified by genre: all segments of a clip on one side. The honest evaluation.
    case track
    /// By segment, as in the paper: segments of one clip land on both sides, so test accuracy is inflated (leaky).
    case random
    /// Track-level stratified k-fold cross-validation.
    case kfold
    /// The published fault-filtered GTZAN split (Kereliuk et al. 2015): 443 / 197 / 290 tracks.
    case filtered

    /// True where segments of one track can fall on both sides.
    public var isLeaky: Bool { self == .random }
}

/// One division of a feature file into parts, by segment index. `trainTracks` etc. list track ids.
public struct DatasetSplit: Equatable, Sendable {
    public var kind: SplitKind
    public var train: [Int]
    public var validation: [Int]
    public var test: [Int]
    public var trainTracks: [String]
    public var validationTracks: [String]
    public var testTracks: [String]
    /// For k-fold: which fold (0-based) this is, else nil.
    public var fold: Int?

    public var summary: String {
        let leak = kind.isLeaky ? " (segment-level: LEAKY, for comparison with the paper only)" : ""
        let f = fold.map { " fold \($0 + 1)" } ?? ""
        return "split \(kind.rawValue)\(f): train \(train.count) segments / \(trainTracks.count) tracks, "
            + "validation \(validation.count) / \(validationTracks.count), test \(test.count) / \(testTracks.count)\(leak)"
    }
}

/// Parameters shared by the split kinds.
public struct SplitOptions: Sendable {
    public var validationFraction: Double = 0.1
    public var testFraction: Double = 0.2
    public var folds: Int = 5
    public var seed: UInt64 = 42
    public init(validationFraction: Double = 0.1, testFraction: Double = 0.2, folds: Int = 5, seed: UInt64 = 42) {
        self.validationFraction = validationFraction
        self.testFraction = testFraction
        self.folds = folds
        self.seed = seed
    }
}

extension FeatureCache {
    /// Makes the split(s) of this feature file: one for `track`, `random` and `filtered`, `folds` for `kfold`.
    ///
    /// Fractions are per genre and rounded to whole tracks (10 tracks, test 0.2, validation 0.1 -> 2 / 1 / 7);
    /// a genre keeps at least one training track. A test fraction of 0 is allowed (evaluate on another folder).
    public func splits(_ kind: SplitKind, options: SplitOptions = SplitOptions()) throws(DatasetError) -> [DatasetSplit] {
        guard (0..<1).contains(options.validationFraction), (0..<1).contains(options.testFraction),
              options.validationFraction + options.testFraction < 1 else {
            throw DatasetError("validation and test fractions must be in [0, 1) and sum to less than 1")
        }
        var rng = SeededGenerator(seed: options.seed)
        let byGenre = (0..<labels.count).map { g in tracks.indices.filter { tracks[$0].label == g } }
        switch kind {
        case .track:
            var tr: [Int] = [], va: [Int] = [], te: [Int] = []
            for var ids in byGenre where !ids.isEmpty {
                ids.shuffle(using: &rng)
                let (nTest, nVal) = Self.partCounts(ids.count, options)
                te += ids[0..<nTest]
                va += ids[nTest ..< nTest + nVal]
                tr += ids[(nTest + nVal)...]
            }
            return [makeSplit(.track, tr, va, te, fold: nil)]
        case .kfold:
            guard options.folds >= 2 else { throw DatasetError("k-fold needs at least 2 folds") }
            guard let smallest = byGenre.map(\.count).filter({ $0 > 0 }).min(), smallest >= options.folds else {
                throw DatasetError("k-fold with \(options.folds) folds needs at least \(options.folds) tracks in every genre")
            }
            var shuffled = byGenre.map { $0.shuffled(using: &rng) }
            var result: [DatasetSplit] = []
            for f in 0..<options.folds {
                var tr: [Int] = [], va: [Int] = [], te: [Int] = []
                for g in shuffled.indices where !shuffled[g].isEmpty {
                    let ids = shuffled[g]
                    let testIDs = ids.indices.filter { $0 % options.folds == f }.map { ids[$0] }
                    var rest = ids.indices.filter { $0 % options.folds != f }.map { ids[$0] }
                    rest.shuffle(using: &rng)
                    let nVal = min(rest.count - 1, Int((Double(ids.count) * options.validationFraction).rounded()))
                    te += testIDs
                    va += rest[0..<max(0, nVal)]
                    tr += rest[max(0, nVal)...]
                }
                result.append(makeSplit(.kfold, tr, va, te, fold: f))
            }
            shuffled.removeAll()
            return result
        case .random:
            var segs = Array(0..<segmentCount)
            segs.shuffle(using: &rng)
            let nTest = Int((Double(segs.count) * options.testFraction).rounded())
            let nVal = Int((Double(segs.count) * options.validationFraction).rounded())
            let te = Array(segs[0..<nTest]).sorted(), va = Array(segs[nTest ..< nTest + nVal]).sorted()
            let tr = Array(segs[(nTest + nVal)...]).sorted()
            let st = segmentTracks
            func ids(_ s: [Int]) -> [String] { Array(Set(s.map { tracks[st[$0]].trackID })).sorted() }
            return [DatasetSplit(kind: .random, train: tr, validation: va, test: te,
                                 trainTracks: ids(tr), validationTracks: ids(va), testTracks: ids(te), fold: nil)]
        case .filtered:
            let lists = try FilteredGTZANSplit.load()
            let position = Dictionary(tracks.indices.map { (tracks[$0].trackID, $0) }, uniquingKeysWith: { a, _ in a })
            func pick(_ names: [String], _ part: String) throws(DatasetError) -> [Int] {
                let missing = names.filter { position[$0] == nil }
                if !missing.isEmpty {
                    throw DatasetError("the fault-filtered split needs the full GTZAN: \(missing.count) of its \(names.count) \(part) tracks are not in this feature file (first: \(missing[0]))")
                }
                return names.map { position[$0]! }
            }
            return [makeSplit(.filtered, try pick(lists.train, "training"), try pick(lists.validation, "validation"),
                              try pick(lists.test, "test"), fold: nil)]
        }
    }

    static func partCounts(_ n: Int, _ o: SplitOptions) -> (test: Int, validation: Int) {
        var nTest = Int((Double(n) * o.testFraction).rounded())
        var nVal = Int((Double(n) * o.validationFraction).rounded())
        if o.testFraction > 0 { nTest = max(nTest, n >= 3 ? 1 : 0) }
        if o.validationFraction > 0 { nVal = max(nVal, n >= 3 ? 1 : 0) }
        while nTest + nVal >= n && (nTest > 0 || nVal > 0) { if nVal > 0 { nVal -= 1 } else { nTest -= 1 } }
        return (nTest, nVal)
    }

    private func makeSplit(_ kind: SplitKind, _ tr: [Int], _ va: [Int], _ te: [Int], fold: Int?) -> DatasetSplit {
        func segs(_ ts: [Int]) -> [Int] {
            ts.sorted().flatMap { t in tracks[t].firstSegment ..< tracks[t].firstSegment + tracks[t].segmentCount }
        }
        func ids(_ ts: [Int]) -> [String] { ts.map { tracks[$0].trackID }.sorted() }
        return DatasetSplit(kind: kind, train: segs(tr), validation: segs(va), test: segs(te),
                            trainTracks: ids(tr), validationTracks: ids(va), testTracks: ids(te), fold: fold)
    }
}

/// The fault-filtered GTZAN split (Kereliuk, Sturm & Larsen 2015), shipped as data files in Splits/.
public enum FilteredGTZANSplit {
    public struct Lists: Sendable { public var train, validation, test: [String] }

    public static func load() throws(DatasetError) -> Lists {
        func read(_ part: String) throws(DatasetError) -> [String] {
            guard let url = Bundle.module.url(forResource: "gtzan-filtered-\(part)", withExtension: "txt", subdirectory: "Splits"),
                  let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw DatasetError("the fault-filtered split file gtzan-filtered-\(part).txt is missing from the Features resources")
            }
            return text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        }
        return Lists(train: try read("train"), validation: try read("valid"), test: try read("test"))
    }
}
