// Interpreter: runs a validated model with one arena planned at load time. Integers only.
//
// Memory: `init` validates nothing new (ModelFile did) but plans every activation tensor, every operator's
// scratch and every operator's prepared constants (the fast conv's packed weights, alive for the whole run)
// into ONE arena (`ArenaPlan`), allocates that arena once or uses a caller-owned one, and runs the prepare
// steps. `invoke` and the `run` helpers allocate nothing: they read the model in place and write only into
// the arena.

/// The memory plan of one model: arena offsets of every activation and operator scratch buffer. Greedy
/// liveness-based placement: largest buffer first, lowest 16-aligned offset not overlapping a buffer alive
/// at the same time (TFLite Micro's greedy planner idea).
public struct ArenaPlan {
    /// Bytes of the arena (the planned extent, a multiple of 16).
    public let arenaBytes: Int
    /// Largest sum of bytes alive at one time (a lower bound for any planner; `arenaBytes` >= this).
    public let peakLiveBytes: Int
    /// What the arena would take without reuse (every activation and scratch its own buffer).
    public let unplannedBytes: Int
    let tensorOffsets: [Int]
    let scratchOffsets: [Int]
    let scratchSizes: [Int]
    /// Per operator: arena offset and bytes of its prepared constants (0 bytes: none).
    let preparedOffsets: [Int]
    let preparedSizes: [Int]
    let softmaxScratchOffset: Int

    /// Plans the arena of `model` (validated). With `keepAllActivations` every activation gets its own buffer.
    public init(model: ModelFile, keepAllActivations: Bool = false) {
        let nT = model.tensorCount, nO = model.operatorCount
        // Buffers: tensors (first def, last use), then scratch per operator, then softmax scratch.
        var first = [Int](repeating: Int.max, count: nT), last = [Int](repeating: -2, count: nT)
        first[model.inputTensor] = -1
        last[model.inputTensor] = -1
        for i in 0..<nO {
            let o = model.op(i)
            for k in 0..<o.inputCount where !model.tensor(o.input(k)).isConstant {
                last[o.input(k)] = max(last[o.input(k)], i)
            }
            first[o.output] = min(first[o.output], i)
            last[o.output] = max(last[o.output], i)
        }
        last[model.outputTensor] = nO + 1  // read by the softmax after the last operator
        var sizes: [Int] = [], starts: [Int] = [], ends: [Int] = []
        var owner: [Int] = []  // tensor index, or -1 - op for scratch, or Int.min for softmax
        for t in 0..<nT where !model.tensor(t).isConstant && last[t] >= -1 {
            let info = model.tensor(t)
            sizes.append(info.elementCount * info.type.byteSize)
            starts.append(keepAllActivations ? -1 : first[t]); ends.append(keepAllActivations ? nO + 1 : last[t])
            owner.append(t)
        }
        var scratchSizes = [Int](repeating: 0, count: nO)
        for i in 0..<nO {
            scratchSizes[i] = Interpreter.scratchSize(model, model.op(i))
            if scratchSizes[i] > 0 { sizes.append(scratchSizes[i]); starts.append(i); ends.append(i); owner.append(-1 - i) }
        }
        // Prepared constants live from load to the end of every run (owner -1 - nO - op).
        var preparedSizes = [Int](repeating: 0, count: nO)
        for i in 0..<nO {
            preparedSizes[i] = Interpreter.preparedSize(model, model.op(i))
            if preparedSizes[i] > 0 {
                sizes.append(preparedSizes[i]); starts.append(-1); ends.append(nO + 1); owner.append(-1 - nO - i)
            }
        }
        let classes = model.tensor(model.outputTensor).elementCount
        sizes.append(softmaxQ15ScratchSize(classes: classes)); starts.append(nO + 1); ends.append(nO + 1); owner.append(Int.min)

        // Greedy placement, largest first (ties: earlier start first, for determinism).
        var order = Array(0..<sizes.count)
        order.sort { a, b in sizes[a] != sizes[b] ? sizes[a] > sizes[b] : (starts[a] != starts[b] ? starts[a] < starts[b] : a < b) }
        var offsets = [Int](repeating: -1, count: sizes.count)
        var placed: [Int] = []
        var extent = 0
        for b in order {
            var candidate = 0
            var moved = true
            while moved {
                moved = false
                for p in placed where starts[p] <= ends[b] && starts[b] <= ends[p]
                    && offsets[p] < candidate + sizes[b] && candidate < offsets[p] + sizes[p] {
                    candidate = (offsets[p] + sizes[p] + 15) / 16 * 16
                    moved = true
                }
            }
            offsets[b] = candidate
            placed.append(b)
            extent = max(extent, candidate + sizes[b])
        }
        var peak = 0
        for time in -1...(nO + 1) {
            var live = 0
            for b in 0..<sizes.count where starts[b] <= time && time <= ends[b] { live += sizes[b] }
            peak = max(peak, live)
        }
        var tOff = [Int](repeating: -1, count: nT), sOff = [Int](repeating: 0, count: nO), smOff = 0
        var pOff = [Int](repeating: 0, count: nO)
        var total = 0
        for b in 0..<sizes.count {
            total += (sizes[b] + 15) / 16 * 16
            if owner[b] == Int.min { smOff = offsets[b] }
            else if owner[b] < -nO { pOff[-1 - nO - owner[b]] = offsets[b] }
            else if owner[b] < 0 { sOff[-1 - owner[b]] = offsets[b] }
            else { tOff[owner[b]] = offsets[b] }
        }
        arenaBytes = (extent + 15) / 16 * 16
        peakLiveBytes = peak
        unplannedBytes = total
        tensorOffsets = tOff; scratchOffsets = sOff; self.scratchSizes = scratchSizes; softmaxScratchOffset = smOff
        preparedOffsets = pOff; self.preparedSizes = preparedSizes
    }

}

public final class Interpreter {
    public let model: ModelFile
    /// Bytes of the one arena (the planned extent, 16-byte aligned).
    public let arenaBytes: Int
    /// Largest sum of bytes alive at one time (a lower bound for any planner; `arenaBytes` >= this).
    public let peakLiveBytes: Int
    /// What the arena would take without reuse (every activation and scratch its own buffer).
    public let unplannedBytes: Int
    let arena: UnsafeMutableRawBufferPointer
    /// Arena offset per tensor (-1 for constants), and per operator scratch (offset, bytes).
    let tensorOffsets: [Int]
    let scratchOffsets: [Int]
    let scratchSizes: [Int]
    let preparedOffsets: [Int]
    let preparedSizes: [Int]
    let softmaxScratchOffset: Int
    public let keepsAllActivations: Bool
    let ownsArena: Bool

    /// Plans the arena and allocates it (one allocation, at load). With `keepAllActivations` every
    /// activation gets its own buffer, so every layer's output can be read after `invoke` (the host
    /// quantizer's per-layer SQNR uses this).
    public convenience init(model: ModelFile, keepAllActivations: Bool = false) throws(ModelError) {
        let plan = ArenaPlan(model: model, keepAllActivations: keepAllActivations)
        let arena = UnsafeMutableRawBufferPointer.allocate(byteCount: max(plan.arenaBytes, 16), alignment: 16)
        try self.init(model: model, plan: plan, arena: arena, keepAllActivations: keepAllActivations, owned: true)
    }

    /// Runs in a caller-owned arena (16-byte aligned, at least `ArenaPlan(model:).arenaBytes`): nothing is
    /// allocated by the runtime except this object and its small offset tables.
    public convenience init(model: ModelFile, arena: UnsafeMutableRawBufferPointer,
                            keepAllActivations: Bool = false) throws(ModelError) {
        let plan = ArenaPlan(model: model, keepAllActivations: keepAllActivations)
        try self.init(model: model, plan: plan, arena: arena, keepAllActivations: keepAllActivations, owned: false)
    }

    init(model: ModelFile, plan: ArenaPlan, arena: UnsafeMutableRawBufferPointer, keepAllActivations: Bool,
         owned: Bool) throws(ModelError) {
        guard let base = arena.baseAddress, UInt(bitPattern: base) % 16 == 0 else {
            if owned { arena.deallocate() }
            throw .wrongInput("arena must be 16-byte aligned")
        }
        if arena.count < plan.arenaBytes {
            if owned { arena.deallocate() }
            throw .wrongInput("arena smaller than the plan's arenaBytes")
        }
        self.model = model
        keepsAllActivations = keepAllActivations
        ownsArena = owned
        self.arena = arena
        arenaBytes = plan.arenaBytes; peakLiveBytes = plan.peakLiveBytes; unplannedBytes = plan.unplannedBytes
        tensorOffsets = plan.tensorOffsets; scratchOffsets = plan.scratchOffsets; scratchSizes = plan.scratchSizes
        softmaxScratchOffset = plan.softmaxScratchOffset
        preparedOffsets = plan.preparedOffsets; preparedSizes = plan.preparedSizes
        arena.initializeMemory(as: UInt8.self, repeating: 0)
        prepareOperators()
    }

    /// Prepare steps, once at load: the fast conv's packed weights and adjusted biases.
    func prepareOperators() {
        for i in 0..<model.operatorCount where preparedSizes[i] > 0 {
            let o = model.op(i)
            if o.opcode == .conv2d {
                conv2dS8FastPrepare(Interpreter.convParams(model, o), weights: model.int8Data(o.input(1)),
                                    bias: model.int32Data(o.input(2)), requant: requant(o, 3, 4), prepared: prepared(i))
            }
        }
    }

    func prepared(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: arena.baseAddress! + preparedOffsets[i], count: preparedSizes[i])
    }

    deinit { if ownsArena { arena.deallocate() } }

    static func scratchSize(_ model: ModelFile, _ o: OperatorInfo) -> Int {
        switch o.opcode {
        case .gru, .lstm:
            let p = recurrentParams(model, o)
            return o.opcode == .gru ? gruS8ScratchSize(p) : lstmS8ScratchSize(p)
        case .conv2d:
            let p = convParams(model, o)
            return conv2dS8FastSupports(p) ? conv2dS8FastRunScratchSize(p) : conv2dS8ScratchSize(p)
        default: return 0
        }
    }

    /// Bytes of an operator's prepared constants in the arena (the fast conv's; 0 for every other kernel).
    static func preparedSize(_ model: ModelFile, _ o: OperatorInfo) -> Int {
        o.opcode == .conv2d ? conv2dS8FastPreparedSize(convParams(model, o)) : 0
    }

    static func convParams(_ model: ModelFile, _ o: OperatorInfo) -> Conv2dS8Params {
        let x = model.tensor(o.input(0)), w = model.tensor(o.input(1)), y = model.tensor(o.output)
        return Conv2dS8Params(inputHeight: x.dims.0, inputWidth: x.dims.1, inputChannels: x.dims.2,
                              outputChannels: w.dims.0, kernelHeight: w.dims.1, kernelWidth: w.dims.2,
                              inputZeroPoint: x.zeroPoint, outputZeroPoint: y.zeroPoint,
                              activationMin: o.param(0), activationMax: o.param(1),
                              poolHeight: Int(o.param(2)), poolWidth: Int(o.param(3)))
    }

    static func recurrentParams(_ model: ModelFile, _ o: OperatorInfo) -> RecurrentS8Params {
        let x = model.tensor(o.input(0)), wx = model.tensor(o.input(1))
        let units = wx.dims.0 / (o.opcode == .gru ? 3 : 4)
        return RecurrentS8Params(timeSteps: x.dims.0, inputSize: x.dims.1, units: units, inputZeroPoint: x.zeroPoint,
                                 returnSequences: o.param(0) == 1, cellFractionBits: o.opcode == .lstm ? o.param(1) : 12)
    }

    // MARK: Tensor access (views into the arena)

    func raw(_ t: Int) -> UnsafeMutableRawPointer {
        precondition(tensorOffsets[t] >= 0, "tensor has no arena buffer")
        return arena.baseAddress! + tensorOffsets[t]
    }

    /// The int8 activation `t` (a layer output). Without `keepAllActivations` it holds valid data only while
    /// the planner has not reused its bytes (always true for the graph output after `invoke`).
    public func int8Tensor(_ t: Int) -> UnsafeMutableBufferPointer<Int8> {
        let info = model.tensor(t)
        precondition(!info.isConstant && info.type == .int8)
        return UnsafeMutableBufferPointer(start: raw(t).assumingMemoryBound(to: Int8.self), count: info.elementCount)
    }

    /// The int32 graph input (Q23.8 MFCC [frames, coefficients]) to fill before `invoke`, or nil when the model
    /// starts from int8.
    public var featureInput: UnsafeMutableBufferPointer<Int32>? {
        let info = model.tensor(model.inputTensor)
        if info.type != .int32 { return nil }
        return UnsafeMutableBufferPointer(start: raw(model.inputTensor).assumingMemoryBound(to: Int32.self), count: info.elementCount)
    }

    /// The int8 tensor the network proper starts from: the graph input when it is int8, else the output of
    /// the leading input-quantize operator.
    public var quantizedInputTensor: Int {
        if model.tensor(model.inputTensor).type == .int8 { return model.inputTensor }
        return model.op(0).output
    }

    /// The int8 logits (valid after `invoke`).
    public var output: UnsafeBufferPointer<Int8> { UnsafeBufferPointer(int8Tensor(model.outputTensor)) }

    // MARK: Running

    /// Runs operators `from ..< operatorCount` on what is in the arena. No allocation.
    public func invoke(from start: Int = 0) {
        for i in start..<model.operatorCount { runOperator(i) }
    }

    /// Copies Q23.8 MFCC features into the graph input and runs the whole graph.
    public func run(features: UnsafeBufferPointer<Int32>) throws(ModelError) {
        guard let dst = featureInput else { throw .wrongInput("this model takes int8 input") }
        if features.count != dst.count { throw .wrongInput("feature count differs from the model's input") }
        for i in 0..<dst.count { dst[i] = features[i] }
        invoke()
    }

    /// Copies an already quantized int8 input and runs the graph from the first operator after the input
    /// quantization.
    public func run(quantizedInput: UnsafeBufferPointer<Int8>) throws(ModelError) {
        let dst = int8Tensor(quantizedInputTensor)
        if quantizedInput.count != dst.count { throw .wrongInput("input count differs from the model's int8 input") }
        for i in 0..<dst.count { dst[i] = quantizedInput[i] }
        invoke(from: quantizedInputTensor == model.inputTensor ? 0 : 1)
    }

    /// Index of the largest logit (ties: lowest index). The top-1 decision; softmax at Q15 may tie.
    public var top1: Int { argmaxS8(output) }

    /// Class probabilities in Q0.15 (`probabilities.count` >= classes).
    public func probabilitiesQ15(into probabilities: UnsafeMutableBufferPointer<Int16>) {
        let n = output.count
        softmaxQ15(logits: output, multiplier: model.softmaxMultiplier, shift: model.softmaxShift,
                   output: UnsafeMutableBufferPointer(rebasing: probabilities[0..<n]),
                   scratch: UnsafeMutableRawBufferPointer(start: arena.baseAddress! + softmaxScratchOffset,
                                                          count: softmaxQ15ScratchSize(classes: n)))
    }

    func requant(_ o: OperatorInfo, _ mk: Int, _ sk: Int) -> ChannelRequant {
        ChannelRequant(multipliers: model.int32Data(o.input(mk)), shifts: model.int32Data(o.input(sk)))
    }

    func runOperator(_ i: Int) {
        let o = model.op(i)
        let x = model.tensor(o.input(0)), y = model.tensor(o.output)
        let scratch = UnsafeMutableRawBufferPointer(start: arena.baseAddress! + scratchOffsets[i], count: scratchSizes[i])
        switch o.opcode {
        case .inputQuantize:
            let features = UnsafeBufferPointer(start: raw(o.input(0)).assumingMemoryBound(to: Int32.self), count: x.elementCount)
            inputQuantizeS8(InputQuantizeS8Params(frames: x.dims.0, coefficients: x.dims.1, outputZeroPoint: y.zeroPoint),
                            features: features, mean: model.int32Data(o.input(1)), requant: requant(o, 2, 3),
                            output: int8Tensor(o.output), scratch: scratch)
        case .conv2d:
            let p = Interpreter.convParams(model, o)
            let input = UnsafeBufferPointer(int8Tensor(o.input(0)))
            if preparedSizes[i] > 0 {
                conv2dS8FastRun(p, input: input, weights: model.int8Data(o.input(1)), bias: model.int32Data(o.input(2)),
                                requant: requant(o, 3, 4), prepared: UnsafeRawBufferPointer(prepared(i)),
                                output: int8Tensor(o.output), scratch: scratch)
            } else {
                conv2dS8(p, input: input, weights: model.int8Data(o.input(1)), bias: model.int32Data(o.input(2)),
                         requant: requant(o, 3, 4), output: int8Tensor(o.output), scratch: scratch)
            }
        case .maxPool2d:
            let p = MaxPool2dS8Params(height: x.dims.0, width: x.dims.1, channels: x.dims.2,
                                      poolHeight: Int(o.param(0)), poolWidth: Int(o.param(1)))
            maxPool2dS8(p, input: UnsafeBufferPointer(int8Tensor(o.input(0))), output: int8Tensor(o.output), scratch: scratch)
        case .affine:
            let c = x.dim(x.rank - 1)
            let p = AffineS8Params(positions: x.elementCount / c, channels: c, inputZeroPoint: x.zeroPoint,
                                   outputZeroPoint: y.zeroPoint, activationMin: o.param(0), activationMax: o.param(1))
            affineS8Fast(p, input: UnsafeBufferPointer(int8Tensor(o.input(0))), weights: model.int16Data(o.input(1)),
                     bias: model.int32Data(o.input(2)), requant: requant(o, 3, 4), output: int8Tensor(o.output),
                     scratch: scratch)
        case .reshape:
            let n = x.elementCount * x.type.byteSize
            raw(o.output).copyMemory(from: raw(o.input(0)), byteCount: n)
        case .fullyConnected:
            let w = model.tensor(o.input(1))
            let p = FullyConnectedS8Params(inputSize: x.elementCount, outputSize: w.dims.0, inputZeroPoint: x.zeroPoint,
                                           outputZeroPoint: y.zeroPoint, activationMin: o.param(0), activationMax: o.param(1))
            fullyConnectedS8(p, input: UnsafeBufferPointer(int8Tensor(o.input(0))), weights: model.int8Data(o.input(1)),
                             bias: model.int32Data(o.input(2)), requant: requant(o, 3, 4), output: int8Tensor(o.output),
                             scratch: scratch)
        case .gru, .lstm:
            let p = Interpreter.recurrentParams(model, o)
            let rows = model.tensor(o.input(1)).dims.0
            let bias = model.int32Data(o.input(3))
            let biasRows = model.tensor(o.input(3)).dims.0  // 1: an LSTM without a recurrent bias row
            let w = RecurrentS8Weights(
                inputWeights: model.int8Data(o.input(1)), recurrentWeights: model.int8Data(o.input(2)),
                inputBias: UnsafeBufferPointer(rebasing: bias[0..<rows]),
                recurrentBias: UnsafeBufferPointer(rebasing: bias[(biasRows == 2 ? rows : 0)..<(biasRows == 2 ? 2 * rows : 0)]),
                inputRequant: requant(o, 4, 5), recurrentRequant: requant(o, 6, 7))
            if o.opcode == .gru {
                gruS8(p, input: UnsafeBufferPointer(int8Tensor(o.input(0))), weights: w, output: int8Tensor(o.output), scratch: scratch)
            } else {
                lstmS8(p, input: UnsafeBufferPointer(int8Tensor(o.input(0))), weights: w, output: int8Tensor(o.output), scratch: scratch)
            }
        }
    }
}
