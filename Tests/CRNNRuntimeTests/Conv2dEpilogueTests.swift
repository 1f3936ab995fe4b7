import XCTest
@testable import CRNNRuntime

/// The fast convolution's vector requantization epilogues against the scalar reference (`requantizeRow`), bit for
/// bit, on the accumulators their `prepare` accepts; and `prepare` refuses what they cannot do exactly.
final class Conv2dEpilogueTests: XCTestCase {
    /// `requantizeS8Narrow` (what 32-bit targets run) gives `requantizeS8Wide`'s int8 for every shift the format
    /// allows, and `multiplyByQuantizedMultiplierNarrow` the 64-bit `multiplyByQuantizedMultiplier` for every
    /// negative one, on extreme and random accumulators, multipliers (negative too), zero points and clamps.
    func testNarrowRequantizationEqualsTheWideOne() {
        var rng = SplitMix64(seed: 3232)
        let edges: [Int32] = [Int32.min, Int32.min + 1, -1 << 30, -65536, -255, -1, 0, 1, 255, 65535, 1 << 30, Int32.max]
        var checked = 0
        for s in Int32(-31)...30 {
            for round in 0..<4000 {
                let acc = round < 144 ? edges[round % 12] : Int32(truncatingIfNeeded: rng.next())
                let m = round < 144 ? edges[round / 12] : Int32(truncatingIfNeeded: rng.next() >> UInt64(rng.int(0, 32)))
                let zo = Int32(rng.int(-128, 127))
                var lo = Int32(rng.int(-128, 127)), hi = Int32(rng.int(-128, 127))
                if round % 5 == 0 { lo = -128; hi = 127 } else if lo > hi { swap(&lo, &hi) }
                XCTAssertEqual(requantizeS8Narrow(acc, m, s, zo, lo, hi), requantizeS8Wide(acc, m, s, zo, lo, hi),
                               "acc \(acc) m \(m) s \(s) zo \(zo)")
                if s < 0 {  // the 32-bit form of multiplyByQuantizedMultiplier (the 64-bit one runs on this host)
                    XCTAssertEqual(multiplyByQuantizedMultiplierNarrow(acc, m, s), multiplyByQuantizedMultiplier(acc, m, s),
                                   "MBQM acc \(acc) m \(m) s \(s)")
                }
                checked += 1
            }
        }
        XCTAssertEqual(checked, 62 * 4000)
    }

    #if arch(x86_64)
    /// Random layers: multipliers (normalised, any, 0, Int32.max), every shift, accumulator bounds from 1 to 2^31,
    /// accumulators at and inside the bounds, every zero point and clamp.
    func testSSE2EpilogueAgreesWithRequantizeRow() {
        var rng = SplitMix64(seed: 8086)
        var accepted = 0, rounds = 0
        for round in 0..<3000 {
            let K = 16 * rng.int(1, 3), pixels = rng.int(1, 4), count = K * pixels
            let m: [Int32] = (0..<K).map { c in
                switch (round + c) % 11 {
                case 0: return 0
                case 1: return Int32.max
                case 2: return Int32(rng.int(0, Int(Int32.max)))
                default: return Int32(1 << 30) + Int32(rng.int(0, (1 << 30) - 1))
                }
            }
            // Mostly shifts the epilogue takes (-12...-4; the shipped layers have -10...-6), sometimes any.
            let s: [Int32] = (0..<K).map { _ in Int32(round % 8 == 0 ? rng.int(-31, 30) : rng.int(-12, -4)) }
            // Mostly bounds real layers have (up to 2^22: 288 taps x 128 x 127 and a bias), sometimes any.
            let bits = round % 8 == 1 ? rng.int(0, 31) : rng.int(0, 22)
            let bounds: [Int64] = (0..<K).map { _ in Int64(rng.int(0, 1 << bits)) }
            var acc = [Int32](repeating: 0, count: count)
            for i in 0..<count {
                let b = Int(bounds[i % K])
                switch rng.int(0, 5) {
                case 0: acc[i] = Int32(clamping: b)
                case 1: acc[i] = Int32(clamping: -b)
                default: acc[i] = Int32(clamping: rng.int(-b, b))
                }
            }
            let zo = Int32(rng.int(-128, 127))
            var lo = Int32(rng.int(-128, 127)), hi = Int32(rng.int(-128, 127))
            if round % 7 == 0 { lo = -128; hi = 127 } else if lo > hi { swap(&lo, &hi) }  // run needs lo <= hi
            var constants = [Double](repeating: .nan, count: K)
            let exact = m.withUnsafeBufferPointer { mp in s.withUnsafeBufferPointer { sp in
                bounds.withUnsafeBufferPointer { b in
                    constants.withUnsafeMutableBytes {
                        Conv2dEpilogueSSE2.prepare(requant: ChannelRequant(multipliers: mp, shifts: sp), channels: K,
                                                   accumulatorBounds: b, into: $0.baseAddress!)
                    }
                }
            } }
            // What prepare must say: n = 31 - shift in 1...43, bound * m < 2^53, m >= 0, for every channel.
            let expected = (0..<K).allSatisfy { c in
                let n = 31 - Int(s[c])
                return n >= 1 && n <= 43 && bounds[c] * Int64(m[c]) < Int64(1) << 53
            }
            XCTAssertEqual(exact, expected, "round \(round)")
            // The driver's precondition: z_out + the requantized value does not wrap within the bounds.
            let noWrap = (0..<K).allSatisfy { c in
                let b = Int32(clamping: bounds[c])
                return [b, 0 &- b].allSatisfy {
                    Int64(Int32.min)...Int64(Int32.max) ~= Int64(zo) + Int64(multiplyByQuantizedMultiplier($0, m[c], s[c]))
                }
            }
            guard exact && noWrap else { continue }
            accepted += 1
            var want = [Int8](repeating: 0, count: count), got = [Int8](repeating: 0x55, count: count)
            acc.withUnsafeBufferPointer { a in
                m.withUnsafeBufferPointer { mp in s.withUnsafeBufferPointer { sp in
                    for x in 0..<pixels {
                        requantizeRow(a.baseAddress! + x * K, mp.baseAddress!, sp.baseAddress!, K, zo, lo, hi,
                                      &want[x * K])
                    }
                } }
                constants.withUnsafeBytes { cb in
                    got.withUnsafeMutableBufferPointer {
                        Conv2dEpilogueSSE2.run(a.baseAddress!, count: count, channels: K, constants: cb.baseAddress!,
                                               zo: zo, lo: lo, hi: hi, out: $0.baseAddress!)
                    }
                }
            }
            XCTAssertEqual(got, want, "round \(round): zo \(zo) lo \(lo) hi \(hi)")
            rounds += 1
        }
        XCTAssertGreaterThan(accepted, 2000)  // 2507 of 3000 with this seed; the rest test prepare's refusals
        XCTAssertEqual(rounds, accepted)
    }

    /// The shipped layers' scales go through the vector epilogue: each paper-shaped conv of the test model is
    /// prepared with it (so the regression fixtures run it on x86-64).
    func testPaperModelConvsUseTheVectorEpilogue() throws {
        let bytes = buildPaperModel(recurrent: .gru).encode()
        try bytes.withUnsafeBytes { raw in
            let model = try ModelFile(bytes: raw)
            let it = try Interpreter(model: model)
            let plan = it.plan
            var convs = 0
            for i in 0..<model.operatorCount where model.op(i).opcode == .conv2d {
                let layout = Conv2dFastLayout(Interpreter.convParams(model, model.op(i)))
                let status = it.arena.load(fromByteOffset: plan.preparedOffsets[i] + layout.statusOffset + 4, as: Int32.self)
                XCTAssertEqual(status, Conv2dSelectedMicroKernel.Epilogue.self == Conv2dEpilogueSSE2.self ? 1 : 0, "op \(i)")
                convs += 1
            }
            XCTAssertEqual(convs, 3)
        }
    }
    #endif
}
