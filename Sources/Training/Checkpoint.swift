import CRNNRuntime
import Features
import Foundation

/// A float32 tensor with a Keras-style name, e.g. `gru/recurrent_kernel` of shape [20, 60].
public struct NamedTensor: Equatable, Sendable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]
    public init(name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "\(name): shape \(shape) does not hold \(values.count) values")
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Metadata of a checkpoint, stored as JSON in its META section.
public struct CheckpointMeta: Codable, Equatable, Sendable {
    /// Model name (`cnn-gru`, `cnn-lstm`, `cnn`) and its hyper-parameters as text (filters, units, ...).
    public var model: String
    public var modelOptions: [String: String]
    public var labels: [String]
    /// Per-MFCC-coefficient standardisation from the training tracks; empty when not normalised.
    public var inputMean: [Float]
    public var inputStd: [Float]
    /// Per-segment normalisation applied before the standardisation (`SegmentNormalization` raw value:
    /// `mean` or `mean-variance`); nil (absent from the JSON) = none, as in every checkpoint before it existed.
    public var inputSegmentNormalization: String?
    public var split: String
    public var splitSeed: UInt64
    public var fold: Int?
    public var trainTracks: [String]
    public var validationTracks: [String]
    public var testTracks: [String]
    /// Free-form provenance: command line, dates, data source.
    public var provenance: [String: String]

    public init(model: String, modelOptions: [String: String] = [:], labels: [String], inputMean: [Float] = [],
                inputStd: [Float] = [], inputSegmentNormalization: String? = nil, split: String = "", splitSeed: UInt64 = 0, fold: Int? = nil,
                trainTracks: [String] = [], validationTracks: [String] = [], testTracks: [String] = [],
                provenance: [String: String] = [:]) {
        self.model = model
        self.modelOptions = modelOptions
        self.labels = labels
        self.inputMean = inputMean
        self.inputStd = inputStd
        self.inputSegmentNormalization = inputSegmentNormalization
        self.split = split
        self.splitSeed = splitSeed
        self.fold = fold
        self.trainTracks = trainTracks
        self.validationTracks = validationTracks
        self.testTracks = testTracks
        self.provenance = provenance
    }
}

/// Where a training run stands: enough to resume it exactly (`--resume`). Stored in the OPTS/OPTM sections.
///
/// The model's weights (WGHT, including batch norm's moving statistics) and Adam's moments (OPTM) are
/// stored beside it. The generator that shuffles the training order and draws the augmentation (time and
/// frequency masks, mixup) is re-seeded at every epoch from `rngState` (the run's seed) and the epoch
/// number, so it needs no more state; the dropout layers' generators run across epochs and are stored in
/// `randomStates`. Checkpoints written before `randomStates` and `learningRateBits` existed decode with
/// them nil.
public struct TrainingState: Codable, Equatable, Sendable {
    public var completedEpochs: Int
    public var optimizerStep: Int
    public var bestEpoch: Int
    public var bestValidationLoss: Double
    public var epochsSinceImprovement: Int
    public var history: [EpochRecord]
    /// The run's seed (the per-epoch shuffle/augmentation generator is derived from it and the epoch).
    public var rngState: UInt64
    public var options: [String: String]
    /// Dropout mask generators' states by layer name (`Model.randomStates`), after the last completed epoch.
    public var randomStates: [String: UInt64]?
    /// The learning rate in force at the last completed epoch, as the bit pattern of the Float (exact,
    /// unlike the text in `options["current_lr"]`; the plateau schedule continues from it).
    public var learningRateBits: UInt32?
    public init(completedEpochs: Int, optimizerStep: Int, bestEpoch: Int, bestValidationLoss: Double,
                epochsSinceImprovement: Int, history: [EpochRecord], rngState: UInt64, options: [String: String] = [:],
                randomStates: [String: UInt64]? = nil, learningRateBits: UInt32? = nil) {
        self.completedEpochs = completedEpochs
        self.optimizerStep = optimizerStep
        self.bestEpoch = bestEpoch
        self.bestValidationLoss = bestValidationLoss
        self.epochsSinceImprovement = epochsSinceImprovement
        self.history = history
        self.rngState = rngState
        self.options = options
        self.randomStates = randomStates
        self.learningRateBits = learningRateBits
    }
}

/// A float checkpoint: one versioned binary file.
///
/// Layout (little-endian): magic `CRNNCKPT`, u32 version, then tagged sections `[4-byte tag][u64 byte length][payload]`:
/// - `FCFG`: the FeatureConfig (64 bytes, its own versioned encoding)
/// - `META`: CheckpointMeta as UTF-8 JSON (model, labels, input normalisation, the split's track ids)
/// - `WGHT`: the model weights (named float32 tensors)
/// - `OPTS`: TrainingState as JSON, and `OPTM`: optimizer slots (named tensors, e.g. `adam/m/conv2d/kernel`), only in
///   resumable checkpoints
/// - `END `: u32 FNV-1a checksum of every byte before this section.
/// Unknown sections are skipped (new sections may be added without a version change); a newer version is refused.
public struct Checkpoint: Sendable {
    public static let magic: [UInt8] = Array("CRNNCKPT".utf8)
    public static let version: UInt32 = 1

    public var featureConfig: FeatureConfig
    public var meta: CheckpointMeta
    public var weights: [NamedTensor]
    public var state: TrainingState?
    public var optimizer: [NamedTensor]

    public init(featureConfig: FeatureConfig, meta: CheckpointMeta, weights: [NamedTensor],
                state: TrainingState? = nil, optimizer: [NamedTensor] = []) {
        self.featureConfig = featureConfig
        self.meta = meta
        self.weights = weights
        self.state = state
        self.optimizer = optimizer
    }

    public func weight(_ name: String) -> NamedTensor? { weights.first { $0.name == name } }

    /// Bytes of the float32 weights (what the int8 model's network part is compared with).
    public var weightBytes: Int { weights.reduce(0) { $0 + 4 * $1.values.count } }

    // MARK: Encoding

    public func encoded() -> [UInt8] {
        var out = Self.magic
        appendU32(&out, Self.version)
        func section(_ tag: String, _ payload: [UInt8]) {
            out += Array(tag.utf8)
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: UInt64(payload.count) >> (8 * UInt64(i)))) }
            out += payload
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        // A run whose validation loss was never finite keeps bestValidationLoss = +inf: store it as text.
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        section("FCFG", featureConfig.encodedBytes)
        section("META", Array(try! enc.encode(meta)))
        section("WGHT", Self.encodeTensors(weights))
        if let state {
            section("OPTS", Array(try! enc.encode(state)))
            section("OPTM", Self.encodeTensors(optimizer))
        }
        let sum = fnv1a(out)
        var end: [UInt8] = []
        appendU32(&end, sum)
        section("END ", end)
        return out
    }

    /// Writes atomically (`writeAtomically`: a temporary file in the same folder, fsync, rename over the
    /// target, fsync of the folder), so a run killed at any moment leaves the previous complete file.
    public func write(to path: String) throws {
        do { try writeAtomically(encoded(), to: path, midWrite: Self.midWritePause) } catch { throw CheckpointError("\(error)") }
    }

    /// Test hook: with `CRNN_TEST_CHECKPOINT_PAUSE_MS=N` in the environment, every checkpoint write pauses
    /// N ms with half of its temporary file written, so a test can kill the process mid-write.
    static let midWritePauseMilliseconds: UInt32 =
        ProcessInfo.processInfo.environment["CRNN_TEST_CHECKPOINT_PAUSE_MS"].flatMap { UInt32($0) } ?? 0
    static var midWritePause: (() -> Void)? {
        let ms = midWritePauseMilliseconds
        return ms == 0 ? nil : { usleep(ms * 1000) }
    }

    // MARK: Decoding

    public init(contentsOf path: String) throws(CheckpointError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError("\(path): cannot read checkpoint (missing or unreadable)")
        }
        do { try self.init(bytes: [UInt8](data)) } catch { throw CheckpointError("\(path): \(error.description)") }
    }

    public init(bytes b: [UInt8]) throws(CheckpointError) {
        guard b.count >= 12, Array(b[0..<8]) == Self.magic else {
            if b.count >= 4, Array(b[0..<4]) == Array("CRNN".utf8) {
                throw CheckpointError("not a float checkpoint (this looks like an int8 model or feature file)")
            }
            throw CheckpointError("not a checkpoint (bad magic; expected a model.ckpt written by crnn-train fit)")
        }
        let version = readU32(b, 8)
        guard version <= Self.version else {
            throw CheckpointError("checkpoint version \(version) is newer than this build reads (\(Self.version)); update crnn-train")
        }
        var pos = 12
        var sections: [String: ArraySlice<UInt8>] = [:]
        var sawEnd = false
        while pos < b.count {
            guard b.count - pos >= 12 else { throw CheckpointError("truncated checkpoint (section header at byte \(pos))") }
            let tag = String(decoding: b[pos ..< pos + 4], as: UTF8.self)
            var len: UInt64 = 0
            for i in 0..<8 { len |= UInt64(b[pos + 4 + i]) << (8 * UInt64(i)) }
            guard len <= UInt64(b.count - pos - 12) else { throw CheckpointError("truncated checkpoint (section \(tag) runs past the end)") }
            let payload = b[pos + 12 ..< pos + 12 + Int(len)]
            if tag == "END " {
                guard len == 4, readU32(Array(payload), 0) == fnv1a(b[0..<pos]) else {
                    throw CheckpointError("checkpoint is corrupt (checksum mismatch)")
                }
                sawEnd = true
                pos += 12 + Int(len)
                break
            }
            sections[tag] = payload
            pos += 12 + Int(len)
        }
        guard sawEnd else { throw CheckpointError("truncated checkpoint (no end section)") }
        guard pos == b.count else { throw CheckpointError("checkpoint has trailing bytes after its end section") }
        guard let fc = sections["FCFG"], let config = FeatureConfig(bytes: Array(fc)) else {
            throw CheckpointError("checkpoint has no valid feature configuration")
        }
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let metaBytes = sections["META"], let meta = try? dec.decode(CheckpointMeta.self, from: Data(metaBytes)) else {
            throw CheckpointError("checkpoint metadata is missing or unreadable")
        }
        guard let w = sections["WGHT"] else { throw CheckpointError("checkpoint has no weights") }
        featureConfig = config
        self.meta = meta
        weights = try Self.decodeTensors(Array(w))
        if let s = sections["OPTS"] {
            guard let st = try? dec.decode(TrainingState.self, from: Data(s)) else {
                throw CheckpointError("checkpoint training state is unreadable")
            }
            state = st
            optimizer = try Self.decodeTensors(Array(sections["OPTM"] ?? []))
        } else {
            state = nil
            optimizer = []
        }
    }

    // MARK: Tensor lists: u32 count, then per tensor: u32 name length, name, u32 rank, u32 dims..., float32 values

    static func encodeTensors(_ ts: [NamedTensor]) -> [UInt8] {
        var out: [UInt8] = []
        appendU32(&out, UInt32(ts.count))
        for t in ts {
            let n = Array(t.name.utf8)
            appendU32(&out, UInt32(n.count))
            out += n
            appendU32(&out, UInt32(t.shape.count))
            for d in t.shape { appendU32(&out, UInt32(d)) }
            t.values.withUnsafeBytes { out += $0 }
        }
        return out
    }

    static func decodeTensors(_ b: [UInt8]) throws(CheckpointError) -> [NamedTensor] {
        var pos = 0
        func u32() throws(CheckpointError) -> Int {
            guard b.count - pos >= 4 else { throw CheckpointError("tensor table truncated") }
            defer { pos += 4 }
            return Int(readU32(b, pos))
        }
        let count = try u32()
        guard count <= 100_000 else { throw CheckpointError("implausible tensor count \(count)") }
        var out: [NamedTensor] = []
        for _ in 0..<count {
            let nl = try u32()
            guard nl <= 1024, b.count - pos >= nl else { throw CheckpointError("tensor name truncated") }
            let name = String(decoding: b[pos ..< pos + nl], as: UTF8.self)
            pos += nl
            let rank = try u32()
            guard rank <= 8 else { throw CheckpointError("tensor \(name): implausible rank \(rank)") }
            var shape: [Int] = []
            var n = 1
            for _ in 0..<rank {
                let d = try u32()
                let (p, o) = n.multipliedReportingOverflow(by: d)
                guard !o, p <= 1 << 28 else { throw CheckpointError("tensor \(name): implausible shape") }
                shape.append(d)
                n = p
            }
            guard b.count - pos >= 4 * n else { throw CheckpointError("tensor \(name) truncated") }
            var values = [Float](repeating: 0, count: n)
            values.withUnsafeMutableBytes { dst in
                b.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[pos ..< pos + 4 * n])) }
            }
            pos += 4 * n
            out.append(NamedTensor(name: name, shape: shape, values: values))
        }
        guard pos == b.count else { throw CheckpointError("tensor table has trailing bytes") }
        return out
    }
}

/// Why a checkpoint could not be read or written.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

func appendU32(_ out: inout [UInt8], _ v: UInt32) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
func readU32(_ b: [UInt8], _ at: Int) -> UInt32 {
    UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
}
