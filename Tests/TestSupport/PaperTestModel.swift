// The paper-shaped cnn-gru / cnn-lstm with LCG weights: the regression model of the runtime tests
// (Tests/CRNNRuntimeTests/RegressionTests.swift, InterpreterTests.swift), the runtime benchmark
// (Sources/Tools/runtime-bench) and the Embedded smoke test on ARM (tools/embedded_smoke.sh compiles this file and
// Generators.swift with the runtime sources as one Embedded Swift module, where the import below names the module
// itself and is ignored).
import CRNNRuntime

/// 3 conv blocks (32 filters, pools 2/3/4, BN1/BN2 as affine, BN3 folded), reshape [6, 32], 2 GRU (20 units) or
/// LSTM (30 units) layers, dense over 10 classes; LCG weights from seed 42. No labels (callers may add them:
/// they change the file, not the logits).
package func buildPaperModel(lstm: Bool) -> ModelBuilder {
    var g = LCG(state: 42)
    var b = ModelBuilder()
    let input = b.addActivation(.int32, shape: [130, 23])
    var x = b.addInputQuantize(input: input, mean: [Int32](repeating: 0, count: 23), multipliers: g.multipliers(23),
                               shifts: [Int32](repeating: -10, count: 23), outputZeroPoint: 0)
    var c = 1
    for (i, p) in [2, 3, 4].enumerated() {
        x = b.addConv2d(input: x, weights: g.int8s(32 * 9 * c), kernel: (3, 3), outputChannels: 32,
                        bias: [Int32](repeating: 100, count: 32), multipliers: g.multipliers(32),
                        shifts: [Int32](repeating: -9, count: 32), outputZeroPoint: -128, activationMin: -128,
                        activationMax: 127, pool: (p, p))
        if i < 2 {
            x = b.addAffine(input: x, weights: [Int16](repeating: 20000, count: 32), bias: [Int32](repeating: 0, count: 32),
                            multipliers: g.multipliers(32), shifts: [Int32](repeating: -14, count: 32), outputZeroPoint: -100)
        }
        c = 32
    }
    x = b.addReshape(input: x, shape: [6, 32])
    let u = lstm ? 30 : 20, gates = lstm ? 4 : 3
    for layer in 0..<2 {
        let inSize = layer == 0 ? 32 : u
        x = b.addRecurrent(lstm: lstm, input: x, units: u, inputWeights: g.int8s(gates * u * inSize),
                           recurrentWeights: g.int8s(gates * u * u), inputBias: [Int32](repeating: 0, count: gates * u),
                           recurrentBias: [Int32](repeating: 0, count: gates * u),
                           inputMultipliers: g.multipliers(gates * u), inputShifts: [Int32](repeating: -3, count: gates * u),
                           recurrentMultipliers: g.multipliers(gates * u), recurrentShifts: [Int32](repeating: -1, count: gates * u),
                           returnSequences: layer == 0)
    }
    x = b.addFullyConnected(input: x, weights: g.int8s(10 * u), outputs: 10, bias: [Int32](repeating: 0, count: 10),
                            multipliers: g.multipliers(10), shifts: [Int32](repeating: -6, count: 10), outputZeroPoint: 0)
    b.inputTensor = input
    b.outputTensor = x
    b.softmaxMultiplier = 1 << 30
    b.softmaxShift = 13
    return b
}

/// The input the benchmark and the Embedded smoke test feed it: 130 x 23 int32 from LCG seed 1, each `>> 14`.
public func paperModelInput() -> [Int32] {
    var g = LCG(state: 1)
    return (0..<(130 * 23)).map { _ in Int32(truncatingIfNeeded: g.next()) >> 14 }
}

/// The int8 logits of cnn-gru (index 0) and cnn-lstm (index 1) on `paperModelInput()`: the regression values
/// (Tests/CRNNRuntimeTests/RegressionTests.swift, paper-gru/lstm, input 1), checked on x86_64, aarch64 and armv7.
public let paperModelExpectedLogits: [[Int8]] = [[-128, -128, -44, 85, 16, 127, -128, -48, -30, -128],
                                                 [73, 104, 46, -26, 13, -31, -127, 100, -83, 63]]
