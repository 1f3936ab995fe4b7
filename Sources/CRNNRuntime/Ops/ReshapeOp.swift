// Operator 5, reshape: the same values under another shape (type and zero point kept): a copy, or nothing when
// the planner gave output and input one buffer (in place).

enum ReshapeOp {
    /// Input slots.
    enum Input { static let data = 0, count = 1 }
    /// No parameters.
    enum Param { static let count = 0 }

    static var kernel: OperatorKernel {
        OperatorKernel(name: "reshape", inputCount: Input.count, validate: validate, inPlace: true, eval: eval)
    }

    static func validate(_ c: OperatorCheck) throws(ModelError) {
        let x = c.input(Input.data), y = c.output
        try c.need(!x.isConstant && x.type == y.type && x.elementCount == y.elementCount, "reshape must keep type and element count")
        try c.need(y.zeroPoint == x.zeroPoint, "reshape must keep the zero point")
        try c.unusedParams(from: Param.count)
    }

    static func eval(_ it: Interpreter, _ i: Int) {
        let o = it.model.op(i), x = it.model.tensor(o.input(Input.data))
        let to = it.raw(o.output), from = it.raw(o.input(Input.data))
        if to == from { return }  // planned in place: the bytes are already there
        to.copyMemory(from: UnsafeRawPointer(from), byteCount: x.elementCount * x.type.byteSize)
    }
}
