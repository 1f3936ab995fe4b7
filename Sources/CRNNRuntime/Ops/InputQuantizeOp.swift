// Operator 1, inputQuantize: int32 Q23.8 MFCC [frames, coefficients] -> int8 [frames, coefficients(, 1)],
// the model's input standardisation fused with the input quantization. Kernel: Kernels/InputQuantizeS8.swift.

enum InputQuantizeOp {
    /// Input slots.
    enum Input { static let features = 0, mean = 1, multipliers = 2, shifts = 3, count = 4 }
    /// No parameters.
    enum Param { static let count = 0 }

    static var kernel: OperatorKernel {
        OperatorKernel(name: "inputQuantize", inputCount: Input.count, validate: validate, eval: eval)
    }

    static func validate(_ c: OperatorCheck) throws(ModelError) {
        let x = c.input(Input.features), y = c.output
        try c.need(!x.isConstant && x.type == .int32 && x.rank == 2, "input quantize reads an int32 [frames, coefficients] tensor")
        try c.need(y.type == .int8 && (y.rank == 2 || (y.rank == 3 && y.dims.2 == 1)) && y.dims.0 == x.dims.0 && y.dims.1 == x.dims.1,
                   "input quantize output must be int8 [frames, coefficients] or [frames, coefficients, 1]")
        try c.vector(Input.mean, .int32, x.dims.1, "input quantize mean must be a constant int32 vector of the coefficient count")
        try c.requant(Input.multipliers, Input.shifts, x.dims.1)
        try c.unusedParams(from: Param.count)
    }

    static func eval(_ it: Interpreter, _ i: Int) {
        let model = it.model, o = model.op(i)
        let x = model.tensor(o.input(Input.features)), y = model.tensor(o.output)
        let features = UnsafeBufferPointer(start: it.raw(o.input(Input.features)).assumingMemoryBound(to: Int32.self),
                                           count: x.elementCount)
        inputQuantizeS8(InputQuantizeS8Params(frames: x.dims.0, coefficients: x.dims.1, outputZeroPoint: y.zeroPoint),
                        features: features, mean: model.int32Data(o.input(Input.mean)),
                        requant: channelRequant(model, o, Input.multipliers, Input.shifts),
                        output: it.int8Tensor(o.output), scratch: it.scratch(i))
    }
}
