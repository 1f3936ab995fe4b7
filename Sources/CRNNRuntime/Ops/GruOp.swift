// Operator 7, gru: fully integer GRU (Keras reset_after=True, gates z, r, h). Slots and shared checks:
// RecurrentOp.swift. Kernel: Kernels/GruS8.swift.

enum GruOp {
    typealias Input = RecurrentOp.Input
    /// Parameter slots.
    enum Param { static let returnSequences = RecurrentOp.Param.returnSequences, count = 1 }
    static let gates = 3

    static var kernel: OperatorKernel {
        OperatorKernel(name: "gru", inputCount: Input.count, validate: validate, scratchSize: scratchSize, eval: eval)
    }

    static func validate(_ c: OperatorCheck) throws(ModelError) {
        try RecurrentOp.validate(c, gates: gates, lstm: false)
        try c.unusedParams(from: Param.count)
    }

    static func params(_ model: ModelFile, _ o: OperatorInfo) -> RecurrentS8Params {
        RecurrentOp.params(model, o, gates: gates, cellFractionBits: 12)
    }

    static func scratchSize(_ model: ModelFile, _ o: OperatorInfo) -> Int { gruS8ScratchSize(params(model, o)) }

    static func eval(_ it: Interpreter, _ i: Int) {
        let o = it.model.op(i)
        gruS8(params(it.model, o), input: UnsafeBufferPointer(it.int8Tensor(o.input(Input.data))),
              weights: RecurrentOp.weights(it.model, o), output: it.int8Tensor(o.output), scratch: it.scratch(i))
    }
}
