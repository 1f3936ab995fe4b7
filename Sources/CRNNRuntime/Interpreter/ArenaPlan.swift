// ArenaPlan: the one memory plan of a model, computed at load: activations, operator scratch, prepared
// constants and the softmax scratch placed in one arena. Integers only.

/// The memory plan of one model: arena offsets of every activation and operator scratch buffer. Greedy
/// liveness-based placement: largest buffer first, lowest 16-aligned offset not overlapping a buffer alive
/// at the same time (TFLite Micro's greedy planner idea).
public struct ArenaPlan {
    /// Bytes of the arena (the planned extent, a multiple of 16).
    public let arenaBytes: Int
    /// Largest sum of bytes alive at one time (a lower bound for any planner; `arenaBytes` >= this).
    package let peakLiveBytes: Int
    /// What the arena would take without reuse (every activation and scratch its own buffer).
    package let unplannedBytes: Int
    let tensorOffsets: [Int]
    let scratchOffsets: [Int]
    let scratchSizes: [Int]
    /// Per operator: arena offset and bytes of its prepared constants (0 bytes: none).
    let preparedOffsets: [Int]
    let preparedSizes: [Int]
    let softmaxScratchOffset: Int
    /// The conv band chains and what the interpreter needs to run them (Interpreter/ConvBands.swift).
    let bands: ConvBandPlan

    /// Plans the arena of `model` (validated). With `keepAllActivations` every activation gets its own buffer.
    /// Otherwise conv chains run in row bands (`convBandsByDefault`) unless the build keeps speed tables and the
    /// whole-tensor plan fits in `convBandsWholeTensorBudget` bytes: then whole tensors, which skip the bands'
    /// per-row calls (the builds whose conv kernel keeps an int8 band, e.g. VNNI: 67,376 bytes).
    public init(model: ModelFile, keepAllActivations: Bool = false) {
        if !keepAllActivations && convBandsByDefault && speedTables {
            let whole = ArenaPlan(model: model, keepAllActivations: false, bandConvs: false)
            if whole.arenaBytes <= convBandsWholeTensorBudget {
                self = whole
                return
            }
        }
        self.init(model: model, keepAllActivations: keepAllActivations, bandConvs: convBandsByDefault)
    }

    /// `bandConvs`: run conv chains in row bands (Interpreter/ConvBands.swift) or every conv over whole tensors;
    /// the default is `convBandsByDefault` (bands). The tests compare both plans bit for bit.
    init(model: ModelFile, keepAllActivations: Bool, bandConvs: Bool) {
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
        // In place: an elementwise operator (`OperatorKernel.inPlace`) whose data input dies at it writes its output
        // over that input (same bytes): one buffer for both, alive from the input's definition to the output's last use.
        var storage = Array(0..<nT)  // the tensor whose buffer tensor t uses
        if !keepAllActivations {
            for i in 0..<nO {
                let o = model.op(i)
                guard o.opcode.kernel.inPlace else { continue }
                let x = o.input(0), y = o.output, xi = model.tensor(x), yi = model.tensor(y)
                if xi.isConstant || x == model.inputTensor || last[x] != i || first[y] != i || y == x
                    || xi.elementCount * xi.type.byteSize != yi.elementCount * yi.type.byteSize { continue }
                let root = storage[x]
                storage[y] = root
                last[root] = max(last[root], last[y])
            }
        }
        // Conv band chains (Interpreter/ConvBands.swift): the activations between their convs get rings of rows,
        // and every buffer a chain touches lives for the whole chain (its operators run interleaved).
        let chains = keepAllActivations || !bandConvs ? [] : findConvBandChains(model, storage: storage, last: last)
        var ringBytes = [Int](repeating: -1, count: nT)  // by storage root; -1: the whole tensor
        var chainOf = [Int](repeating: -1, count: nO)
        for (k, c) in chains.enumerated() {
            for s in 0..<(c.stages.count - 1) {
                let p = c.stages[s].params
                ringBytes[storage[model.op(c.stages[s].op).output]] = c.stages[s].outputRing * p.outputWidth * p.outputChannels
            }
            for i in c.first...c.last {
                chainOf[i] = k
                let o = model.op(i)
                for t in (0..<o.inputCount).map({ o.input($0) }) + [o.output] where !model.tensor(t).isConstant {
                    first[storage[t]] = min(first[storage[t]], c.first)
                    last[storage[t]] = max(last[storage[t]], c.last)
                }
            }
        }
        var sizes: [Int] = [], starts: [Int] = [], ends: [Int] = []
        var owner: [Int] = []  // tensor index, or -1 - op for scratch, or Int.min for softmax
        for t in 0..<nT where !model.tensor(t).isConstant && last[t] >= -1 && storage[t] == t {
            let info = model.tensor(t)
            sizes.append(ringBytes[t] >= 0 ? ringBytes[t] : info.elementCount * info.type.byteSize)
            starts.append(keepAllActivations ? -1 : first[t]); ends.append(keepAllActivations ? nO + 1 : last[t])
            owner.append(t)
        }
        var scratchSizes = [Int](repeating: 0, count: nO)
        for i in 0..<nO {
            let o = model.op(i)
            scratchSizes[i] = o.opcode.kernel.scratchSize(model, o)
            let span = chainOf[i] >= 0 ? (chains[chainOf[i]].first, chains[chainOf[i]].last) : (i, i)
            if scratchSizes[i] > 0 { sizes.append(scratchSizes[i]); starts.append(span.0); ends.append(span.1); owner.append(-1 - i) }
        }
        // Prepared constants live from load to the end of every run (owner -1 - nO - op).
        var preparedSizes = [Int](repeating: 0, count: nO)
        for i in 0..<nO {
            let o = model.op(i)
            preparedSizes[i] = o.opcode.kernel.preparedSize(model, o)
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
        for t in 0..<nT where storage[t] != t { tOff[t] = tOff[storage[t]] }
        arenaBytes = (extent + 15) / 16 * 16
        peakLiveBytes = peak
        unplannedBytes = total
        tensorOffsets = tOff; scratchOffsets = sOff; self.scratchSizes = scratchSizes; softmaxScratchOffset = smOff
        preparedOffsets = pOff; self.preparedSizes = preparedSizes
        bands = ConvBandPlan(chains: chains, bandedTensor: (0..<nT).map { ringBytes[storage[$0]] >= 0 })
    }

}
