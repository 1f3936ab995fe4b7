// The quantizer: checkpoint + calibrated ranges -> int8 model file through CRNNRuntime's ModelBuilder.
//
//   int32 MFCC [T, F] (Q23.8)
//   -> inputQuantize (standardisation per coefficient fused with the int8 cast)       ~ normalised input
//   -> conv2d  (+ReLU, max-pool 2 fused) -> affine (BN1)                              ~ max_pooling2d, batch_normalization
//   -> conv2d_1 (+ReLU, max-pool 3 fused) -> affine (BN2)                             ~ max_pooling2d_1, batch_normalization_1
//   -> conv2d_2 (+ReLU, max-pool 4 fused)                                             ~ max_pooling2d_2
//   -> reshape [6, W*F] -> gru/lstm (BN3 folded into the input weights) -> gru_1/lstm_1  ~ gru, gru_1
//      (cnn: reshape [6*W*F] and BN3 folded into the dense layer)
//   -> fully connected (int8 logits)                                                  ~ dense
import CRNNRuntime
import Foundation
import Training

/// The calibration result the model is built from: one real range per calibrated int8 tensor (keys are the
/// float layer names whose outputs they approximate, plus "input"), and each LSTM layer's cell fraction bits.
/// Serialisable, so that a model can be rebuilt from a checkpoint bit for bit without the float pass.
public struct CalibratedRanges: Codable, Equatable, Sendable {
    public var method: String
    public var ranges: [String: [Double]]
    public var cellFractionBits: [String: Int32]
    /// Largest |cell state| seen per LSTM layer (informational).
    public var cellMaxAbs: [String: Double]

    public init(method: String, ranges: [String: [Double]], cellFractionBits: [String: Int32] = [:], cellMaxAbs: [String: Double] = [:]) {
        self.method = method
        self.ranges = ranges
        self.cellFractionBits = cellFractionBits
        self.cellMaxAbs = cellMaxAbs
    }

    public func quantization(_ key: String) throws(QuantizationError) -> ActivationQuantization {
        guard let r = ranges[key], r.count == 2 else { throw QuantizationError("no calibrated range for \(key)") }
        return ActivationQuantization(min: r[0], max: r[1])
    }
}

/// One int8 tensor of the built model that approximates a float layer output (for per-layer SQNR).
public struct QuantizedLayer: Sendable {
    /// Report name, e.g. "conv2d_1 (+relu, max-pool 3)".
    public var name: String
    /// The float layer whose output this tensor approximates ("input" = the normalised model input).
    public var floatLayer: String
    /// Tensor index in the model file.
    public var tensor: Int
    public var quantization: ActivationQuantization
}

/// A built int8 model: the file bytes and what each layer output stands for.
public struct QuantizedModel: Sendable {
    public var bytes: [UInt8]
    public var layers: [QuantizedLayer]
    public var ranges: CalibratedRanges
}

/// The float model's structure as the quantizer needs it, read from a checkpoint.
public struct FloatArchitecture: Sendable {
    public var kind: ModelKind
    public var filters: Int
    public var units: Int
    public var classes: Int
    public var frames: Int
    public var coefficients: Int
    /// Output [H, W, C] of each conv block.
    public var blockShapes: [[Int]]

    public init(_ c: Checkpoint) throws(QuantizationError) {
        guard let k = ModelKind(rawValue: c.meta.model) else { throw QuantizationError("unknown model '\(c.meta.model)' in the checkpoint") }
        kind = k
        let o = c.meta.modelOptions
        filters = Int(o["filters"] ?? "") ?? 32
        units = Int(o["rnn_units"] ?? "") ?? k.defaultRNNUnits
        classes = Int(o["classes"] ?? "") ?? c.meta.labels.count
        frames = c.featureConfig.frameCount
        coefficients = Int(c.featureConfig.nMFCC)
        var h = frames, w = coefficients
        blockShapes = []
        for p in ModelConfig.pools {
            h = samePoolGeometry(length: h, pool: p).output
            w = samePoolGeometry(length: w, pool: p).output
            blockShapes.append([h, w, filters])
        }
    }

    public var isRecurrent: Bool { kind != .cnn }
    public var isLSTM: Bool { kind == .cnnLSTM }
    public var gates: Int { isLSTM ? 4 : 3 }
    /// Keras names of the recurrent layers ("gru", "gru_1" or "lstm", "lstm_1").
    public var recurrentNames: [String] { kind == .cnnGRU ? ["gru", "gru_1"] : kind == .cnnLSTM ? ["lstm", "lstm_1"] : [] }
    /// Float layer outputs whose ranges are calibrated (besides the recurrent states, whose scale is fixed).
    public var calibratedLayers: [String] {
        ["input", "max_pooling2d", "batch_normalization", "max_pooling2d_1", "batch_normalization_1", "max_pooling2d_2", "dense"]
    }
}

public enum Quantizer {
    /// Refuses checkpoints whose input stage the int8 format cannot represent: the model file's input stage is
    /// `(x - mean[c]) / std[c]` with constants, so a per-segment normalisation (`crnn-train fit --normalize
    /// segment` / `segment-mean`, statistics of each 3-s segment) would be silently dropped and every int8 output
    /// wrong. docs/out-of-pool.md says what the runtime would need.
    public static func checkInputRepresentable(_ meta: CheckpointMeta) throws(QuantizationError) {
        if let seg = meta.inputSegmentNormalization {
            throw QuantizationError("this checkpoint normalises each segment by its own statistics (per-segment \(seg)); "
                + "the int8 model format and CRNNRuntime have no such input stage yet, so crnn-quantize cannot make a "
                + "faithful int8 model from it. Evaluate it in float (crnn-train eval / oop), or train with the default "
                + "--normalize coefficient (or --no-normalize) for an int8 model")
        }
    }

    /// Builds the int8 model from a checkpoint and calibrated ranges. Deterministic: the same checkpoint and
    /// ranges give the same bytes (only IEEE-exact Double arithmetic: +, *, /, sqrt, rounding).
    /// `frontendVersion`: the fixed-point frontend the file asks for (FrontendTables.version; 1 by default).
    public static func build(checkpoint c: Checkpoint, ranges: CalibratedRanges,
                             frontendVersion: UInt32 = 1) throws(QuantizationError) -> QuantizedModel {
        try checkInputRepresentable(c.meta)
        let arch = try FloatArchitecture(c)
        func weight(_ name: String) throws(QuantizationError) -> NamedTensor {
            guard let t = c.weight(name) else { throw QuantizationError("checkpoint has no \(name)") }
            return t
        }
        var b = ModelBuilder()
        b.featureConfig = c.featureConfig
        // The fixed-point MFCC's tables (model-file section 7), so that the file carries its whole device frontend.
        do { b.frontend = try makeFrontendTables(config: c.featureConfig, version: frontendVersion) } catch {
            throw QuantizationError("the checkpoint's feature configuration has no fixed-point frontend: \(error)")
        }
        b.labels = c.meta.labels.map { Array($0.utf8) }
        guard c.meta.labels.count == arch.classes else {
            throw QuantizationError("checkpoint has \(c.meta.labels.count) labels for \(arch.classes) classes")
        }
        var layers: [QuantizedLayer] = []
        let F = arch.coefficients, T = arch.frames

        // Input: Q23.8 MFCC, standardised and quantized per coefficient (section 5).
        let graphInput = b.addActivation(.int32, shape: [T, F], scaleMultiplier: 1 << 30, scaleShift: -7)  // 2^-8
        let qIn = try ranges.quantization("input")
        let mean = c.meta.inputMean.isEmpty ? [Float](repeating: 0, count: F) : c.meta.inputMean
        let std = c.meta.inputStd.isEmpty ? [Float](repeating: 1, count: F) : c.meta.inputStd
        guard mean.count == F, std.count == F else { throw QuantizationError("checkpoint's input normalisation has \(mean.count) coefficients, expected \(F)") }
        var meanQ: [Int32] = [], inRequant: [QuantizedMultiplier] = []
        for k in 0..<F {
            meanQ.append(Int32((256 * Double(mean[k])).rounded(.toNearestOrAwayFromZero)))
            inRequant.append(try QuantizedMultiplier(1 / (256 * Double(std[k]) * qIn.scale)))
        }
        var x = b.addInputQuantize(input: graphInput, mean: meanQ, multipliers: inRequant.map(\.multiplier),
                                   shifts: inRequant.map(\.shift), outputZeroPoint: qIn.zeroPoint,
                                   outputScale: try qIn.storedScale().pair)
        layers.append(QuantizedLayer(name: "input (standardise + quantize)", floatLayer: "input", tensor: x, quantization: qIn))
        var xq = qIn

        // Conv blocks.
        var inChannels = 1
        for (blk, pool) in ModelConfig.pools.enumerated() {
            let sfx = blk == 0 ? "" : "_\(blk)"
            let kernel = try weight("conv2d\(sfx)/kernel"), bias = try weight("conv2d\(sfx)/bias")
            let Fo = arch.filters
            guard kernel.values.count == 9 * inChannels * Fo, bias.values.count == Fo else {
                throw QuantizationError("conv2d\(sfx) has unexpected shape \(kernel.shape)")
            }
            // Keras [3, 3, Cin, F] -> runtime [F, 3, 3, Cin].
            let w = ChannelQuantizedWeights(channelMajor: transposed(kernel.values, rows: 9 * inChannels, cols: Fo), channels: Fo)
            let qOut = try ranges.quantization("max_pooling2d\(sfx)")
            var bq: [Int32] = [], rq: [QuantizedMultiplier] = []
            for o in 0..<Fo {
                bq.append(quantizeBias(Double(bias.values[o]), scale: xq.scale * w.scales[o]))
                rq.append(try QuantizedMultiplier(xq.scale * w.scales[o] / qOut.scale))
            }
            x = b.addConv2d(input: x, weights: w.values, kernel: (3, 3), outputChannels: Fo, bias: bq,
                            multipliers: rq.map(\.multiplier), shifts: rq.map(\.shift), outputZeroPoint: qOut.zeroPoint,
                            activationMin: qOut.zeroPoint, activationMax: 127, pool: (pool, pool),
                            outputScale: try qOut.storedScale().pair)
            layers.append(QuantizedLayer(name: "conv2d\(sfx) (+relu, max-pool \(pool))", floatLayer: "max_pooling2d\(sfx)",
                                         tensor: x, quantization: qOut))
            xq = qOut
            inChannels = Fo
            if blk < 2 {
                // BN1, BN2: integer affine steps (the next conv zero-pads, so folding would be inexact).
                let bn = try BatchNormAffine(checkpoint: c, name: "batch_normalization\(sfx)")
                let qBN = try ranges.quantization("batch_normalization\(sfx)")
                let a = try AffineS8Constants(bn, input: xq, output: qBN)
                x = b.addAffine(input: x, weights: a.weights, bias: a.bias, multipliers: a.requant.map(\.multiplier),
                                shifts: a.requant.map(\.shift), outputZeroPoint: qBN.zeroPoint,
                                outputScale: try qBN.storedScale().pair)
                layers.append(QuantizedLayer(name: "batch_normalization\(sfx) (affine)", floatLayer: "batch_normalization\(sfx)",
                                             tensor: x, quantization: qBN))
                xq = qBN
            }
        }
        // BN3 folds exactly into the next layer's input weights.
        let bn3 = try BatchNormAffine(checkpoint: c, name: "batch_normalization_2")
        let last = arch.blockShapes[2]
        let U = arch.units, G = arch.gates

        if arch.isRecurrent {
            let steps = last[0], features = last[1] * last[2]
            x = b.addReshape(input: x, shape: [steps, features])
            var inSize = features
            for (layer, name) in arch.recurrentNames.enumerated() {
                let kernel = try weight("\(name)/kernel"), rec = try weight("\(name)/recurrent_kernel"), bias = try weight("\(name)/bias")
                guard kernel.values.count == inSize * G * U, rec.values.count == U * G * U else {
                    throw QuantizationError("\(name) has unexpected shape \(kernel.shape)")
                }
                let inputBias = Array(bias.values[0..<(G * U)]).map(Double.init)
                let recurrentBias = arch.isLSTM ? [Double](repeating: 0, count: G * U) : Array(bias.values[(G * U)..<(2 * G * U)]).map(Double.init)
                var proj = InputProjection(kernel: kernel.values.map(Double.init), bias: inputBias, inputs: inSize, outputs: G * U)
                if layer == 0 { proj = proj.foldingBatchNorm(bn3) }
                // Keras [I, G*U] -> runtime rows [G*U, I], quantized per row (BN3 already folded in Double).
                let wxq = ChannelQuantizedWeights(channelMajorDouble: transposedDouble(proj.kernel, rows: inSize, cols: G * U), channels: G * U)
                let wh = ChannelQuantizedWeights(channelMajor: transposed(rec.values, rows: U, cols: G * U), channels: G * U)
                let hScale = ActivationQuantization.recurrentState.scale
                var bx: [Int32] = [], bh: [Int32] = [], mx: [QuantizedMultiplier] = [], mh: [QuantizedMultiplier] = []
                for r in 0..<(G * U) {
                    bx.append(quantizeBias(proj.bias[r], scale: xq.scale * wxq.scales[r]))
                    mx.append(try QuantizedMultiplier(xq.scale * wxq.scales[r] * 4096))
                    bh.append(quantizeBias(recurrentBias[r], scale: hScale * wh.scales[r]))
                    mh.append(try QuantizedMultiplier(hScale * wh.scales[r] * 4096))
                }
                let k = arch.isLSTM ? (ranges.cellFractionBits[name] ?? 12) : 12
                x = b.addRecurrent(lstm: arch.isLSTM, input: x, units: U, inputWeights: wxq.values, recurrentWeights: wh.values,
                                   inputBias: bx, recurrentBias: bh, inputMultipliers: mx.map(\.multiplier),
                                   inputShifts: mx.map(\.shift), recurrentMultipliers: mh.map(\.multiplier),
                                   recurrentShifts: mh.map(\.shift), returnSequences: layer == 0, cellFractionBits: k)
                let desc = (layer == 0 ? " (batch_normalization_2 folded)" : "") + (arch.isLSTM ? " cell Q\(15 - k).\(k)" : "")
                layers.append(QuantizedLayer(name: name + desc, floatLayer: name, tensor: x, quantization: .recurrentState))
                xq = .recurrentState
                inSize = U
            }
        } else {
            x = b.addReshape(input: x, shape: [last.reduce(1, *)])
        }

        // Dense logits (BN3 folded here for the cnn baseline).
        let dk = try weight("dense/kernel"), db = try weight("dense/bias")
        let dIn = arch.isRecurrent ? U : last.reduce(1, *)
        guard dk.values.count == dIn * arch.classes else { throw QuantizationError("dense has unexpected shape \(dk.shape)") }
        var dproj = InputProjection(kernel: dk.values.map(Double.init), bias: db.values.map(Double.init), inputs: dIn, outputs: arch.classes)
        if !arch.isRecurrent { dproj = dproj.foldingBatchNorm(bn3) }
        let dw = ChannelQuantizedWeights(channelMajorDouble: transposedDouble(dproj.kernel, rows: dIn, cols: arch.classes), channels: arch.classes)
        let qLogits = try ranges.quantization("dense")
        var dbq: [Int32] = [], drq: [QuantizedMultiplier] = []
        for o in 0..<arch.classes {
            dbq.append(quantizeBias(dproj.bias[o], scale: xq.scale * dw.scales[o]))
            drq.append(try QuantizedMultiplier(xq.scale * dw.scales[o] / qLogits.scale))
        }
        x = b.addFullyConnected(input: x, weights: dw.values, outputs: arch.classes, bias: dbq,
                                multipliers: drq.map(\.multiplier), shifts: drq.map(\.shift), outputZeroPoint: qLogits.zeroPoint,
                                outputScale: try qLogits.storedScale().pair)
        layers.append(QuantizedLayer(name: "dense" + (arch.isRecurrent ? "" : " (batch_normalization_2 folded)"),
                                     floatLayer: "dense", tensor: x, quantization: qLogits))
        b.inputTensor = graphInput
        b.outputTensor = x
        let sm = try QuantizedMultiplier(qLogits.scale * 1.4426950408889634 * 65536)  // S_logits * log2(e) * 2^16
        b.softmaxMultiplier = sm.multiplier
        b.softmaxShift = sm.shift
        return QuantizedModel(bytes: b.encode(), layers: layers, ranges: ranges)
    }
}

func transposedDouble(_ m: [Double], rows: Int, cols: Int) -> [Double] {
    precondition(m.count == rows * cols)
    var t = [Double](repeating: 0, count: m.count)
    for r in 0..<rows { for c in 0..<cols { t[c * rows + r] = m[r * cols + c] } }
    return t
}
