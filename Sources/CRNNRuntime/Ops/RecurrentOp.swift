// What operators 7 (gru, GruOp.swift) and 8 (lstm, LstmOp.swift) share: the input slots, the validation and
// the decoding of weights and parameters. int8 [time, features] -> int8 [time, units] or [1, units] at the
// fixed scale 2^-7. Kernels: Kernels/GruS8.swift, Kernels/LstmS8.swift.

enum RecurrentOp {
    /// Input slots (both operators).
    enum Input {
        static let data = 0, inputWeights = 1, recurrentWeights = 2, bias = 3,
                   inputMultipliers = 4, inputShifts = 5, recurrentMultipliers = 6, recurrentShifts = 7, count = 8
    }
    /// Parameter slot 0 (both operators); LSTM adds `LstmOp.Param.cellFractionBits`.
    enum Param { static let returnSequences = 0 }

    /// Checks operator `c` with `gates` gates (GRU 3, LSTM 4). `lstm`: the bias may have one row only.
    static func validate(_ c: OperatorCheck, gates: Int, lstm: Bool) throws(ModelError) {
        let x = c.input(Input.data), y = c.output
        let wx = c.input(Input.inputWeights), wh = c.input(Input.recurrentWeights), b = c.input(Input.bias)
        try c.need(!x.isConstant && x.type == .int8 && x.rank == 2, "recurrent input must be int8 [time, features]")
        let T = x.dims.0, I = x.dims.1
        try c.need(wx.isConstant && wx.type == .int8 && wx.rank == 2 && wx.dims.1 == I && wx.dims.0 % gates == 0,
                   "recurrent input weights must be int8 [gates*units, features]")
        let U = wx.dims.0 / gates
        try c.range(T <= 4096 && U <= 4096 && I <= maxInnerProductLength, "recurrent sizes out of range")
        try c.need(wh.isConstant && wh.type == .int8 && wh.rank == 2 && wh.dims.0 == gates * U && wh.dims.1 == U,
                   "recurrent weights must be int8 [gates*units, units]")
        // GRU: input and recurrent bias rows. LSTM: the input bias row only (format 1.1; 1.0 also wrote a zero row).
        try c.need(b.isConstant && b.type == .int32 && b.rank == 2 && b.dims.1 == gates * U
                   && (b.dims.0 == 2 || (lstm && b.dims.0 == 1)),
                   "recurrent bias must be int32 [2, gates*units] (GRU) or [1 or 2, gates*units] (LSTM)")
        try c.requant(Input.inputMultipliers, Input.inputShifts, gates * U)
        try c.requant(Input.recurrentMultipliers, Input.recurrentShifts, gates * U)
        let seq = c.param(Param.returnSequences)
        try c.range(seq == 0 || seq == 1, "return-sequences flag must be 0 or 1")
        try c.need(y.type == .int8 && y.rank == 2 && y.dims.0 == (seq == 1 ? T : 1) && y.dims.1 == U,
                   "recurrent output must be int8 [time, units] (sequences) or [1, units] (last state)")
        try c.need(y.zeroPoint == 0, "recurrent output zero point must be 0 (fixed scale 2^-7)")
    }

    /// The kernel's sizes. `cellFractionBits` is the LSTM's parameter (12 for a GRU, unused there).
    static func params(_ model: ModelFile, _ o: OperatorInfo, gates: Int, cellFractionBits: Int32) -> RecurrentS8Params {
        let x = model.tensor(o.input(Input.data)), wx = model.tensor(o.input(Input.inputWeights))
        return RecurrentS8Params(timeSteps: x.dims.0, inputSize: x.dims.1, units: wx.dims.0 / gates, inputZeroPoint: x.zeroPoint,
                                 returnSequences: o.param(Param.returnSequences) == 1, cellFractionBits: cellFractionBits)
    }

    /// Weights, bias rows and requantizations of operator `o`.
    static func weights(_ model: ModelFile, _ o: OperatorInfo) -> RecurrentS8Weights {
        let rows = model.tensor(o.input(Input.inputWeights)).dims.0
        let bias = model.int32Data(o.input(Input.bias))
        let biasRows = model.tensor(o.input(Input.bias)).dims.0  // 1: an LSTM without a recurrent bias row
        return RecurrentS8Weights(
            inputWeights: model.int8Data(o.input(Input.inputWeights)),
            recurrentWeights: model.int8Data(o.input(Input.recurrentWeights)),
            inputBias: UnsafeBufferPointer(rebasing: bias[0..<rows]),
            recurrentBias: UnsafeBufferPointer(rebasing: bias[(biasRows == 2 ? rows : 0)..<(biasRows == 2 ? 2 * rows : 0)]),
            inputRequant: channelRequant(model, o, Input.inputMultipliers, Input.inputShifts),
            recurrentRequant: channelRequant(model, o, Input.recurrentMultipliers, Input.recurrentShifts))
    }
}
