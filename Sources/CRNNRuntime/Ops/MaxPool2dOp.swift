// Operator 3, maxPool2d: max-pooling with pool = stride and TF 'same' padding, int8 [H, W, C] ->
// [ceil(H/ph), ceil(W/pw), C], same quantization. Kernel: Kernels/MaxPool2dS8.swift.

enum MaxPool2dOp {
    /// Input slots.
    enum Input { static let data = 0, count = 1 }
    /// Parameter slots.
    enum Param { static let poolHeight = 0, poolWidth = 1, count = 2 }

    static var kernel: OperatorKernel {
        OperatorKernel(name: "maxPool2d", inputCount: Input.count, validate: validate, eval: eval)
    }

    static func validate(_ c: OperatorCheck) throws(ModelError) {
        let x = c.input(Input.data), y = c.output
        let ph = Int(c.param(Param.poolHeight)), pw = Int(c.param(Param.poolWidth))
        try c.range(ph >= 1 && ph <= 16 && pw >= 1 && pw <= 16, "max-pool sizes must be in 1...16")
        try c.need(!x.isConstant && x.type == .int8 && x.rank == 3, "max-pool input must be int8 [H, W, C]")
        try c.need(y.type == .int8 && y.rank == 3 && y.dims.0 == samePoolGeometry(length: x.dims.0, pool: ph).output
                   && y.dims.1 == samePoolGeometry(length: x.dims.1, pool: pw).output && y.dims.2 == x.dims.2,
                   "max-pool output shape must be [ceil(H/pool), ceil(W/pool), C]")
        try c.need(y.zeroPoint == x.zeroPoint && y.scaleMultiplier == x.scaleMultiplier && y.scaleShift == x.scaleShift,
                   "max-pool output must have the input's quantization")
        try c.unusedParams(from: Param.count)
    }

    static func eval(_ it: Interpreter, _ i: Int) {
        let o = it.model.op(i), x = it.model.tensor(o.input(Input.data))
        let p = MaxPool2dS8Params(height: x.dims.0, width: x.dims.1, channels: x.dims.2,
                                  poolHeight: Int(o.param(Param.poolHeight)), poolWidth: Int(o.param(Param.poolWidth)))
        maxPool2dS8(p, input: UnsafeBufferPointer(it.int8Tensor(o.input(Input.data))), output: it.int8Tensor(o.output),
                    scratch: it.scratch(i))
    }
}
