// Operator 4, affine: per-channel y = a_c * x + b_c over the last dimension (a batch norm that cannot be
// folded), int8 in/out, fused clamp. Kernel: Kernels/AffineS8.swift (the interpreter runs `affineS8Lookup` with a
// table built at prepare, or `affineS8Fast` in low-RAM builds).

enum AffineOp {
    /// Input slots.
    enum Input { static let data = 0, weights = 1, bias = 2, multipliers = 3, shifts = 4, count = 5 }
    /// Parameter slots.
    enum Param { static let activationMin = 0, activationMax = 1, count = 2 }

    static var kernel: OperatorKernel {
        // Elementwise (output k from input k only): runs in place when the planner lets it.
        OperatorKernel(name: "affine", inputCount: Input.count, validate: validate, preparedSize: preparedSize,
                       prepare: prepare, inPlace: true, eval: eval)
    }

    /// The kernel's parameters for `positions` positions.
    static func params(_ model: ModelFile, _ o: OperatorInfo, positions: Int) -> AffineS8Params {
        let x = model.tensor(o.input(Input.data)), y = model.tensor(o.output)
        return AffineS8Params(positions: positions, channels: x.dim(x.rank - 1), inputZeroPoint: x.zeroPoint,
                              outputZeroPoint: y.zeroPoint, activationMin: o.param(Param.activationMin),
                              activationMax: o.param(Param.activationMax))
    }

    /// The lookup table (`affineS8LookupTableSize`: 256 bytes per channel), unless the build saves RAM.
    static func preparedSize(_ model: ModelFile, _ o: OperatorInfo) -> Int {
        speedTables ? affineS8LookupTableSize(params(model, o, positions: 1)) : 0
    }

    static func prepare(_ model: ModelFile, _ o: OperatorInfo, _ prepared: UnsafeMutableRawBufferPointer) {
        affineS8LookupPrepare(params(model, o, positions: 1), weights: model.int16Data(o.input(Input.weights)),
                              bias: model.int32Data(o.input(Input.bias)),
                              requant: channelRequant(model, o, Input.multipliers, Input.shifts),
                              table: prepared.bindMemory(to: Int8.self))
    }

    static func validate(_ c: OperatorCheck) throws(ModelError) {
        let x = c.input(Input.data), y = c.output
        let n = x.dim(x.rank - 1)
        try c.need(!x.isConstant && x.type == .int8, "affine input must be int8")
        try c.need(y.type == .int8 && y.rank == x.rank && y.elementCount == x.elementCount && y.dim(y.rank - 1) == n,
                   "affine output must have the input's shape")
        try c.vector(Input.weights, .int16, n, "affine weights must be a constant int16 vector of the channel count")
        try c.vector(Input.bias, .int32, n, "affine bias must be a constant int32 vector of the channel count")
        for v in c.model.int32Data(c.op.input(Input.bias)) where v <= -(1 << 30) || v >= (1 << 30) {
            throw .paramOutOfRange(op: c.index, "affine bias magnitude must be below 2^30")
        }
        try c.requant(Input.multipliers, Input.shifts, n)
        try c.activation(Param.activationMin, Param.activationMax)
        try c.unusedParams(from: Param.count)
    }

    static func eval(_ it: Interpreter, _ i: Int) {
        let model = it.model, o = model.op(i)
        let x = model.tensor(o.input(Input.data))
        run(it, i, input: UnsafeBufferPointer(it.int8Tensor(o.input(Input.data))), output: it.int8Tensor(o.output),
            positions: x.elementCount / x.dim(x.rank - 1))
    }

    /// Operator `i` in place on `positions` consecutive positions at `data` (one output row of a conv band
    /// chain, Interpreter/ConvBands.swift).
    static func evalPositions(_ it: Interpreter, _ i: Int, data: UnsafeMutablePointer<Int8>, positions: Int) {
        let y = it.model.tensor(it.model.op(i).output)
        let row = UnsafeMutableBufferPointer(start: data, count: positions * y.dim(y.rank - 1))
        run(it, i, input: UnsafeBufferPointer(row), output: row, positions: positions)
    }

    private static func run(_ it: Interpreter, _ i: Int, input: UnsafeBufferPointer<Int8>,
                            output: UnsafeMutableBufferPointer<Int8>, positions: Int) {
        let model = it.model, o = model.op(i)
        let p = params(model, o, positions: positions)
        let table = it.prepared(i)
        if table.count > 0 {
            affineS8Lookup(p, input: input, table: UnsafeBufferPointer(table.bindMemory(to: Int8.self)), output: output)
            return
        }
        affineS8Fast(p, input: input, weights: model.int16Data(o.input(Input.weights)),
                     bias: model.int32Data(o.input(Input.bias)),
                     requant: channelRequant(model, o, Input.multipliers, Input.shifts), output: output,
                     scratch: it.scratch(i))
    }
}

#if CRNN_LOW_RAM
/// Builds for the least RAM (the Cortex-M image and C library, `-D CRNN_LOW_RAM`) keep no tables made only for
/// speed: the affine runs `affineS8Fast` (its lookup table would take 8 KB per 32-channel batch norm) and the
/// frontend windows each frame from the split twiddles (its window table would take 4 n bytes).
let speedTables = false
#else
/// Every other build runs the affine by table lookup (`affineS8Lookup`, built at prepare from the reference) and
/// windows frames from a window table (`FrameLogMelTables.window`).
let speedTables = true
#endif
