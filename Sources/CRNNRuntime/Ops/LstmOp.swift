// Operator 8, lstm: fully integer LSTM (Keras gate order i, f, c, o), int16 cell state with 2^-cellFractionBits
// scale. Slots and shared checks: RecurrentOp.swift. Kernel: Kernels/LstmS8.swift.

enum LstmOp {
    typealias Input = RecurrentOp.Input
    /// Parameter slots.
    enum Param { static let returnSequences = RecurrentOp.Param.returnSequences, cellFractionBits = 1, count = 2 }
    static let gates = 4

    static var kernel: OperatorKernel {
        OperatorKernel(name: "lstm", inputCount: Input.count, validate: validate, scratchSize: scratchSize, eval: eval)
    }

    static func validate(_ c: OperatorCheck) throws(ModelError) {
        try RecurrentOp.validate(c, gates: gates, lstm: true)
        let bits = c.param(Param.cellFractionBits)
        try c.range(bits >= 8 && bits <= 12, "LSTM cell fraction bits must be in 8...12")
        try c.unusedParams(from: Param.count)
    }

    static func params(_ model: ModelFile, _ o: OperatorInfo) -> RecurrentS8Params {
        RecurrentOp.params(model, o, gates: gates, cellFractionBits: o.param(Param.cellFractionBits))
    }

    static func scratchSize(_ model: ModelFile, _ o: OperatorInfo) -> Int { lstmS8ScratchSize(params(model, o)) }

    static func eval(_ it: Interpreter, _ i: Int) {
        let o = it.model.op(i)
        lstmS8(params(it.model, o), input: UnsafeBufferPointer(it.int8Tensor(o.input(Input.data))),
               weights: RecurrentOp.weights(it.model, o), output: it.int8Tensor(o.output), scratch: it.scratch(i))
    }
}
