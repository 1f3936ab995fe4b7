// Conv bands: a chain of convolutions run row band by row band, so that the activations between them never
// exist whole. Integers only; the same output bits as running the operators one after another.
//
// In the paper's model conv 1 (pool 2x2) writes 65 x 12 x 32 int8 (25 KB), a batch norm runs over it in place,
// and conv 2 (pool 3x3) reads it. Conv 2's pooled output row oy reads only the ph + kh - 1 = 5 input rows of its
// padded band (`conv2dS8FastInputRows`), and the fast driver copies them into its own band before it computes
// anything. So the planner gives the 65 x 12 x 32 tensor a ring of 5 rows (1,920 bytes), and the chain runs
// pulled from its last conv: before a row of conv k is computed, conv k - 1 (and its in-place affines) has made
// every input row that row's band reads; rows are made once each, in order, and a ring of band-height rows
// still holds every row the band needs (the band's last row is the newest one made). Each value is computed by
// the same micro-kernel over the same band as in the whole-tensor run, so the bits are identical; the tests
// compare both plans (ConvBandTests) and the regression fixtures run on the banded plan.
//
// A chain: conv2d, then any in-place affines on its output, then a conv2d that is the only reader of that
// output, and so on; every conv on the fast path with its pooled-maximum shortcut exact (the planner checks what
// the prepare step will record). The last conv writes its whole output tensor. Every buffer a chain touches
// lives for the whole chain (ArenaPlan), since its operators run interleaved. Every build plans bands by default
// (`convBandsByDefault`) unless its whole-tensor plan fits in `convBandsWholeTensorBudget`;
// `Interpreter(model:bandConvs:)` picks either plan.

/// Builds plan conv bands by default (the portable builds' tests run the Cortex-M's plan), and the
/// arena stays within the speed issue's bound (host x86-64: 70,944 bytes with the batch norms' lookup tables and
/// the SSE2 epilogue's scales; whole tensors would take 88,048). They cost 3-5 % of the network's time on x86-64
/// (tools/runtime_bench.sh: 0.396 vs 0.383 ms for the paper cnn-gru; not call overhead: 87 empty row calls take
/// 0.006 ms);
/// `Interpreter(model:bandConvs: false)` runs whole tensors.
let convBandsByDefault = true

/// Arena bytes up to which a whole-tensor plan is kept instead of bands in builds with speed tables
/// (`ArenaPlan.init(model:keepAllActivations:)`): 72 KiB, the speed issue's arena bound (within 10 % of 69 KB).
/// Bands cost 10-13 % of the network's time in the AVX-512 VNNI build (tools/runtime_bench.sh: 0.1347 vs 0.1191 ms
/// for the paper cnn-gru), whose whole tensors take 67,376 bytes; builds with an Int16 band (SSE2, NEON) need
/// 88,048 for whole tensors and keep bands; low-RAM builds (Cortex-M) always band.
let convBandsWholeTensorBudget = 72 * 1024

/// One conv of a chain, with the in-place affines that run on each of its output rows.
struct ConvBandStage {
    let op: Int
    let params: Conv2dS8Params
    let affines: [Int]
    /// Rows of its output buffer: a ring of the next conv's band height, or the whole output for the last stage.
    let outputRing: Int
}

/// Operators `first ... last`, run by `Interpreter.runBands`.
struct ConvBandChain {
    let first: Int, last: Int
    let stages: [ConvBandStage]
}

/// A plan's chains, and per tensor whether its buffer is a ring of rows rather than the whole tensor.
struct ConvBandPlan {
    let chains: [ConvBandChain]
    let bandedTensor: [Bool]

    /// The chain that starts at operator `i`, or -1 (a few chains at most: a scan, and no table in RAM).
    func chain(startingAt i: Int) -> Int {
        for k in 0..<chains.count where chains[k].first == i { return k }
        return -1
    }

    /// Whether operator `i` belongs to a chain.
    func inChain(_ i: Int) -> Bool {
        for c in chains where c.first <= i && i <= c.last { return true }
        return false
    }
}

/// The chains of `model` given the planner's in-place storage (`storage[t]`: the tensor whose buffer t uses) and
/// each buffer's last use (`last`, by storage root).
func findConvBandChains(_ model: ModelFile, storage: [Int], last: [Int]) -> [ConvBandChain] {
    var chains: [ConvBandChain] = []
    var i = 0
    while i < model.operatorCount {
        guard convBandable(model, i) else { i += 1; continue }
        var convs = [i], affines: [[Int]] = [[]]
        var y = model.op(i).output, j = i + 1
        var pending: [Int] = []
        while j < model.operatorCount {
            let o = model.op(j)
            if o.opcode == .affine && o.input(0) == y && storage[o.output] == storage[y] {
                pending.append(j); y = o.output; j += 1; continue
            }
            if o.opcode == .conv2d && o.input(0) == y && y != model.outputTensor && last[storage[y]] == j
                && convBandable(model, j) {
                affines[affines.count - 1] = pending
                pending = []
                convs.append(j); affines.append([]); y = o.output; j += 1; continue
            }
            break
        }
        if convs.count < 2 { i += 1; continue }
        var stages: [ConvBandStage] = []
        for s in 0..<convs.count {
            let p = Conv2dOp.params(model, model.op(convs[s]))
            let ring = s + 1 < convs.count
                ? min(p.outputHeight, conv2dS8FastBandRows(Conv2dOp.params(model, model.op(convs[s + 1]))))
                : p.outputHeight
            stages.append(ConvBandStage(op: convs[s], params: p, affines: affines[s], outputRing: ring))
        }
        chains.append(ConvBandChain(first: convs[0], last: convs[convs.count - 1], stages: stages))
        i = convs[convs.count - 1] + 1
    }
    return chains
}

/// Whether operator `i` is a conv2d the fast driver runs exactly (so it can run a row range on rings).
func convBandable(_ model: ModelFile, _ i: Int) -> Bool {
    let o = model.op(i)
    if o.opcode != .conv2d { return false }
    let p = Conv2dOp.params(model, o)
    return conv2dS8FastSupports(p)
        && conv2dS8FastIsExact(p, weights: model.int8Data(o.input(Conv2dOp.Input.weights)),
                               bias: model.int32Data(o.input(Conv2dOp.Input.bias)),
                               requant: channelRequant(model, o, Conv2dOp.Input.multipliers, Conv2dOp.Input.shifts))
}

/// A chain stage with its operands resolved against one interpreter's arena and model (made at the interpreter's
/// init, so a row costs the kernel call and nothing else).
struct ConvBandRunner {
    let p: Conv2dS8Params
    let input: UnsafeBufferPointer<Int8>, inputRing: Int
    let weights: UnsafeBufferPointer<Int8>, requant: ChannelRequant, prepared: UnsafeRawBufferPointer
    let output: UnsafeMutableBufferPointer<Int8>, outputRing: Int
    let scratch: UnsafeMutableRawBufferPointer
    /// The stage's in-place affines (operator indices), run on each output row.
    let affines: [Int]

    init(_ it: Interpreter, _ c: ConvBandChain, _ s: Int) {
        let st = c.stages[s], o = it.model.op(st.op)
        p = st.params
        inputRing = s > 0 ? c.stages[s - 1].outputRing : p.inputHeight
        outputRing = st.outputRing
        input = UnsafeBufferPointer(start: it.raw(o.input(Conv2dOp.Input.data)).assumingMemoryBound(to: Int8.self),
                                    count: inputRing * p.inputWidth * p.inputChannels)
        output = UnsafeMutableBufferPointer(start: it.raw(o.output).assumingMemoryBound(to: Int8.self),
                                            count: outputRing * p.outputWidth * p.outputChannels)
        weights = it.model.int8Data(o.input(Conv2dOp.Input.weights))
        requant = channelRequant(it.model, o, Conv2dOp.Input.multipliers, Conv2dOp.Input.shifts)
        prepared = UnsafeRawBufferPointer(it.prepared(st.op))
        scratch = it.scratch(st.op)
        affines = st.affines
    }
}

extension Interpreter {
    /// Runs chain `k`: every row of its last conv, each after the rows it reads of the convs before it. One loop,
    /// no recursion (the Cortex-M stack): each step makes the next row of the last stage whose next row has its
    /// inputs; a stage below it runs only when the stage above needs its next row.
    func runBands(_ k: Int) {
        bandRunners[k].withUnsafeBufferPointer { runners in
            let n = runners.count
            for s in 0..<n { bandProduced[s] = 0 }
            let rows = runners[n - 1].p.outputHeight
            while bandProduced[n - 1] < rows {
                var s = n - 1
                while s > 0 && bandProduced[s - 1]
                        < conv2dS8FastInputRows(runners[s].p, outputRow: bandProduced[s]).upperBound {
                    s -= 1
                }
                produceBandRow(runners.baseAddress! + s, row: bandProduced[s])
                bandProduced[s] += 1
            }
        }
    }

    /// Output row `oy` of one stage: the conv's row, then its affines on that row in place.
    private func produceBandRow(_ r: UnsafePointer<ConvBandRunner>, row oy: Int) {
        conv2dS8FastRunRows(r.pointee.p, rows: oy..<(oy + 1), input: r.pointee.input, inputRing: r.pointee.inputRing,
                            weights: r.pointee.weights, requant: r.pointee.requant, prepared: r.pointee.prepared,
                            output: r.pointee.output, outputRing: r.pointee.outputRing, scratch: r.pointee.scratch)
        let affines = r.pointee.affines
        if affines.isEmpty { return }
        let width = r.pointee.p.outputWidth
        let row = r.pointee.output.baseAddress! + (oy % r.pointee.outputRing) * width * r.pointee.p.outputChannels
        for a in affines { AffineOp.evalPositions(self, a, data: row, positions: width) }
    }
}
