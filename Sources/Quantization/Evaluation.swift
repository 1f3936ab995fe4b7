// Measuring what quantization costs BY RUNNING CRNNRuntime's Interpreter (the one integer implementation):
// per-layer SQNR against the float layer outputs, float vs int8 accuracy and top-1 agreement, sizes.
import CRNNRuntime
import Features
import Foundation
import Training

/// Model bytes in 16-byte aligned memory (what `ModelFile` requires), alive as long as this object.
public final class AlignedModelBytes: @unchecked Sendable {
    public let buffer: UnsafeMutableRawBufferPointer
    public let count: Int
    public init(_ bytes: [UInt8]) {
        count = bytes.count
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 16), alignment: 16)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }
    public var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<count]) }
    deinit { buffer.deallocate() }
}

/// Float MFCCs as the runtime's Q23.8 input: `round(x * 256)`, saturated to Int32.
public func mfccQ8(_ x: some Collection<Float>) -> [Int32] {
    x.map { v in
        let q = (Double(v) * 256).rounded(.toNearestOrAwayFromZero)
        return Int32(max(Double(Int32.min), min(Double(Int32.max), q)))
    }
}

/// Signal-to-quantization-noise ratio of one layer: 10 log10(sum x^2 / sum (x - x_int8)^2).
public struct LayerSQNR: Sendable {
    public var name: String
    public var floatLayer: String
    public var signal: Double
    public var noise: Double
    public var values: Int
    public var sqnrDB: Double { noise > 0 ? 10 * log10(signal / noise) : .infinity }
}

/// Float vs int8 on an evaluation set.
public struct AccuracyComparison: Sendable {
    public var segments: Int
    public var tracks: Int
    public var floatSegmentAccuracy: Double
    public var int8SegmentAccuracy: Double
    public var floatTrackAccuracy: Double
    public var int8TrackAccuracy: Double
    /// Fraction of segments whose top-1 (argmax of the logits; int8 ties: lowest index) is the same.
    public var agreement: Double
    public var segmentChangePoints: Double { 100 * (int8SegmentAccuracy - floatSegmentAccuracy) }
    public var trackChangePoints: Double { 100 * (int8TrackAccuracy - floatTrackAccuracy) }
    public var scope: String
    /// Per selected segment (in `SegmentSelection.segments` order): the float model's top-1 (argmax of the logits,
    /// first maximum) and the int8 model's (`Interpreter.top1`).
    public var floatTop1: [Int] = []
    public var int8Top1: [Int] = []
}

/// Byte sizes of a model file and of the checkpoint it came from.
public struct ModelSizes: Sendable {
    /// The whole file.
    public var modelBytes: Int
    /// The network part: the data section (weights, biases, requantization multipliers and shifts, input means,
    /// per-channel scales; including the 16-byte alignment padding between constants).
    public var networkBytes: Int
    /// The frontend-tables section (the fixed-point MFCC's window, mel and DCT tables; 0 in a file without them).
    public var frontendBytes: Int
    /// Float32 bytes of every checkpoint weight (including the batch-norm moving statistics).
    public var floatWeightBytes: Int
    /// The interpreter's one arena.
    public var arenaBytes: Int
    public var networkFraction: Double { floatWeightBytes > 0 ? Double(networkBytes) / Double(floatWeightBytes) : 0 }

    /// Reads the section table of a validated model (docs/model-format.md) for the data and frontend lengths.
    public init(model: ModelFile, floatWeightBytes: Int, arenaBytes: Int) {
        let b = model.bytes
        func u32(_ o: Int) -> Int { Int(b.loadUnaligned(fromByteOffset: o, as: UInt32.self).littleEndian) }
        let n = u32(ModelLayout.Header.sectionCount), table = u32(ModelLayout.Header.sectionTableOffset)
        var data = 0
        for i in 0..<n {
            let e = table + i * ModelLayout.sectionEntryBytes
            if u32(e + ModelLayout.SectionEntry.kind) == Int(SectionKind.data.rawValue) { data = u32(e + ModelLayout.SectionEntry.length) }
        }
        modelBytes = u32(ModelLayout.Header.fileBytes)
        networkBytes = data
        frontendBytes = model.frontendLength
        self.floatWeightBytes = floatWeightBytes
        self.arenaBytes = arenaBytes
    }
}

public enum Evaluator {
    /// Per-layer SQNR over the selected segments: the float layer output against the dequantized int8 tensor that
    /// the interpreter (with every activation kept) computed from the same MFCCs in Q23.8. Errors accumulate
    /// through the network, so each figure is end to end up to that layer.
    public static func layerSQNR(_ fm: FloatModel, model: QuantizedModel, data: SegmentSelection,
                                 progress: ProgressBar? = nil) throws -> [LayerSQNR] {
        let bytes = AlignedModelBytes(model.bytes)
        let file = try ModelFile(bytes: bytes.raw)
        let it = try Interpreter(model: file, keepAllActivations: true)
        var out = model.layers.map { LayerSQNR(name: $0.name, floatLayer: $0.floatLayer, signal: 0, noise: 0, values: 0) }
        for start in stride(from: 0, to: data.segments.count, by: Calibrator.batchSize) {
            let idx = Array(data.segments[start ..< min(data.segments.count, start + Calibrator.batchSize)])
            let acts = fm.activations(data.cache, idx)
            for (j, s) in idx.enumerated() {
                let q = mfccQ8(data.cache.segment(s))
                try q.withUnsafeBufferPointer { try it.run(features: $0) }
                for (li, layer) in model.layers.enumerated() {
                    let f = acts[layer.floatLayer]!
                    let n = f.count / idx.count
                    let t = it.int8Tensor(layer.tensor)
                    precondition(t.count == n, "\(layer.name): int8 tensor has \(t.count) values, float \(n)")
                    var sig = 0.0, noise = 0.0
                    for k in 0..<n {
                        let x = Double(f.data[j * n + k])
                        let d = x - layer.quantization.dequantize(t[k])
                        sig += x * x
                        noise += d * d
                    }
                    out[li].signal += sig; out[li].noise += noise; out[li].values += n
                }
            }
            progress?.advance(idx.count)
        }
        return out
    }

    /// Float and int8 segment and track accuracy and top-1 agreement. Track decisions average the segment
    /// probabilities (float softmax; int8: the runtime's softmaxQ15), as `crnn-train eval` does.
    public static func compare(_ fm: FloatModel, model: QuantizedModel, data: SegmentSelection,
                               progress: ProgressBar? = nil) throws -> AccuracyComparison {
        let bytes = AlignedModelBytes(model.bytes)
        let file = try ModelFile(bytes: bytes.raw)
        let it = try Interpreter(model: file)
        let k = fm.architecture.classes
        let labels = data.cache.segmentLabels, tracks = data.cache.segmentTracks
        let maker = BatchMaker(cache: data.cache, normalization: fm.normalization)
        var floatProbs: [Float] = [], int8Probs: [Float] = []
        var floatTop: [Int] = [], int8Top: [Int] = []
        var q15 = [Int16](repeating: 0, count: k)
        for start in stride(from: 0, to: data.segments.count, by: 64) {
            let idx = Array(data.segments[start ..< min(data.segments.count, start + 64)])
            let logits = fm.model.forward(maker.batch(idx), mode: .inference)
            floatTop += argmaxRows(logits.data, classCount: k)
            floatProbs += SoftmaxCrossEntropy.softmax(logits).data
            for s in idx {
                let q = mfccQ8(data.cache.segment(s))
                try q.withUnsafeBufferPointer { try it.run(features: $0) }
                int8Top.append(it.top1)
                q15.withUnsafeMutableBufferPointer { it.probabilitiesQ15(into: $0) }
                int8Probs += q15.map { Float($0) / 32768 }
            }
            progress?.advance(idx.count)
        }
        let truth = data.segments.map { labels[$0] }, trk = data.segments.map { tracks[$0] }
        func segAcc(_ p: [Int]) -> Double { Double(zip(p, truth).filter { $0 == $1 }.count) / Double(truth.count) }
        func trackAcc(_ probs: [Float]) -> (Double, Int) {
            let t = trackPredictions(probabilities: probs, classCount: k, segmentTrack: trk, segmentLabel: truth)
            return (Double(t.filter { $0.truth == $0.predicted }.count) / Double(max(1, t.count)), t.count)
        }
        let (ft, nt) = trackAcc(floatProbs), (qt, _) = trackAcc(int8Probs)
        return AccuracyComparison(
            segments: truth.count, tracks: nt, floatSegmentAccuracy: segAcc(floatTop), int8SegmentAccuracy: segAcc(int8Top),
            floatTrackAccuracy: ft, int8TrackAccuracy: qt,
            agreement: Double(zip(floatTop, int8Top).filter { $0 == $1 }.count) / Double(max(1, truth.count)),
            scope: data.scope, floatTop1: floatTop, int8Top1: int8Top)
    }
}
