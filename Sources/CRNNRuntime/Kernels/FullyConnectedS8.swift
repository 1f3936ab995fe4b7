// fullyConnectedS8: dense layer, int8 in/out, per-output-channel requantization, fused clamp. Reference.

/// Shapes and quantization of a `fullyConnectedS8` call: input [inputSize] int8, weights [outputSize, inputSize]
/// int8 (row = output channel, i.e. the transpose of a Keras kernel), bias [outputSize] int32, requant
/// [outputSize], output [outputSize] int8. inputSize in 1...`maxInnerProductLength`; zero points and
/// activation bounds in -128...127.
struct FullyConnectedS8Params {
    var inputSize: Int, outputSize: Int
    var inputZeroPoint: Int32, outputZeroPoint: Int32
    var activationMin: Int32, activationMax: Int32
    init(inputSize: Int, outputSize: Int, inputZeroPoint: Int32, outputZeroPoint: Int32,
                activationMin: Int32 = -128, activationMax: Int32 = 127) {
        self.inputSize = inputSize; self.outputSize = outputSize
        self.inputZeroPoint = inputZeroPoint; self.outputZeroPoint = outputZeroPoint
        self.activationMin = activationMin; self.activationMax = activationMax
    }
}

/// Scratch bytes `fullyConnectedS8` needs: none.
func fullyConnectedS8ScratchSize(_ p: FullyConnectedS8Params) -> Int { 0 }

/// out[o] = clamp(z_out + MBQM(bias[o] + sum_i (in[i] - z_in) * w[o, i], m[o], s[o])).
/// Example: in [1, 2], z_in 0, w [[3, 4]], bias 0, multiplier 2^30 (0.5), shift 1 (x 2 -> 1.0): out 11.
func fullyConnectedS8(_ p: FullyConnectedS8Params, input: UnsafeBufferPointer<Int8>,
                             weights: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>,
                             requant: ChannelRequant, output: UnsafeMutableBufferPointer<Int8>,
                             scratch: UnsafeMutableRawBufferPointer) {
    let I = p.inputSize, O = p.outputSize
    precondition(input.count >= I && weights.count >= O * I && bias.count >= O && output.count >= O
                 && requant.multipliers.count >= O && requant.shifts.count >= O)
    let inp = input.baseAddress!, w = weights.baseAddress!
    for o in 0..<O {
        let acc = bias[o] &+ dotS8(inp, p.inputZeroPoint, w + (o &* I), I)
        output[o] = clampS8(p.outputZeroPoint &+ requant.apply(acc, o), p.activationMin, p.activationMax)
    }
}
