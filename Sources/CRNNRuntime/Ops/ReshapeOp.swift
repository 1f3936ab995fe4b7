// Operator 5, reshape: the same values under another shape (a copy; type and zero point kept).

enum ReshapeOp {
    /// Input slots.
    enum Input { static let data = 0, count = 1 }
    /// No parameters.
    enum Param { static let count = 0 }

    static var kernel: OperatorKernel {
        OperatorKernel(name: "reshape", inputCount: Input.count, validate: validate, eval: eval)
    }

    static func validate(_ c: OperatorCheck) throws(ModelError) {
        let x = c.input(Input.data), y = c.output
        try c.need(!x.isConstant && x.type == y.type && x.elementCount == y.elementCount, "reshape must keep type and element count")
        try c.need(y.zeroPoint == x.zeroPoint, "reshape must keep the zero point")
        try c.unusedParams(from: Param.count)
    }

    static func eval(_ it: Interpreter, _ i: Int) {
        let o = it.model.op(i), x = it.model.tensor(o.input(Input.data))
        it.raw(o.output).copyMemory(from: it.raw(o.input(Input.data)), byteCount: x.elementCount * x.type.byteSize)
    }
}
