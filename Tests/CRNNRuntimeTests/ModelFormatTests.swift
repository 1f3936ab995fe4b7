import XCTest
@testable import CRNNRuntime

/// The model file: round trip through ModelBuilder and ModelFile, and every corrupt-file case giving its
/// specific typed error (never a crash or an out-of-bounds read).
final class ModelFormatTests: XCTestCase {
    // MARK: Helpers

    func u32(_ b: [UInt8], _ o: Int) -> Int { Int(b[o]) | Int(b[o + 1]) << 8 | Int(b[o + 2]) << 16 | Int(b[o + 3]) << 24 }
    func put(_ b: inout [UInt8], _ o: Int, _ v: UInt32) { for k in 0..<4 { b[o + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) } }

    /// Recomputes the CRC so that a deliberate edit reaches the structural checks.
    func resealed(_ b: [UInt8]) -> [UInt8] {
        var out = b
        let crc = b.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[64..<u32(b, 16)])) }
        put(&out, 28, crc)
        return out
    }

    /// (kind, offset, length, count) of every section.
    func sections(_ b: [UInt8]) -> [(kind: Int, offset: Int, length: Int, count: Int)] {
        (0..<u32(b, 20)).map { i in let e = 64 + 16 * i; return (u32(b, e), u32(b, e + 4), u32(b, e + 8), u32(b, e + 12)) }
    }
    func sectionOffset(_ b: [UInt8], _ k: SectionKind) -> Int { sections(b).first { $0.kind == Int(k.rawValue) }!.offset }
    func tensorEntry(_ b: [UInt8], _ t: Int) -> Int { sectionOffset(b, .tensors) + 64 * t }
    func opEntry(_ b: [UInt8], _ i: Int) -> Int { sectionOffset(b, .operators) + 64 * i }
    /// Output tensor index of operator i.
    func opOutput(_ b: [UInt8], _ i: Int) -> Int { u32(b, opEntry(b, i) + 36) }

    func expect(_ b: [UInt8], file: StaticString = #filePath, line: UInt = #line, _ check: (ModelError) -> Bool) {
        guard let e = validationError(b) else { return XCTFail("model accepted", file: file, line: line) }
        XCTAssertTrue(check(e), "unexpected error \(e): \(e.message)", file: file, line: line)
    }

    var tiny: [UInt8] { buildTinyModel(.gru).encode() }

    // MARK: Valid files

    func testCRC32KnownVector() {
        XCTAssertEqual(Array("123456789".utf8).withUnsafeBytes { crc32($0) }, 0xCBF4_3926)
    }

    func testRoundTrip() throws {
        for kind in [TinyKind.gru, .lstm, .cnn] {
            let b = buildTinyModel(kind)
            let bytes = b.encode()
            XCTAssertEqual(bytes.count % 16, 0)
            XCTAssertEqual(u32(bytes, 16), bytes.count)
            let a = AlignedBytes(bytes)
            let m = try ModelFile(bytes: a.raw)
            XCTAssertEqual(m.versionMajor, 1)
            XCTAssertEqual(m.tensorCount, b.tensorCount)
            XCTAssertEqual(m.labelCount, 3)
            XCTAssertEqual(Array(m.label(2)), Array("genre2".utf8))
            XCTAssertEqual(m.featureConfig, b.featureConfig)
            XCTAssertEqual(m.tensor(m.inputTensor).type, .int32)
            XCTAssertEqual(m.op(0).opcode, .inputQuantize)
            for s in sections(bytes) { XCTAssertEqual(s.offset % 16, 0) }
            for t in 0..<m.tensorCount where m.tensor(t).isConstant { XCTAssertEqual(m.tensor(t).fileOffset % 16, 0) }
        }
    }

    func testChannelScalesAndFrontendTablesRoundTrip() throws {
        var b = ModelBuilder()
        var fc = FeatureConfig.paper
        fc.nFFT = 16; fc.hopLength = 8; fc.segmentSamples = 64; fc.nMels = 4; fc.nMFCC = 3; fc.fMaxHz = 0
        b.featureConfig = fc
        let x = b.addActivation(.int8, shape: [4], zeroPoint: 1)
        let y = b.addFullyConnected(input: x, weights: [1, 2, 3, 4, 5, 6, 7, 8], outputs: 2, bias: [0, 0],
                                    multipliers: [1 << 30, 1 << 30], shifts: [0, 0], outputZeroPoint: 0,
                                    weightScales: [(1 << 30, -5), (1_500_000_000, -6)])
        b.inputTensor = x; b.outputTensor = y
        b.frontend = FrontendTables(window: (0..<16).map { Int16($0 * 1000) },
                                    melSpans: [(1, 2), (2, 3), (4, 2), (5, 4)], melWeights: (0..<11).map { Int16($0) },
                                    melWeightExponent: -6, dct: (0..<12).map { Int16(-$0) }, dctExponent: -2)
        let a = AlignedBytes(b.encode())
        let m = try ModelFile(bytes: a.raw)
        let w = m.op(0).input(1)
        XCTAssertEqual(m.tensor(w).channelScalesCount, 2)
        XCTAssertTrue(m.channelScale(w, 1) == (1_500_000_000, -6))
        XCTAssertGreaterThan(m.frontendLength, 48)
        XCTAssertEqual(m.labelCount, 0)
        // A frontend whose band count disagrees with the feature configuration is refused.
        b.frontend!.melSpans.removeLast()
        expect(b.encode()) { if case .badFrontend = $0 { return true }; return false }
        // A band reaching past the spectrum (9 bins for n_fft 16) is refused.
        b.frontend!.melSpans.append((8, 4))
        expect(b.encode()) { if case .badFrontend = $0 { return true }; return false }
    }

    func testNewerMinorVersionIsAccepted() {
        var b = buildTinyModel(.lstm)
        b.versionMinor = 7
        XCTAssertNil(validationError(b.encode()))
    }

    // MARK: Corrupt, foreign, newer

    func testTruncationAtEveryHeaderByteAndSectionBoundary() {
        let b = tiny
        var cuts = Set(0..<64)
        for s in sections(b) { cuts.formUnion([s.offset, s.offset + 1, s.offset + s.length - 1, s.offset + s.length]) }
        cuts.insert(b.count - 1)
        cuts.remove(b.count)
        for n in cuts.sorted() {
            expect(Array(b[0..<n])) { if case .truncated = $0 { return true }; return false }
        }
    }

    func testEveryFlippedByteAfterTheHeaderIsCaughtByTheCRC() {
        let b = tiny
        for i in 64..<b.count {
            var c = b
            c[i] ^= 0x5A
            expect(c) { if case .checksumMismatch = $0 { return true }; return false }
        }
    }

    func testFlippedHeaderBytes() {
        let b = tiny
        for i in 0..<64 {
            var c = b
            c[i] ^= 0xFF
            let e = validationError(c)
            switch i {
            case 0..<8: XCTAssertTrue({ if case .badMagic = e { return true }; return false }(), "byte \(i): \(String(describing: e))")
            case 8..<10: XCTAssertTrue({ if case .newerVersion = e { return true }; return false }(), "byte \(i)")
            case 10..<12: XCTAssertNil(e, "a newer minor version is readable by design (append-only)")
            case 12..<16, 20..<28: XCTAssertTrue({ if case .badHeader = e { return true }; return false }(), "byte \(i): \(String(describing: e))")
            case 16..<20: XCTAssertTrue({ switch e { case .truncated?, .badHeader?: return true; default: return false } }(), "byte \(i)")
            case 28..<32: XCTAssertTrue({ if case .checksumMismatch = e { return true }; return false }(), "byte \(i)")
            default: XCTAssertTrue({ if case .badHeader = e { return true }; return false }(), "byte \(i): \(String(describing: e))")
            }
        }
    }

    func testForeignFiles() {
        expect(Array("RIFF\u{0}\u{0}\u{0}\u{0}WAVEfmt ".utf8) + [UInt8](repeating: 0, count: 100)) { if case .badMagic = $0 { return true }; return false }
        expect([0x89, 0x50, 0x4E, 0x47]) { if case .badMagic = $0 { return true }; return false }
        expect([]) { if case .truncated = $0 { return true }; return false }
        var b = tiny
        b[3] = UInt8(ascii: "M")
        expect(b) { if case .badMagic = $0 { return true }; return false }
    }

    func testNewerMajorVersionIsRefusedWithAHint() {
        var builder = buildTinyModel(.gru)
        builder.versionMajor = 2
        builder.versionMinor = 3
        expect(builder.encode()) { e in
            guard case .newerVersion(let major, let minor) = e else { return false }
            let text = String(describing: e.message)
            return major == 2 && minor == 3 && text.contains("newer") && text.contains("update")
        }
        builder.versionMajor = 0
        expect(builder.encode()) { if case .badVersion = $0 { return true }; return false }
    }

    func testMisalignedBuffer() {
        let b = tiny
        let a = AlignedBytes([0] + b)
        let shifted = UnsafeRawBufferPointer(rebasing: a.raw[1...])
        do { _ = try ModelFile(bytes: shifted); XCTFail("accepted") } catch {
            if case .misalignedBuffer = error {} else { XCTFail("\(error)") }
        }
    }

    func testShapesThatDisagree() {
        var b = tiny
        let t = opOutput(b, 1)  // first conv's output [6, 3, 4]
        put(&b, tensorEntry(b, t) + 4, 7)
        expect(resealed(b)) { if case .shapeMismatch(op: 1, _) = $0 { return true }; return false }
        // Conv weights whose input channel count differs from the input's.
        b = tiny
        let w = u32(b, opEntry(b, 3) + 4 + 4)  // second conv's weights [4, 3, 3, 4]
        put(&b, tensorEntry(b, w) + 4 + 12, 3)
        expect(resealed(b)) { switch $0 { case .shapeMismatch(op: 3, _), .badTensor: return true; default: return false } }
        // A recurrent layer's output zero point must be 0.
        b = tiny
        let opCount = sections(b).first { $0.kind == 4 }!.count
        let gru = (0..<opCount).first { u32(b, opEntry(b, $0)) & 0xFFFF == 7 }!
        put(&b, tensorEntry(b, opOutput(b, gru)) + 28, 3)
        expect(resealed(b)) { if case .shapeMismatch(op: gru, _) = $0 { return true }; return false }
    }

    func testParamsOutOfRange() {
        var b = tiny
        put(&b, opEntry(b, 1) + 40 + 8, 0)  // conv pool height 0
        expect(resealed(b)) { if case .paramOutOfRange(op: 1, _) = $0 { return true }; return false }
        b = tiny
        put(&b, opEntry(b, 1) + 40, 200)  // activation min 200 > 127
        expect(resealed(b)) { if case .paramOutOfRange(op: 1, _) = $0 { return true }; return false }
        b = tiny
        let shifts = u32(b, opEntry(b, 1) + 4 + 16)  // conv requant shifts tensor
        let m = AlignedBytes(b)
        let off = try! ModelFile(bytes: m.raw).tensor(shifts).fileOffset
        put(&b, off, 31)
        expect(resealed(b)) { if case .paramOutOfRange(op: 1, _) = $0 { return true }; return false }
        b = tiny
        put(&b, opEntry(b, 1) + 40 + 20, 1)  // unused parameter
        expect(resealed(b)) { if case .paramOutOfRange(op: 1, _) = $0 { return true }; return false }
        // LSTM cell fraction bits 13.
        var l = buildTinyModel(.lstm).encode()
        let ops = sections(l).first { $0.kind == 4 }!.count
        let lstm = (0..<ops).first { u32(l, opEntry(l, $0)) & 0xFFFF == 8 }!
        put(&l, opEntry(l, lstm) + 44, 13)
        expect(resealed(l)) { if case .paramOutOfRange(op: lstm, _) = $0 { return true }; return false }
    }

    func testOperatorReferencingMissingTensor() {
        var b = tiny
        let n = sections(b).first { $0.kind == 3 }!.count
        put(&b, opEntry(b, 2) + 4, UInt32(n + 5))
        expect(resealed(b)) { if case .missingTensor(op: 2, tensor: UInt32(n + 5)) = $0 { return true }; return false }
        b = tiny
        put(&b, opEntry(b, 2) + 36, 0xFFFF_FFF0)
        expect(resealed(b)) { if case .missingTensor(op: 2, _) = $0 { return true }; return false }
    }

    func testOperatorStructure() {
        var b = tiny
        put(&b, opEntry(b, 1), 99)  // unknown opcode (and input count 5)
        expect(resealed(b)) { if case .badOperator(index: 1, _) = $0 { return true }; return false }
        b = tiny
        let ops = sections(b).first { $0.kind == 4 }!.count
        put(&b, opEntry(b, 1) + 4, UInt32(opOutput(b, ops - 1)))  // reads a tensor produced later
        expect(resealed(b)) { if case .badOperator(index: 1, _) = $0 { return true }; return false }
        b = tiny
        b[opEntry(b, 1) + 2] = 4  // wrong input count for conv2d
        expect(resealed(b)) { if case .badOperator(index: 1, _) = $0 { return true }; return false }
        b = tiny
        put(&b, opEntry(b, 2) + 36, UInt32(opOutput(b, 1)))  // second producer of a tensor
        expect(resealed(b)) { if case .badOperator(index: 2, _) = $0 { return true }; return false }
    }

    func testSectionsAndTensorsCorrupt() {
        var b = tiny
        put(&b, 64 + 4, UInt32(u32(b, 64 + 4) + 8))  // first section misaligned
        expect(resealed(b)) { if case .badSection(index: 0, _) = $0 { return true }; return false }
        b = tiny
        put(&b, 64 + 8, UInt32(b.count))  // first section runs past the end
        expect(resealed(b)) { if case .badSection(index: 0, _) = $0 { return true }; return false }
        b = tiny
        let gi = sections(b).firstIndex { $0.kind == 6 }!
        put(&b, 64 + 16 * gi, 99)  // graph section becomes an unknown kind (skipped) -> missing
        expect(resealed(b)) { if case .missingSection(.graph) = $0 { return true }; return false }
        b = tiny
        let li = sections(b).firstIndex { $0.kind == 2 }!
        put(&b, 64 + 16 * li, 1)  // a second feature-config section
        expect(resealed(b)) { if case .duplicateSection(.featureConfig) = $0 { return true }; return false }
        b = tiny
        b[tensorEntry(b, 2)] = 9  // unknown tensor type
        expect(resealed(b)) { if case .badTensor(index: 2, _) = $0 { return true }; return false }
        b = tiny
        put(&b, tensorEntry(b, 2) + 20, 8)  // constant data misaligned
        expect(resealed(b)) { if case .badTensor(index: 2, _) = $0 { return true }; return false }
        b = tiny
        put(&b, tensorEntry(b, 2) + 4, 70000)  // dimension too large
        expect(resealed(b)) { if case .badTensor(index: 2, _) = $0 { return true }; return false }
        b = tiny
        put(&b, tensorEntry(b, 2) + 4, 0x8000_0000)  // would overflow 32-bit size arithmetic
        expect(resealed(b)) { if case .badTensor(index: 2, _) = $0 { return true }; return false }
        b = tiny
        put(&b, sectionOffset(b, .featureConfig) + 12, 1000)  // n_fft not a power of two
        expect(resealed(b)) { if case .badFeatureConfig = $0 { return true }; return false }
    }

    func testLabels() {
        var builder = buildTinyModel(.cnn)
        builder.labels.removeLast()
        expect(builder.encode()) { if case .badGraph = $0 { return true }; return false }
        builder = buildTinyModel(.cnn)
        builder.labels[1] = [0x67, 0xC3, 0x28]  // invalid UTF-8
        expect(builder.encode()) { if case .badLabels = $0 { return true }; return false }
        builder.labels[1] = Array("música".utf8)
        XCTAssertNil(validationError(builder.encode()))
        builder.labels[1] = []
        expect(builder.encode()) { if case .badLabels = $0 { return true }; return false }
    }

    func testRandomCorruptionNeverCrashes() {
        // Random edits, resealed so that they reach the structural checks: each is accepted or refused, never a trap.
        var rng = SplitMix64(seed: 99)
        let base = tiny
        var refused = 0
        for _ in 0..<3000 {
            var b = base
            for _ in 0..<rng.int(1, 4) { b[rng.int(64, b.count - 1)] = UInt8(truncatingIfNeeded: rng.next()) }
            let sealed = resealed(b)
            let a = AlignedBytes(sealed)
            do {
                // Accepted files must also run without trapping.
                let it = try Interpreter(model: try ModelFile(bytes: a.raw))
                if let f = it.featureInput { for i in 0..<f.count { f[i] = Int32(i * 37) } }
                it.invoke()
            } catch { refused += 1 }
        }
        XCTAssertGreaterThan(refused, 100)
    }
}
