@testable import CRNNRuntime

/// Validates `bytes` (copied to aligned memory); nil when valid, else the error.
func validationError(_ bytes: [UInt8]) -> ModelError? {
    let a = AlignedBytes(bytes, count: bytes.count)
    do { _ = try ModelFile(bytes: a.raw); return nil } catch { return error }
}

enum TinyKind { case gru, lstm, cnn }

/// A small CRNN with the paper's structure, integer weights from the LCG, no floats anywhere:
/// int32 MFCC [frames, coeffs] -> input quantize -> conv3x3(+ReLU, fused pool p1) -> affine ->
/// conv3x3(+ReLU) -> separate max-pool p2 -> affine -> reshape [T, W*C] -> GRU/GRU or LSTM/LSTM or flatten -> FC.
func buildTinyModel(_ kind: TinyKind, frames: Int = 12, coeffs: Int = 6, filters: Int = 4, units: Int = 5,
                    classes: Int = 3, pools: ((Int, Int), (Int, Int)) = ((2, 2), (3, 3)), seed: UInt32 = 1) -> ModelBuilder {
    var g = LCG(state: seed)
    var b = ModelBuilder()
    var fc = FeatureConfig.paper
    fc.nMFCC = Int32(coeffs)
    b.featureConfig = fc
    let input = b.addActivation(.int32, shape: [frames, coeffs], scaleMultiplier: 1 << 30, scaleShift: -7)
    let mean = (0..<coeffs).map { _ in Int32(truncatingIfNeeded: g.next() >> 16) - 32768 }
    var x = b.addInputQuantize(input: input, mean: mean, multipliers: g.multipliers(coeffs),
                               shifts: [Int32](repeating: -8, count: coeffs), outputZeroPoint: -3)
    var channels = 1
    for (block, pool) in [pools.0, pools.1].enumerated() {
        let k = 9 * channels
        let zo = Int32(-100 + block * 7)
        x = b.addConv2d(input: x, weights: g.int8s(filters * k), kernel: (3, 3), outputChannels: filters,
                        bias: (0..<filters).map { _ in Int32(truncatingIfNeeded: g.next() >> 20) - 2048 },
                        multipliers: g.multipliers(filters), shifts: [Int32](repeating: -9, count: filters),
                        outputZeroPoint: zo, activationMin: zo, activationMax: 127,
                        pool: block == 0 ? pool : (1, 1))
        if block == 1 { x = b.addMaxPool2d(input: x, pool: pool) }
        x = b.addAffine(input: x, weights: (0..<filters).map { _ in Int16(truncatingIfNeeded: g.next() >> 16) },
                        bias: (0..<filters).map { _ in Int32(truncatingIfNeeded: g.next() >> 12) - (1 << 19) },
                        multipliers: g.multipliers(filters), shifts: [Int32](repeating: -15, count: filters),
                        outputZeroPoint: 5)
        channels = filters
    }
    let h = samePoolGeometry(length: samePoolGeometry(length: frames, pool: pools.0.0).output, pool: pools.1.0).output
    let w = samePoolGeometry(length: samePoolGeometry(length: coeffs, pool: pools.0.1).output, pool: pools.1.1).output
    switch kind {
    case .cnn:
        x = b.addReshape(input: x, shape: [h * w * filters])
    case .gru, .lstm:
        x = b.addReshape(input: x, shape: [h, w * filters])
        let gates = kind == .gru ? 3 : 4
        for layer in 0..<2 {
            let inSize = layer == 0 ? w * filters : units
            let rows = gates * units
            x = b.addRecurrent(lstm: kind == .lstm, input: x, units: units,
                               inputWeights: g.int8s(rows * inSize), recurrentWeights: g.int8s(rows * units),
                               inputBias: (0..<rows).map { _ in Int32(truncatingIfNeeded: g.next() >> 18) - 8192 },
                               recurrentBias: kind == .gru ? (0..<rows).map { _ in Int32(truncatingIfNeeded: g.next() >> 18) - 8192 }
                                   : [Int32](repeating: 0, count: rows),
                               inputMultipliers: g.multipliers(rows), inputShifts: [Int32](repeating: -2, count: rows),
                               recurrentMultipliers: g.multipliers(rows), recurrentShifts: [Int32](repeating: -1, count: rows),
                               returnSequences: layer == 0, cellFractionBits: 11)
        }
    }
    let inSize = kind == .cnn ? h * w * filters : units
    x = b.addFullyConnected(input: x, weights: g.int8s(classes * inSize), outputs: classes,
                            bias: (0..<classes).map { _ in Int32(truncatingIfNeeded: g.next() >> 20) - 2048 },
                            multipliers: g.multipliers(classes), shifts: [Int32](repeating: -6, count: classes),
                            outputZeroPoint: 0)
    b.inputTensor = input
    b.outputTensor = x
    b.labels = (0..<classes).map { Array("genre\($0)".utf8) }
    b.softmaxMultiplier = 1 << 30
    b.softmaxShift = 13  // 2^12 = 4096 in Q16 log2 units per logit step (a logit scale of ~0.043)
    return b
}

/// Fixed integer MFCC inputs (Q23.8) from the LCG.
func tinyInput(frames: Int = 12, coeffs: Int = 6, seed: UInt32) -> [Int32] {
    var g = LCG(state: seed)
    return (0..<(frames * coeffs)).map { _ in Int32(truncatingIfNeeded: g.next()) >> 14 }
}
