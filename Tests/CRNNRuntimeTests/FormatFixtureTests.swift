import Foundation
import XCTest
@testable import CRNNRuntime

/// Model files written by an earlier version of the runtime keep loading and give the same outputs
/// (DESIGN.md, "Interfaces others rely on": older format versions keep loading, a committed fixture proves it).
///
/// FIXTURE PROVENANCE: Fixtures/tiny-lstm-format-1.1.crnn is `buildTinyModel(.lstm).encode()` (format 1.1: the
/// LSTM bias has its input row only) written by THIS implementation (branch `layout-runtime`, x86_64 Linux
/// debug build, Swift 6.3.1) with `CRNN_MAKE_FORMAT_FIXTURE=1 swift test --filter FormatFixtureTests`, which also
/// printed the expectations below (file CRC32 0xb393e18a, the `fileCRC` of "tiny-lstm" in RegressionTests;
/// outputs equal to its cases). They pin behaviour; they are not an independent reference. Never regenerate
/// the file: when the format changes, add a fixture of the new version next to it.
final class FormatFixtureTests: XCTestCase {
    static let fixtureURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tiny-lstm-format-1.1.crnn")
    static let inputSeeds: [UInt32] = [1, 2, 3, 4]  // the inputs of RegressionTests (same outputs as its "tiny-lstm")
    static let expected: [(logits: [Int8], activationsCRC: UInt32)] = [
        ([-11, -22, 15], 1805721426),
        ([-10, -22, 15], 2953391397),
        ([-11, -22, 15], 2993254202),
        ([-11, -22, 15], 1952320004),
    ]

    func run(_ bytes: [UInt8], seed: UInt32) throws -> (version: (UInt16, UInt16), logits: [Int8], crc: UInt32) {
        let a = AlignedBytes(bytes)
        let model = try ModelFile(bytes: a.raw)
        let it = try Interpreter(model: model, keepAllActivations: true)
        try tinyInput(seed: seed).withUnsafeBufferPointer { try it.run(features: $0) }
        var crc: UInt32 = 0
        for i in 0..<model.operatorCount { crc = crc32(UnsafeRawBufferPointer(it.int8Tensor(model.op(i).output)), crc) }
        return ((model.versionMajor, model.versionMinor), Array(it.output), crc)
    }

    func testFormat11FileLoadsAndRunsBitExact() throws {
        if ProcessInfo.processInfo.environment["CRNN_MAKE_FORMAT_FIXTURE"] != nil {
            let bytes = buildTinyModel(.lstm).encode()
            try Data(bytes).write(to: Self.fixtureURL)
            for seed in Self.inputSeeds {
                let r = try run(bytes, seed: seed)
                print("        (\(r.logits), \(r.crc)),")
            }
            return
        }
        let bytes = [UInt8](try Data(contentsOf: Self.fixtureURL))
        XCTAssertEqual(Self.expected.count, Self.inputSeeds.count)
        for (k, seed) in Self.inputSeeds.enumerated() where k < Self.expected.count {
            let r = try run(bytes, seed: seed)
            XCTAssertTrue(r.version == (1, 1), "fixture is format \(r.version)")
            XCTAssertEqual(r.logits, Self.expected[k].logits, "seed \(seed)")
            XCTAssertEqual(r.crc, Self.expected[k].activationsCRC, "seed \(seed)")
        }
    }
}
