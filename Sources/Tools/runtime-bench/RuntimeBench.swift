// Benchmark of the reference vs the fast int8 kernels on the paper-shaped cnn-gru / cnn-lstm (LCG weights:
// Tests/TestSupport/PaperTestModel.swift). Validates against the committed regression logits before timing.
// Run it with tools/runtime_bench.sh (release, CRNNRuntime built with -enable-testing: it drives single operators
// through the interpreter's internal API).
import Foundation
import TestSupport
#if DEBUG || RUNTIME_BENCH
@testable import CRNNRuntime

/// Runs the graph like `invoke()`, but every conv2d and affine through the reference kernel (the "before" figure).
func invokeReference(_ it: Interpreter) {
    for i in 0..<it.model.operatorCount {
        let o = it.model.op(i)
        if o.opcode == .conv2d { runConv(it, i, fast: false) } else if o.opcode == .affine { runAffine(it, i, fast: false) } else { it.runOperator(i) }
    }
}

func runConv(_ it: Interpreter, _ i: Int, fast: Bool) {
    let o = it.model.op(i)
    let p = Interpreter.convParams(it.model, o)
    let scratch = it.scratch(i)
    let input = UnsafeBufferPointer(it.int8Tensor(o.input(0)))
    let rq = it.requant(o, 3, 4)
    if fast {
        conv2dS8FastRun(p, input: input, weights: it.model.int8Data(o.input(1)), bias: it.model.int32Data(o.input(2)),
                        requant: rq, prepared: UnsafeRawBufferPointer(it.prepared(i)), output: it.int8Tensor(o.output),
                        scratch: scratch)
    } else {
        conv2dS8(p, input: input, weights: it.model.int8Data(o.input(1)), bias: it.model.int32Data(o.input(2)),
                 requant: rq, output: it.int8Tensor(o.output), scratch: scratch)
    }
}

func runAffine(_ it: Interpreter, _ i: Int, fast: Bool) {
    if fast { return AffineOp.eval(it, i) }  // the interpreter's path: the lookup table built at prepare
    let o = it.model.op(i)
    let x = it.model.tensor(o.input(0)), y = it.model.tensor(o.output)
    let c = x.dim(x.rank - 1)
    let p = AffineS8Params(positions: x.elementCount / c, channels: c, inputZeroPoint: x.zeroPoint,
                           outputZeroPoint: y.zeroPoint, activationMin: o.param(0), activationMax: o.param(1))
    affineS8(p, input: UnsafeBufferPointer(it.int8Tensor(o.input(0))), weights: it.model.int16Data(o.input(1)),
             bias: it.model.int32Data(o.input(2)), requant: it.requant(o, 3, 4), output: it.int8Tensor(o.output),
             scratch: UnsafeMutableRawBufferPointer(start: nil, count: 0))
}

/// Median over `reps` repetitions of the mean time of `runs` calls, in ms.
func medianMs(reps: Int = 9, runs: Int, _ body: () -> Void) -> Double {
    let clock = ContinuousClock()
    var times: [Double] = []
    for _ in 0..<reps {
        let t = clock.measure { for _ in 0..<runs { body() } }
        times.append((Double(t.components.seconds) * 1e3 + Double(t.components.attoseconds) / 1e15) / Double(runs))
    }
    times.sort()
    return times[reps / 2]
}

func fmt(_ ms: Double) -> String { String(format: "%.4f", ms) }

@main struct Bench {
    static func main() throws {
        let input = paperModelInput(), expected = paperModelExpectedLogits
        for (k, lstm) in [false, true].enumerated() {
            let name = lstm ? "cnn-lstm" : "cnn-gru"
            let bytes = buildPaperModel(lstm: lstm).encode()
            let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
            bytes.withUnsafeBytes { buf.copyMemory(from: $0) }
            let it = try Interpreter(model: try ModelFile(bytes: UnsafeRawBufferPointer(buf)), keepAllActivations: true)
            // Validate before timing: the reference path and the dispatching path both give the regression logits,
            // and every conv output is identical between them.
            try input.withUnsafeBufferPointer { try it.run(features: $0) }
            guard Array(it.output) == expected[k] else { print("MISMATCH (dispatch) \(Array(it.output))"); exit(1) }
            let convOps = (0..<it.model.operatorCount).filter { it.model.op($0).opcode == .conv2d || it.model.op($0).opcode == .affine }
            let fastOutputs = convOps.map { Array(it.int8Tensor(it.model.op($0).output)) }
            invokeReference(it)
            guard Array(it.output) == expected[k] else { print("MISMATCH (reference) \(Array(it.output))"); exit(1) }
            for (j, i) in convOps.enumerated() where Array(it.int8Tensor(it.model.op(i).output)) != fastOutputs[j] {
                print("MISMATCH op \(i)"); exit(1)
            }
            let before = medianMs(runs: 50) { invokeReference(it) }
            let after = medianMs(runs: 50) { it.invoke() }
            let planned = ArenaPlan(model: it.model).arenaBytes
            print("\(name): network \(fmt(before)) ms (reference kernels) -> \(fmt(after)) ms (fast conv + affine), x\(String(format: "%.1f", before / after)); arena \(planned) B (planned; \(it.arenaBytes) B keeping all activations), model \(bytes.count) B")
            // Conv bands (Interpreter/ConvBands.swift) against whole tensors, same model, interleaved repetitions.
            let banded = try Interpreter(model: it.model, bandConvs: true), whole = try Interpreter(model: it.model, bandConvs: false)
            try input.withUnsafeBufferPointer { try banded.run(features: $0); try whole.run(features: $0) }
            guard Array(banded.output) == expected[k], Array(whole.output) == expected[k] else { print("MISMATCH (bands)"); exit(1) }
            var tb: [Double] = [], tw: [Double] = []
            for _ in 0..<5 {
                tb.append(medianMs(runs: 50) { banded.invoke() })
                tw.append(medianMs(runs: 50) { whole.invoke() })
            }
            tb.sort(); tw.sort()
            print("  conv bands: network \(fmt(tw[2])) ms on whole tensors (arena \(whole.arenaBytes) B), \(fmt(tb[2])) ms banded (arena \(banded.arenaBytes) B)")
            for i in 0..<it.model.operatorCount {
                let o = it.model.op(i)
                if o.opcode == .conv2d {
                    let p = Interpreter.convParams(it.model, o)
                    let r = medianMs(runs: 50) { runConv(it, i, fast: false) }
                    let f = conv2dS8FastSupports(p) ? medianMs(runs: 50) { runConv(it, i, fast: true) } : r
                    print("  op \(i) conv2d \(p.inputHeight)x\(p.inputWidth)x\(p.inputChannels)->\(p.outputChannels) pool \(p.poolHeight): \(fmt(r)) -> \(fmt(f)) ms")
                } else if o.opcode == .affine {
                    let r = medianMs(runs: 50) { runAffine(it, i, fast: false) }
                    let f = medianMs(runs: 50) { runAffine(it, i, fast: true) }
                    print("  op \(i) affine: \(fmt(r)) -> \(fmt(f)) ms")
                } else {
                    print("  op \(i) \(o.opcode): \(fmt(medianMs(runs: 50) { it.runOperator(i) })) ms")
                }
            }
        }
    }
}
#else
// A plain release build (`swift build -c release`) cannot see the interpreter's internals: say how to run it.
@main struct Bench {
    static func main() {
        print("runtime-bench: run it with tools/runtime_bench.sh (it needs CRNNRuntime built with -enable-testing)")
        exit(1)
    }
}
#endif
