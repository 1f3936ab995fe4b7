import XCTest
@testable import CRNNRuntime

/// Conv band chains (Interpreter/ConvBands.swift): the banded plan gives the same bits as running every conv over
/// whole tensors, and the activations between chained convs take rings of rows.
final class ConvBandTests: XCTestCase {
    func interpreters(_ b: ModelBuilder) throws -> (AlignedBytes, banded: Interpreter, whole: Interpreter, all: Interpreter) {
        let bytes = AlignedBytes(b.encode())
        let model = try ModelFile(bytes: bytes.raw)
        return (bytes, try Interpreter(model: model, bandConvs: true), try Interpreter(model: model, bandConvs: false),
                try Interpreter(model: model, keepAllActivations: true))
    }

    func outputs(_ it: Interpreter, _ input: [Int32]) throws -> [Int8] {
        try input.withUnsafeBufferPointer { try it.run(features: $0) }
        return Array(it.output)
    }

    /// The paper's cnn-gru: one chain over conv 1, its batch norm, conv 2, its batch norm and conv 3; the two
    /// activations between the convs become rings of the next conv's band height (5 and 6 rows).
    func testPaperModelPlanBandsItsThreeConvs() throws {
        let (s, banded, whole, _) = try interpreters(buildPaperModel(recurrent: .gru))
        _ = s
        let plan = banded.plan, model = banded.model
        XCTAssertEqual(plan.bands.chains.count, 1)
        let c = try XCTUnwrap(plan.bands.chains.first)
        XCTAssertEqual(c.first, 1)
        XCTAssertEqual(c.last, 5)
        XCTAssertEqual(c.stages.map(\.op), [1, 3, 5])
        XCTAssertEqual(c.stages.map(\.affines), [[2], [4], []])
        XCTAssertEqual(c.stages.map(\.outputRing), [5, 6, 6])
        XCTAssertEqual((0..<model.tensorCount).filter { plan.bands.bandedTensor[$0] }, [9, 14, 19, 24])
        XCTAssertTrue(whole.plan.bands.chains.isEmpty)
        // The 25 KB activation becomes a 1.9 KB ring; buffers a chain touches live for the whole chain, so the arena
        // shrinks by less than the difference (with any micro-kernel: prepared weights are the same in both plans).
        XCTAssertLessThan(banded.arenaBytes + 12_000, whole.arenaBytes)
        print("paper cnn-gru arena: banded \(banded.arenaBytes) B, whole tensors \(whole.arenaBytes) B")
    }

    /// The default plan: whole tensors where they fit in `convBandsWholeTensorBudget` in a build with speed tables
    /// (the int8-band conv kernels: VNNI), bands otherwise (Int16-band kernels: SSE2, NEON; low-RAM builds).
    func testDefaultPlanKeepsWholeTensorsOnlyWithinTheBudget() throws {
        let (s, banded, whole, _) = try interpreters(buildPaperModel(recurrent: .gru))
        _ = s
        let d = try Interpreter(model: banded.model)
        let expectWhole = speedTables && whole.arenaBytes <= convBandsWholeTensorBudget
        XCTAssertEqual(d.plan.bands.chains.isEmpty, expectWhole)
        XCTAssertEqual(d.arenaBytes, expectWhole ? whole.arenaBytes : banded.arenaBytes)
        XCTAssertLessThanOrEqual(d.arenaBytes, max(convBandsWholeTensorBudget, banded.arenaBytes))
        print("paper cnn-gru default plan (\(conv2dSelectedMicroKernelName)): \(expectWhole ? "whole tensors" : "bands"), arena \(d.arenaBytes) B")
    }

    /// Same logits with bands, without them and with every activation kept; the chain's last output (whole in
    /// both plans) is equal byte for byte. Paper-shaped models and smaller ones with odd heights, other pools and
    /// heights below a band's, all with channel counts the fast driver takes.
    func testBandedPlanEqualsWholeTensorRuns() throws {
        var cases: [(String, ModelBuilder, Int, Int)] = [
            ("paper gru", buildPaperModel(recurrent: .gru), 130, 23), ("paper lstm", buildPaperModel(recurrent: .lstm), 130, 23)]
        for (frames, coeffs, pools) in [(37, 9, ((2, 2), (3, 3))), (13, 7, ((3, 2), (2, 3))), (4, 5, ((1, 1), (2, 2))),
                                        (2, 3, ((2, 1), (1, 1))), (29, 6, ((4, 3), (2, 2)))] {
            for kind in [TinyKind.gru, .cnn] {
                cases.append(("tiny \(kind) \(frames)x\(coeffs) pools \(pools)",
                              buildTinyModel(kind, frames: frames, coeffs: coeffs, filters: 16, units: 5, classes: 3,
                                             pools: pools, seed: UInt32(frames)), frames, coeffs))
            }
        }
        var chained = 0
        for (name, b, frames, coeffs) in cases {
            let (s, banded, whole, all) = try interpreters(b)
            _ = s
            if let c = banded.plan.bands.chains.first { chained += 1; XCTAssertGreaterThanOrEqual(c.stages.count, 2, name) }
            for seed in UInt32(1)...4 {
                let input = tinyInput(frames: frames, coeffs: coeffs, seed: seed &* 7919)
                let a = try outputs(banded, input), w = try outputs(whole, input), k = try outputs(all, input)
                XCTAssertEqual(a, w, "\(name) seed \(seed)")
                XCTAssertEqual(a, k, "\(name) seed \(seed)")
                if let c = banded.plan.bands.chains.first {
                    // The chain's output before later operators may reuse its bytes: op 0, then the chain alone.
                    input.withUnsafeBufferPointer { src in
                        let dst = banded.featureInput!
                        for j in 0..<dst.count { dst[j] = src[j] }
                    }
                    banded.runOperator(0)
                    banded.runBands(0)
                    let t = banded.model.op(c.last).output
                    XCTAssertEqual(Array(banded.int8Tensor(t)), Array(all.int8Tensor(t)), "\(name) seed \(seed)")
                }
            }
        }
        XCTAssertEqual(chained, cases.count, "every case has a chain")
    }

    /// Row ranges on rings, kernel level: running the pooled rows one at a time through rings of band height gives
    /// the whole-tensor run's output rows.
    func testRowRangesOnRingsEqualTheWholeRun() {
        var g = SplitMix64(seed: 42)
        for (H, W, C, K, ph, pw) in [(11, 5, 3, 16, 2, 2), (9, 4, 16, 32, 3, 1), (3, 3, 1, 16, 4, 2), (17, 6, 8, 16, 1, 1)] {
            let p = Conv2dS8Params(inputHeight: H, inputWidth: W, inputChannels: C, outputChannels: K,
                                   inputZeroPoint: -7, outputZeroPoint: 3, poolHeight: ph, poolWidth: pw)
            let x = (0..<(H * W * C)).map { _ in Int8(truncatingIfNeeded: g.next()) }
            let w = (0..<(K * 9 * C)).map { _ in Int8(truncatingIfNeeded: g.next()) }
            let bias = (0..<K).map { _ in Int32(truncatingIfNeeded: g.next() >> 50) }
            let m = [Int32](repeating: 1 << 30, count: K), sh = [Int32](repeating: -8, count: K)
            m.withUnsafeBufferPointer { mp in sh.withUnsafeBufferPointer { sp in
                let rq = ChannelRequant(multipliers: mp, shifts: sp)
                let prepared = UnsafeMutableRawBufferPointer.allocate(byteCount: conv2dS8FastPreparedSize(p), alignment: 16)
                let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: conv2dS8FastRunScratchSize(p), alignment: 16)
                defer { prepared.deallocate(); scratch.deallocate() }
                var whole = [Int8](repeating: 0, count: p.outputCount)
                let ring = min(H, conv2dS8FastBandRows(p)), rowBytes = W * C, outRow = p.outputWidth * K
                var inRing = [Int8](repeating: 0, count: ring * rowBytes)
                let outRows = min(2, p.outputHeight)
                var outRing = [Int8](repeating: 0, count: outRows * outRow)
                x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
                    conv2dS8FastPrepare(p, weights: wp, bias: bp, requant: rq, prepared: prepared)
                    XCTAssertTrue(conv2dS8FastIsExact(p, weights: wp, bias: bp, requant: rq))
                    whole.withUnsafeMutableBufferPointer {
                        conv2dS8FastRun(p, input: xp, weights: wp, bias: bp, requant: rq,
                                        prepared: UnsafeRawBufferPointer(prepared), output: $0, scratch: scratch)
                    }
                    var made = 0  // input rows copied into the ring so far
                    for oy in 0..<p.outputHeight {
                        let need = conv2dS8FastInputRows(p, outputRow: oy)
                        while made < need.upperBound {
                            for j in 0..<rowBytes { inRing[(made % ring) * rowBytes + j] = xp[made * rowBytes + j] }
                            made += 1
                        }
                        inRing.withUnsafeBufferPointer { ip in outRing.withUnsafeMutableBufferPointer { op in
                            conv2dS8FastRunRows(p, rows: oy..<(oy + 1), input: ip, inputRing: ring, weights: wp,
                                                requant: rq, prepared: UnsafeRawBufferPointer(prepared), output: op,
                                                outputRing: outRows, scratch: scratch)
                        } }
                        let got = Array(outRing[((oy % outRows) * outRow)..<((oy % outRows + 1) * outRow)])
                        XCTAssertEqual(got, Array(whole[(oy * outRow)..<((oy + 1) * outRow)]), "\(H)x\(W)x\(C) pool \(ph)x\(pw) row \(oy)")
                    }
                } } }
            } }
        }
    }
}
