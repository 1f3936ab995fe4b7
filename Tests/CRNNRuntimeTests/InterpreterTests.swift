import XCTest
@testable import CRNNRuntime

final class InterpreterTests: XCTestCase {
    func makeInterpreter(_ b: ModelBuilder, keepAll: Bool = false) throws -> (AlignedBytes, Interpreter) {
        let bytes = AlignedBytes(b.encode())
        let model = try ModelFile(bytes: bytes.raw)
        return (bytes, try Interpreter(model: model, keepAllActivations: keepAll))
    }

    func run(_ it: Interpreter, _ input: [Int32]) throws -> [Int8] {
        try input.withUnsafeBufferPointer { try it.run(features: $0) }
        return Array(it.output)
    }

    func testTinyModelsRunAndPlanSharesMemory() throws {
        for kind in [TinyKind.gru, .lstm, .cnn] {
            let (storage, it) = try makeInterpreter(buildTinyModel(kind))
            _ = storage
            XCTAssertEqual(it.output.count, 3)
            XCTAssertLessThanOrEqual(it.peakLiveBytes, it.arenaBytes)
            XCTAssertLessThan(it.arenaBytes, it.unplannedBytes)
            let a = try run(it, tinyInput(seed: 7)), again = try run(it, tinyInput(seed: 7))
            XCTAssertEqual(a, again, "same input, same output: no state leaks between runs")
        }
    }

    /// The planned arena gives the same bytes as giving every tensor its own buffer (no aliasing bug), and
    /// every layer's output is readable in the debug mode.
    func testPlannedArenaMatchesUnsharedArena() throws {
        for kind in [TinyKind.gru, .lstm, .cnn] {
            let (s1, planned) = try makeInterpreter(buildTinyModel(kind))
            let (s2, debug) = try makeInterpreter(buildTinyModel(kind), keepAll: true)
            _ = (s1, s2)
            var activationBytes = 0
            for t in 0..<debug.model.tensorCount where !debug.model.tensor(t).isConstant {
                activationBytes += debug.model.tensor(t).elementCount * debug.model.tensor(t).type.byteSize
            }
            XCTAssertGreaterThanOrEqual(debug.arenaBytes, activationBytes, "debug mode: every activation its own buffer")
            for seed in UInt32(1)...5 {
                XCTAssertEqual(try run(planned, tinyInput(seed: seed)), try run(debug, tinyInput(seed: seed)))
            }
            // Per-layer outputs: the conv after input quantize has a ReLU at its zero point, so no value below it.
            let conv1 = debug.model.op(1)
            XCTAssertEqual(conv1.opcode, .conv2d)
            let zo = debug.model.tensor(conv1.output).zeroPoint
            XCTAssertTrue(debug.int8Tensor(conv1.output).allSatisfy { Int32($0) >= zo })
        }
    }

    /// Affine (batch norm) and reshape run in place: their output shares the dying input's buffer, which saves one
    /// 65 x 12 x 32 activation in the paper model; the results equal the debug mode's (every tensor its own buffer).
    func testElementwiseOperatorsRunInPlace() throws {
        for kind in [TinyKind.gru, .lstm] {
            let bytes = AlignedBytes(buildPaperModel(recurrent: kind).encode())
            let model = try ModelFile(bytes: bytes.raw)
            let plan = ArenaPlan(model: model)
            var inPlace = 0
            for i in 0..<model.operatorCount where model.op(i).opcode == .affine || model.op(i).opcode == .reshape {
                XCTAssertEqual(plan.tensorOffsets[model.op(i).output], plan.tensorOffsets[model.op(i).input(0)], "op \(i)")
                inPlace += 1
            }
            XCTAssertEqual(inPlace, 3, "two batch norms and the reshape")
            let debugPlan = ArenaPlan(model: model, keepAllActivations: true)
            for i in 0..<model.operatorCount where model.op(i).opcode == .affine {
                XCTAssertNotEqual(debugPlan.tensorOffsets[model.op(i).output], debugPlan.tensorOffsets[model.op(i).input(0)])
            }
            let (s1, planned) = try makeInterpreter(buildPaperModel(recurrent: kind))
            let (s2, debug) = try makeInterpreter(buildPaperModel(recurrent: kind), keepAll: true)
            _ = (s1, s2)
            for seed in UInt32(1)...3 {
                XCTAssertEqual(try run(planned, tinyInput(frames: 130, coeffs: 23, seed: seed)),
                               try run(debug, tinyInput(frames: 130, coeffs: 23, seed: seed)))
            }
        }
    }

    func testQuantizedInputPathEqualsFeaturePath() throws {
        let (s1, it) = try makeInterpreter(buildTinyModel(.gru), keepAll: true)
        _ = s1
        let viaFeatures = try run(it, tinyInput(seed: 3))
        let q = Array(it.int8Tensor(it.quantizedInputTensor))
        try q.withUnsafeBufferPointer { try it.run(quantizedInput: $0) }
        XCTAssertEqual(Array(it.output), viaFeatures)
        XCTAssertThrowsError(try [Int8](repeating: 0, count: 5).withUnsafeBufferPointer { try it.run(quantizedInput: $0) })
    }

    func testProbabilitiesAndTop1() throws {
        let (s1, it) = try makeInterpreter(buildTinyModel(.lstm))
        _ = s1
        _ = try run(it, tinyInput(seed: 9))
        var p = [Int16](repeating: 0, count: 3)
        p.withUnsafeMutableBufferPointer { it.probabilitiesQ15(into: $0) }
        let sum = p.reduce(0) { $0 + Int($1) }
        XCTAssertLessThanOrEqual(abs(sum - 32768), 3)
        XCTAssertEqual(it.top1, p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) })
    }

    /// The paper's shapes: 130 x 23 -> 65 x 12 -> 22 x 4 -> 6 x 1, GRU 20 + 20 (and LSTM 30 + 30), 10 classes.
    func testPaperShapedModels() throws {
        for (kind, units) in [(TinyKind.gru, 20), (.lstm, 30), (.cnn, 0)] {
            let b = buildTinyModel(kind, frames: 130, coeffs: 23, filters: 32, units: max(units, 1), classes: 10,
                                   pools: ((2, 2), (3, 3)), seed: 5)
            // buildTinyModel has two conv blocks; add the shape check on its real 3-block sibling below.
            let (s, it) = try makeInterpreter(b)
            _ = s
            _ = try run(it, tinyInput(frames: 130, coeffs: 23, seed: 1))
            XCTAssertEqual(it.output.count, 10)
        }
        let (s, it) = try makeInterpreter(buildPaperModel(recurrent: .gru))
        _ = s
        let shapes = (0..<it.model.operatorCount).map { i -> [Int] in
            let t = it.model.tensor(it.model.op(i).output)
            return (0..<t.rank).map { t.dim($0) }
        }
        XCTAssertEqual(shapes, [[130, 23, 1], [65, 12, 32], [65, 12, 32], [22, 4, 32], [22, 4, 32], [6, 1, 32],
                                [6, 32], [6, 20], [1, 20], [10]])
        _ = try run(it, tinyInput(frames: 130, coeffs: 23, seed: 2))
        print("paper cnn-gru: arena \(it.arenaBytes) B, peak live \(it.peakLiveBytes) B, without reuse \(it.unplannedBytes) B, model \(it.model.bytes.count) B")
        let (s2, it2) = try makeInterpreter(buildPaperModel(recurrent: .lstm))
        _ = s2
        _ = try run(it2, tinyInput(frames: 130, coeffs: 23, seed: 2))
        print("paper cnn-lstm: arena \(it2.arenaBytes) B, peak live \(it2.peakLiveBytes) B, model \(it2.model.bytes.count) B")
    }

    func testCallerOwnedArena() throws {
        let bytes = AlignedBytes(buildTinyModel(.lstm).encode())
        let model = try ModelFile(bytes: bytes.raw)
        let plan = ArenaPlan(model: model)
        let arena = UnsafeMutableRawBufferPointer.allocate(byteCount: plan.arenaBytes, alignment: 16)
        defer { arena.deallocate() }
        let mine = try Interpreter(model: model, arena: arena)
        let owned = try Interpreter(model: model)
        XCTAssertEqual(mine.arenaBytes, owned.arenaBytes)
        XCTAssertEqual(try run(mine, tinyInput(seed: 4)), try run(owned, tinyInput(seed: 4)))
        // The outputs live in the caller's memory.
        let out = mine.output.baseAddress!
        XCTAssertTrue(UnsafeRawPointer(out) >= UnsafeRawPointer(arena.baseAddress!)
                      && UnsafeRawPointer(out) < UnsafeRawPointer(arena.baseAddress! + plan.arenaBytes))
        let small = UnsafeMutableRawBufferPointer(rebasing: arena[0..<(plan.arenaBytes - 16)])
        XCTAssertThrowsError(try Interpreter(model: model, arena: small)) { e in
            guard case ModelError.wrongInput = e else { return XCTFail("\(e)") }
        }
        let misaligned = UnsafeMutableRawBufferPointer(rebasing: arena[1...])
        XCTAssertThrowsError(try Interpreter(model: model, arena: misaligned))
    }
}

/// The paper's cnn-gru / cnn-lstm (Tests/TestSupport/PaperTestModel.swift) with the GTZAN labels, as the regression
/// fixture's file CRC has them.
func buildPaperModel(recurrent: TinyKind) -> ModelBuilder {
    var b = buildPaperModel(lstm: recurrent == .lstm)
    b.labels = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"].map { Array($0.utf8) }
    return b
}
