// Operator 6, fullyConnected: dense layer, int8 [inputs] (any shape, flattened) -> int8 [outputs],
// per-output-channel requantization, fused clamp. Kernel: Kernels/FullyConnectedS8.swift.

enum FullyConnectedOp {
    /// Input slots.
    enum Input { static let data = 0, weights = 1, bias = 2, multipliers = 3, shifts = 4, count = 5 }
    /// Parameter slots.
    enum Param { static let activationMin = 0, activationMax = 1, count = 2 }

    static var kernel: OperatorKernel {
        OperatorKernel(name: "fullyConnected", inputCount: Input.count, validate: validate, eval: eval)
    }

    static func validate(_ c: OperatorCheck) throws(ModelError) {
        let x = c.input(Input.data), w = c.input(Input.weights), y = c.output
        try c.need(!x.isConstant && x.type == .int8, "fully connected input must be int8")
        try c.need(w.isConstant && w.type == .int8 && w.rank == 2 && w.dims.1 == x.elementCount, "fully connected weights must be int8 [outputs, inputs]")
        try c.range(x.elementCount <= maxInnerProductLength, "fully connected inner product too long")
        try c.need(y.type == .int8 && y.elementCount == w.dims.0, "fully connected output must have one int8 value per weight row")
        try c.vector(Input.bias, .int32, w.dims.0, "fully connected bias must be a constant int32 vector of the output count")
        try c.requant(Input.multipliers, Input.shifts, w.dims.0)
        try c.activation(Param.activationMin, Param.activationMax)
        try c.unusedParams(from: Param.count)
    }

    static func eval(_ it: Interpreter, _ i: Int) {
        let model = it.model, o = model.op(i)
        let x = model.tensor(o.input(Input.data)), w = model.tensor(o.input(Input.weights)), y = model.tensor(o.output)
        let p = FullyConnectedS8Params(inputSize: x.elementCount, outputSize: w.dims.0, inputZeroPoint: x.zeroPoint,
                                       outputZeroPoint: y.zeroPoint, activationMin: o.param(Param.activationMin),
                                       activationMax: o.param(Param.activationMax))
        fullyConnectedS8(p, input: UnsafeBufferPointer(it.int8Tensor(o.input(Input.data))),
                         weights: model.int8Data(o.input(Input.weights)), bias: model.int32Data(o.input(Input.bias)),
                         requant: channelRequant(model, o, Input.multipliers, Input.shifts), output: it.int8Tensor(o.output),
                         scratch: it.scratch(i))
    }
}
