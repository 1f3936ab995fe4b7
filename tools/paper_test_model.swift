// The paper-shaped cnn-gru / cnn-lstm with LCG weights (the shapes of Tests/CRNNRuntimeTests/InterpreterTests.swift's
// buildPaperModel), shared by tools/embedded_smoke.sh and tools/runtime_bench.sh. Embedded Swift, no imports.

struct LCG {
    var state: UInt32
    mutating func next() -> UInt32 { state = state &* 1_664_525 &+ 1_013_904_223; return state }
    mutating func int8s(_ n: Int) -> [Int8] { (0..<n).map { _ in Int8(truncatingIfNeeded: next() >> 24) } }
    mutating func multipliers(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(1 << 30) + Int32(next() >> 3) } }
}

func buildPaperModel(lstm: Bool) -> ModelBuilder {
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
