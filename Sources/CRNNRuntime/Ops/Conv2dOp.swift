// Operator 2, conv2d: 2-D convolution, stride 1, 'same' padding, per-channel requantization, fused clamp and
// fused max-pool. int8 [H, W, Cin] -> int8 [ceil(H/ph), ceil(W/pw), Cout]. Kernels: Kernels/Conv2dS8.swift
// (reference) and Kernels/Conv2dS8Fast.swift (blocked, same bits; used when it supports the shape).

enum Conv2dOp {
    /// Input slots.
    enum Input { static let data = 0, weights = 1, bias = 2, multipliers = 3, shifts = 4, count = 5 }
    /// Parameter slots.
    enum Param { static let activationMin = 0, activationMax = 1, poolHeight = 2, poolWidth = 3, count = 4 }

    static var kernel: OperatorKernel {
        OperatorKernel(name: "conv2d", inputCount: Input.count, validate: validate, scratchSize: scratchSize,
                       preparedSize: preparedSize, prepare: prepare, eval: eval)
    }

    static func validate(_ c: OperatorCheck) throws(ModelError) {
        let x = c.input(Input.data), w = c.input(Input.weights), y = c.output
        try c.need(!x.isConstant && x.type == .int8 && x.rank == 3, "conv2d input must be int8 [H, W, C]")
        try c.need(w.isConstant && w.type == .int8 && w.rank == 4 && w.dims.3 == x.dims.2, "conv2d weights must be int8 [Cout, KH, KW, Cin]")
        try c.range(w.dims.1 % 2 == 1 && w.dims.2 % 2 == 1 && w.dims.1 <= 15 && w.dims.2 <= 15, "conv2d kernel sizes must be odd and at most 15")
        try c.range(w.dims.1 * w.dims.2 * w.dims.3 <= maxInnerProductLength, "conv2d inner product too long")
        try c.vector(Input.bias, .int32, w.dims.0, "conv2d bias must be a constant int32 vector of Cout")
        try c.requant(Input.multipliers, Input.shifts, w.dims.0)
        try c.activation(Param.activationMin, Param.activationMax)
        let ph = Int(c.param(Param.poolHeight)), pw = Int(c.param(Param.poolWidth))
        try c.range(ph >= 1 && ph <= 16 && pw >= 1 && pw <= 16, "conv2d pool sizes must be in 1...16")
        try c.need(y.type == .int8 && y.rank == 3 && y.dims.0 == samePoolGeometry(length: x.dims.0, pool: ph).output
                   && y.dims.1 == samePoolGeometry(length: x.dims.1, pool: pw).output && y.dims.2 == w.dims.0,
                   "conv2d output shape must be [ceil(H/pool), ceil(W/pool), Cout]")
        try c.unusedParams(from: Param.count)
    }

    /// The kernel's parameters from the model's tensors and the operator's parameter slots.
    static func params(_ model: ModelFile, _ o: OperatorInfo) -> Conv2dS8Params {
        let x = model.tensor(o.input(Input.data)), w = model.tensor(o.input(Input.weights)), y = model.tensor(o.output)
        return Conv2dS8Params(inputHeight: x.dims.0, inputWidth: x.dims.1, inputChannels: x.dims.2,
                              outputChannels: w.dims.0, kernelHeight: w.dims.1, kernelWidth: w.dims.2,
                              inputZeroPoint: x.zeroPoint, outputZeroPoint: y.zeroPoint,
                              activationMin: o.param(Param.activationMin), activationMax: o.param(Param.activationMax),
                              poolHeight: Int(o.param(Param.poolHeight)), poolWidth: Int(o.param(Param.poolWidth)))
    }

    static func scratchSize(_ model: ModelFile, _ o: OperatorInfo) -> Int {
        let p = params(model, o)
        return conv2dS8FastSupports(p) ? conv2dS8FastRunScratchSize(p) : conv2dS8ScratchSize(p)
    }

    /// The fast path's packed weights and adjusted bias (0 bytes when it does not support the shape).
    static func preparedSize(_ model: ModelFile, _ o: OperatorInfo) -> Int {
        conv2dS8FastPreparedSize(params(model, o))
    }

    static func prepare(_ model: ModelFile, _ o: OperatorInfo, _ prepared: UnsafeMutableRawBufferPointer) {
        conv2dS8FastPrepare(params(model, o), weights: model.int8Data(o.input(Input.weights)),
                            bias: model.int32Data(o.input(Input.bias)),
                            requant: channelRequant(model, o, Input.multipliers, Input.shifts), prepared: prepared)
    }

    static func eval(_ it: Interpreter, _ i: Int) {
        let model = it.model, o = model.op(i)
        let p = params(model, o)
        let input = UnsafeBufferPointer(it.int8Tensor(o.input(Input.data)))
        let weights = model.int8Data(o.input(Input.weights)), bias = model.int32Data(o.input(Input.bias))
        let requant = channelRequant(model, o, Input.multipliers, Input.shifts)
        let prepared = it.prepared(i)
        if prepared.count > 0 {
            conv2dS8FastRun(p, input: input, weights: weights, bias: bias, requant: requant,
                            prepared: UnsafeRawBufferPointer(prepared), output: it.int8Tensor(o.output), scratch: it.scratch(i))
        } else {
            conv2dS8(p, input: input, weights: weights, bias: bias, requant: requant,
                     output: it.int8Tensor(o.output), scratch: it.scratch(i))
        }
    }
}
