// The operator table: what the reader, the planner, the interpreter and `inspect` need of each operator,
// registered in one place (`OpCode.kernel`). Each operator's file in Ops/ holds its whole contract: named
// input and parameter slots, validation, scratch and prepared sizes, prepare, eval and its name
// (TFLite Micro's kernels/<op>.cc with Init/Prepare/Eval). The int8 arithmetic itself is in Kernels/.
//
// To add an operator: docs/architecture.md, "Adding an operator".

/// One operator's entry points. Plain function values (no protocol, no existential: Embedded Swift).
struct OperatorKernel {
    /// The name `crnn-quantize inspect` prints.
    let name: StaticString
    /// Number of input tensors (the rest of the 8 slots hold 0xFFFFFFFF).
    let inputCount: Int
    /// Checks types, shapes and parameters of operator `check.index` (the graph structure is checked already).
    let validate: (OperatorCheck) throws(ModelError) -> Void
    /// Bytes of scratch memory one run needs (lives only during this operator).
    let scratchSize: (ModelFile, OperatorInfo) -> Int
    /// Bytes of prepared constants (computed once at load, alive for every run).
    let preparedSize: (ModelFile, OperatorInfo) -> Int
    /// Fills the prepared constants (called once at load when `preparedSize` > 0).
    let prepare: (ModelFile, OperatorInfo, UnsafeMutableRawBufferPointer) -> Void
    /// Runs operator `index` on the interpreter's arena. Allocates nothing.
    let eval: (Interpreter, Int) -> Void
    /// True when `eval` may write its output over input slot 0 (same bytes): an elementwise kernel that reads
    /// element k before it writes element k and nothing after it. The planner then gives both one buffer
    /// when the input dies at this operator (ArenaPlan).
    let inPlace: Bool

    init(name: StaticString, inputCount: Int, validate: @escaping (OperatorCheck) throws(ModelError) -> Void,
         scratchSize: @escaping (ModelFile, OperatorInfo) -> Int = { _, _ in 0 },
         preparedSize: @escaping (ModelFile, OperatorInfo) -> Int = { _, _ in 0 },
         prepare: @escaping (ModelFile, OperatorInfo, UnsafeMutableRawBufferPointer) -> Void = { _, _, _ in },
         inPlace: Bool = false, eval: @escaping (Interpreter, Int) -> Void) {
        self.name = name; self.inputCount = inputCount; self.validate = validate; self.scratchSize = scratchSize
        self.preparedSize = preparedSize; self.prepare = prepare; self.eval = eval; self.inPlace = inPlace
    }
}

extension OpCode {
    /// The registry: one line per operator.
    var kernel: OperatorKernel {
        switch self {
        case .inputQuantize: return InputQuantizeOp.kernel
        case .conv2d: return Conv2dOp.kernel
        case .maxPool2d: return MaxPool2dOp.kernel
        case .affine: return AffineOp.kernel
        case .reshape: return ReshapeOp.kernel
        case .fullyConnected: return FullyConnectedOp.kernel
        case .gru: return GruOp.kernel
        case .lstm: return LstmOp.kernel
        }
    }

    /// The operator's name as `crnn-quantize inspect` prints it (e.g. "conv2d").
    package var name: StaticString { kernel.name }
    /// Number of input tensors the operator takes.
    package var inputCount: Int { kernel.inputCount }
}

/// The checks an operator's `validate` is written with: operator `index` of a model whose tensors, labels
/// and graph structure are valid. Each failing check throws the given fixed message.
struct OperatorCheck {
    let model: ModelFile
    let index: Int
    let op: OperatorInfo

    /// The tensor in input slot `slot`, and the output tensor.
    func input(_ slot: Int) -> TensorInfo { model.tensor(op.input(slot)) }
    var output: TensorInfo { model.tensor(op.output) }
    func param(_ slot: Int) -> Int32 { op.param(slot) }

    /// A shape or type requirement (`shapeMismatch`).
    func need(_ ok: Bool, _ m: StaticString) throws(ModelError) { if !ok { throw .shapeMismatch(op: index, m) } }
    /// A parameter range (`paramOutOfRange`).
    func range(_ ok: Bool, _ m: StaticString) throws(ModelError) { if !ok { throw .paramOutOfRange(op: index, m) } }
    /// Input `slot` is a constant vector of `n` values of `type`.
    func vector(_ slot: Int, _ type: TensorType, _ n: Int, _ m: StaticString) throws(ModelError) {
        let t = input(slot)
        try need(t.isConstant && t.type == type && t.rank == 1 && t.dims.0 == n, m)
    }
    /// Inputs `multipliers` and `shifts` are a per-channel requantization of `n` channels with valid values.
    func requant(_ multipliers: Int, _ shifts: Int, _ n: Int) throws(ModelError) {
        try vector(multipliers, .int32, n, "requantization multipliers must be a constant int32 vector of the channel count")
        try vector(shifts, .int32, n, "requantization shifts must be a constant int32 vector of the channel count")
        let m = model.int32Data(op.input(multipliers)), s = model.int32Data(op.input(shifts))
        for c in 0..<n where !isValidQuantizedMultiplier(m[c], s[c]) {
            throw .paramOutOfRange(op: index, "requantization multiplier must be >= 0 and shift in -31...30")
        }
    }
    /// Parameters `min` and `max` are fused activation bounds.
    func activation(_ min: Int, _ max: Int) throws(ModelError) {
        let lo = param(min), hi = param(max)
        try range(lo >= -128 && lo <= hi && hi <= 127, "activation bounds must satisfy -128 <= min <= max <= 127")
    }
    /// Parameter slots `count` and above are zero.
    func unusedParams(from count: Int) throws(ModelError) {
        for j in count..<ModelLayout.maxOperatorParams where op.param(j) != 0 {
            throw .paramOutOfRange(op: index, "unused operator parameter must be 0")
        }
    }
}

/// The per-channel requantization held in input slots `multipliers` and `shifts` of operator `o`.
func channelRequant(_ model: ModelFile, _ o: OperatorInfo, _ multipliers: Int, _ shifts: Int) -> ChannelRequant {
    ChannelRequant(multipliers: model.int32Data(o.input(multipliers)), shifts: model.int32Data(o.input(shifts)))
}
