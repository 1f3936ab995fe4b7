import Foundation
import XCTest
@testable import CRNNRuntime

/// Bit-exact regression: models built from integer LCG weights (no floats), fixed integer inputs, outputs
/// compared byte for byte with committed expectations. Any change to the integer arithmetic, the planner or
/// the file layout shows here.
///
/// FIXTURE PROVENANCE: the expected values below were produced by THIS implementation (CRNNRuntime on
/// branch `runtime`, at commit 907cab3 plus this test file, x86_64 Linux debug build, Swift 6.3.1) by running `dumpFixture()` and
/// pasting its output. They are not an independent reference: they pin the behaviour. When the arithmetic
/// is changed on purpose, regenerate them with `CRNN_DUMP_FIXTURE=1 swift test --filter RegressionTests`
/// and say why in the commit message.
final class RegressionTests: XCTestCase {
    struct Case { var logits: [Int8]; var activationsCRC: UInt32 }

    /// Runs a model on an input and returns the logits and the CRC32 of every operator's output in order.
    func evaluate(_ b: ModelBuilder, _ input: [Int32]) throws -> (Case, UInt32) {
        let bytes = b.encode()
        let a = AlignedBytes(bytes)
        let it = try Interpreter(model: try ModelFile(bytes: a.raw), keepAllActivations: true)
        try input.withUnsafeBufferPointer { try it.run(features: $0) }
        var crc: UInt32 = 0
        for i in 0..<it.model.operatorCount {
            crc = crc32(UnsafeRawBufferPointer(it.int8Tensor(it.model.op(i).output)), crc)
        }
        let fileCRC = bytes.withUnsafeBytes { crc32($0) }
        return (Case(logits: Array(it.output), activationsCRC: crc), fileCRC)
    }

    static var models: [(String, () -> ModelBuilder, Int, Int)] { [
        ("tiny-gru", { buildTinyModel(.gru) }, 12, 6),
        ("tiny-lstm", { buildTinyModel(.lstm) }, 12, 6),
        ("tiny-cnn", { buildTinyModel(.cnn) }, 12, 6),
        ("paper-gru", { buildPaperModel(recurrent: .gru) }, 130, 23),
        ("paper-lstm", { buildPaperModel(recurrent: .lstm) }, 130, 23),
    ] }

    func dumpFixture() throws {
        for (name, make, f, c) in Self.models {
            var line = "\"\(name)\": (fileCRC: "
            var cases: [String] = []
            var fileCRC: UInt32 = 0
            for seed in UInt32(1)...4 {
                let (k, crc) = try evaluate(make(), tinyInput(frames: f, coeffs: c, seed: seed))
                fileCRC = crc
                cases.append("(\(k.logits), 0x\(String(k.activationsCRC, radix: 16)))")
            }
            line += "0x\(String(fileCRC, radix: 16)), cases: [\(cases.joined(separator: ", "))]),"
            print(line)
        }
    }

    static let expected: [String: (fileCRC: UInt32, cases: [([Int8], UInt32)])] = [
        // FIXTURE-BEGIN (generated, see the provenance note above)
        "tiny-gru": (fileCRC: 0xb01c650d, cases: [([-58, 10, -17], 0x6be8569e), ([-59, 11, -17], 0x11930612), ([-59, 11, -17], 0x5ff7fe5a), ([-58, 10, -17], 0x741743c8)]),
        "tiny-lstm": (fileCRC: 0xb393e18a, cases: [([-11, -22, 15], 0x6ba11f52), ([-10, -22, 15], 0xb0092d25), ([-11, -22, 15], 0xb2696f3a), ([-11, -22, 15], 0x745e0a04)]),
        "tiny-cnn": (fileCRC: 0x60ddb6f5, cases: [([10, 21, 1], 0xb25ab555), ([12, 22, 1], 0x14bc4636), ([11, 20, 0], 0x25453cfe), ([11, 22, 1], 0xa697cdaf)]),
        "paper-gru": (fileCRC: 0x7ecf129f, cases: [([-128, -128, -44, 85, 16, 127, -128, -48, -30, -128], 0xaa953b81), ([-72, -128, -35, 102, 24, 127, -128, -38, 5, -118], 0x390022f3), ([-128, -128, -51, 81, 32, 127, -128, -101, -65, -128], 0x33be10a8), ([-128, -128, -41, 94, 21, 127, -128, -55, -26, -128], 0x9e1cf77b)]),
        "paper-lstm": (fileCRC: 0x6761abe9, cases: [([73, 104, 46, -26, 13, -31, -127, 100, -83, 63], 0x162a8b6d), ([79, 119, 41, -27, 11, -31, -128, 105, -89, 70], 0xdb494441), ([77, 116, 42, -23, 16, -38, -128, 105, -87, 67], 0x46577e0d), ([79, 110, 39, -32, 20, -33, -127, 103, -72, 70], 0x81c918fd)]),
        // FIXTURE-END
    ]

    func testBitExactRegression() throws {
        if ProcessInfo.processInfo.environment["CRNN_DUMP_FIXTURE"] != nil { try dumpFixture(); return }
        XCTAssertEqual(Self.expected.count, Self.models.count, "fixture missing: run with CRNN_DUMP_FIXTURE=1")
        for (name, make, f, c) in Self.models {
            guard let exp = Self.expected[name] else { XCTFail("no fixture for \(name)"); continue }
            for seed in UInt32(1)...4 {
                let (k, fileCRC) = try evaluate(make(), tinyInput(frames: f, coeffs: c, seed: seed))
                XCTAssertEqual(fileCRC, exp.fileCRC, "\(name): encoded model bytes changed")
                XCTAssertEqual(k.logits, exp.cases[Int(seed) - 1].0, "\(name) input \(seed): logits changed")
                XCTAssertEqual(k.activationsCRC, exp.cases[Int(seed) - 1].1, "\(name) input \(seed): a layer output changed")
            }
        }
    }
}
