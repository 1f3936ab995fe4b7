// Interpreter: runs a validated model with one arena planned at load time. Integers only.
//
// Memory: `init` validates nothing new (ModelFile did) but plans every activation tensor, every operator's
// scratch and every operator's prepared constants (the fast conv's packed weights, alive for the whole run)
// into ONE arena (`ArenaPlan`), allocates that arena once or uses a caller-owned one, and runs the prepare
// steps. `invoke` and the `run` helpers allocate nothing: they read the model in place and write only into
// the arena.

public final class Interpreter {
    package let model: ModelFile
    /// The arena plan this interpreter runs with (offsets of every activation, scratch and prepared buffer).
    let plan: ArenaPlan
    /// Bytes of the one arena (the planned extent, 16-byte aligned).
    public var arenaBytes: Int { plan.arenaBytes }
    /// Largest sum of bytes alive at one time (a lower bound for any planner; `arenaBytes` >= this).
    package var peakLiveBytes: Int { plan.peakLiveBytes }
    /// What the arena would take without reuse (every activation and scratch its own buffer).
    package var unplannedBytes: Int { plan.unplannedBytes }
    let arena: UnsafeMutableRawBufferPointer
    let keepsAllActivations: Bool
    let ownsArena: Bool
    /// Per stage of the conv band chain being run: output rows made so far (Interpreter/ConvBands.swift).
    var bandProduced: [Int]
    /// Per chain of the plan, its stages resolved against this arena (set once at init).
    var bandRunners: [[ConvBandRunner]] = []

    /// Plans the arena and allocates it (one allocation, at load). With `keepAllActivations` every
    /// activation gets its own buffer, so every layer's output can be read after `invoke` (the host
    /// quantizer's per-layer SQNR uses this).
    public convenience init(model: ModelFile, keepAllActivations: Bool = false) throws(ModelError) {
        let plan = ArenaPlan(model: model, keepAllActivations: keepAllActivations)
        let arena = UnsafeMutableRawBufferPointer.allocate(byteCount: max(plan.arenaBytes, 16), alignment: 16)
        try self.init(model: model, plan: plan, arena: arena, keepAllActivations: keepAllActivations, owned: true)
    }

    /// With `bandConvs` true, conv chains run in row bands (Interpreter/ConvBands.swift: less arena, same bits);
    /// false: every conv over whole tensors. `init(model:)` takes the default (`ArenaPlan(model:)`: bands, or whole
    /// tensors where they fit in `convBandsWholeTensorBudget`).
    package convenience init(model: ModelFile, bandConvs: Bool) throws(ModelError) {
        let plan = ArenaPlan(model: model, keepAllActivations: false, bandConvs: bandConvs)
        let arena = UnsafeMutableRawBufferPointer.allocate(byteCount: max(plan.arenaBytes, 16), alignment: 16)
        try self.init(model: model, plan: plan, arena: arena, keepAllActivations: false, owned: true)
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
        self.plan = plan
        keepsAllActivations = keepAllActivations
        ownsArena = owned
        self.arena = arena
        bandProduced = [Int](repeating: 0, count: plan.bands.chains.reduce(0) { max($0, $1.stages.count) })
        arena.initializeMemory(as: UInt8.self, repeating: 0)
        bandRunners = plan.bands.chains.map { c in (0..<c.stages.count).map { ConvBandRunner(self, c, $0) } }
        prepareOperators()
    }

    /// Prepare steps, once at load (e.g. the fast conv's packed weights and adjusted biases).
    func prepareOperators() {
        for i in 0..<model.operatorCount where plan.preparedSizes[i] > 0 {
            let o = model.op(i)
            o.opcode.kernel.prepare(model, o, prepared(i))
        }
    }

    deinit { if ownsArena { arena.deallocate() } }

    // MARK: Arena views

    /// The largest 16-byte-aligned run of arena bytes that holds nothing from one run to the next: no prepared
    /// constants, not the output tensor (read after a run); empty with `keepAllActivations`. Work memory that is
    /// used only between runs and holds nothing across calls (a stream's frame work, `StreamingMFCC`) may live
    /// there instead of in memory of its own, as long as the network runs synchronously between pushes.
    package var idleArena: UnsafeMutableRawBufferPointer {
        let base = arena.baseAddress!
        if keepsAllActivations { return UnsafeMutableRawBufferPointer(start: base, count: 0) }
        var busy: [(start: Int, end: Int)] = []
        for i in 0..<model.operatorCount where plan.preparedSizes[i] > 0 {
            busy.append((plan.preparedOffsets[i], plan.preparedOffsets[i] + plan.preparedSizes[i]))
        }
        let out = model.tensor(model.outputTensor)
        busy.append((plan.tensorOffsets[model.outputTensor], plan.tensorOffsets[model.outputTensor] + out.elementCount * out.type.byteSize))
        busy.sort { $0.start < $1.start }
        var best = (start: 0, count: 0), cursor = 0
        for b in busy + [(plan.arenaBytes, plan.arenaBytes)] {
            let from = (cursor + 15) / 16 * 16
            if b.start - from > best.count { best = (from, b.start - from) }
            cursor = max(cursor, b.end)
        }
        return UnsafeMutableRawBufferPointer(start: base + best.start, count: best.count)
    }

    /// Operator `i`'s prepared constants (empty when it has none).
    func prepared(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: arena.baseAddress! + plan.preparedOffsets[i], count: plan.preparedSizes[i])
    }

    /// Operator `i`'s scratch memory.
    func scratch(_ i: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: arena.baseAddress! + plan.scratchOffsets[i], count: plan.scratchSizes[i])
    }

    func raw(_ t: Int) -> UnsafeMutableRawPointer {
        precondition(plan.tensorOffsets[t] >= 0, "tensor has no arena buffer")
        return arena.baseAddress! + plan.tensorOffsets[t]
    }

    /// The int8 activation `t` (a layer output). Without `keepAllActivations` it holds valid data only while
    /// the planner has not reused its bytes (always true for the graph output after `invoke`).
    package func int8Tensor(_ t: Int) -> UnsafeMutableBufferPointer<Int8> {
        let info = model.tensor(t)
        precondition(!info.isConstant && info.type == .int8 && !plan.bands.bandedTensor[t], "not a whole int8 activation")
        return UnsafeMutableBufferPointer(start: raw(t).assumingMemoryBound(to: Int8.self), count: info.elementCount)
    }

    /// The int32 graph input (Q23.8 MFCC [frames, coefficients]) to fill before `invoke`, or nil when the model
    /// starts from int8.
    package var featureInput: UnsafeMutableBufferPointer<Int32>? {
        let info = model.tensor(model.inputTensor)
        if info.type != .int32 { return nil }
        return UnsafeMutableBufferPointer(start: raw(model.inputTensor).assumingMemoryBound(to: Int32.self), count: info.elementCount)
    }

    /// The int8 tensor the network proper starts from: the graph input when it is int8, else the output of
    /// the leading input-quantize operator.
    package var quantizedInputTensor: Int {
        if model.tensor(model.inputTensor).type == .int8 { return model.inputTensor }
        return model.op(0).output
    }

    /// The int8 logits (valid after `invoke`).
    public var output: UnsafeBufferPointer<Int8> { UnsafeBufferPointer(int8Tensor(model.outputTensor)) }

    // MARK: Running

    /// Runs operators `from ..< operatorCount` on what is in the arena (a conv band chain as one step). No
    /// allocation. `start` must not fall inside a chain.
    package func invoke(from start: Int = 0) {
        precondition(!plan.bands.inChain(start) || plan.bands.chain(startingAt: start) >= 0,
                     "cannot start inside a conv band chain")
        var i = start
        while i < model.operatorCount {
            let c = plan.bands.chain(startingAt: i)
            if c >= 0 {
                runBands(c)
                i = plan.bands.chains[c].last + 1
            } else {
                runOperator(i)
                i += 1
            }
        }
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
                   scratch: UnsafeMutableRawBufferPointer(start: arena.baseAddress! + plan.softmaxScratchOffset,
                                                          count: softmaxQ15ScratchSize(classes: n)))
    }

    /// Operator `o`'s per-channel requantization in input slots `mk`, `sk` (tests and benchmarks).
    func requant(_ o: OperatorInfo, _ mk: Int, _ sk: Int) -> ChannelRequant { channelRequant(model, o, mk, sk) }

    /// The conv2d kernel parameters of operator `o` (tests and benchmarks).
    static func convParams(_ model: ModelFile, _ o: OperatorInfo) -> Conv2dS8Params { Conv2dOp.params(model, o) }

    func runOperator(_ i: Int) {
        precondition(!plan.bands.inChain(i), "a conv band chain runs as one step (invoke)")
        model.op(i).opcode.kernel.eval(self, i)
    }
}
