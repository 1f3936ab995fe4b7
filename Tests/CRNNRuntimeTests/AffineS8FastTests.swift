import XCTest
@testable import CRNNRuntime

/// affineS8Fast against the reference affineS8, bit for bit: random sizes, zero points, full-range int16
/// weights, any biases and multipliers (negative ones included: the vectorized rounding is exact for them too),
/// every shift in -31...30, and shifts outside that range (the fast function then runs the reference).
final class AffineS8FastTests: XCTestCase {
    func run(_ fast: Bool, _ p: AffineS8Params, _ x: [Int8], _ w: [Int16], _ b: [Int32], _ m: [Int32], _ s: [Int32]) -> [Int8] {
        runRequantKernel(x, w, b, m, s, count: p.positions * p.channels, fill: 55) { xp, wp, bp, rq, op in
            if fast {
                affineS8Fast(p, input: xp, weights: wp, bias: bp, requant: rq, output: op, scratch: noScratch)
            } else {
                affineS8(p, input: xp, weights: wp, bias: bp, requant: rq, output: op, scratch: noScratch)
            }
        }
    }

    func testRandomBitExact() {
        var rng = SplitMix64(seed: 12)
        for n in 0..<600 {
            let positions = rng.int(1, 40), channels = [1, 3, 8, 16, 32, 33, 64][rng.int(0, 6)]
            let zo = Int32(rng.int(-128, 127))
            var lo = Int32(rng.int(-128, 127)), hi = Int32(rng.int(-128, 127))
            if lo > hi { swap(&lo, &hi) }
            if n % 3 == 0 { lo = -128; hi = 127 }
            let p = AffineS8Params(positions: positions, channels: channels, inputZeroPoint: Int32(rng.int(-128, 127)),
                                   outputZeroPoint: zo, activationMin: lo, activationMax: hi)
            let x = (0..<(positions * channels)).map { _ in rng.int8() }
            let w = (0..<channels).map { _ in Int16(truncatingIfNeeded: rng.next()) }
            let b = (0..<channels).map { _ in rng.int32AnyMagnitude() }
            let m = (0..<channels).map { i in i == 0 ? Int32.max : (i == 1 ? Int32.min : rng.int32AnyMagnitude()) }
            var s = (0..<channels).map { _ in Int32(rng.int(-31, 30)) }
            if n % 10 == 0 { s[s.count - 1] = n % 20 == 0 ? 31 : -40 }  // out of range: the reference runs
            XCTAssertEqual(run(true, p, x, w, b, m, s), run(false, p, x, w, b, m, s), "case \(n)")
        }
    }

    /// affineS8Lookup against the reference: random parameters (shifts out of range included), every one of the
    /// 256 input bytes in every channel plus random rows, out of place and in place.
    func testLookupTableBitExact() {
        var rng = SplitMix64(seed: 77)
        for n in 0..<300 {
            let channels = [1, 3, 8, 16, 32, 33][rng.int(0, 5)], positions = 256 + rng.int(0, 20)
            var lo = Int32(rng.int(-128, 127)), hi = Int32(rng.int(-128, 127))
            if lo > hi { swap(&lo, &hi) }
            if n % 3 == 0 { lo = -128; hi = 127 }
            let p = AffineS8Params(positions: positions, channels: channels, inputZeroPoint: Int32(rng.int(-128, 127)),
                                   outputZeroPoint: Int32(rng.int(-128, 127)), activationMin: lo, activationMax: hi)
            // Rows 0..<256 hold x = -128...127 in every channel (shuffled per channel), the rest random.
            var x = (0..<(positions * channels)).map { _ in rng.int8() }
            for c in 0..<channels {
                let offset = rng.int(0, 255)
                for v in 0..<256 { x[v * channels + c] = Int8(truncatingIfNeeded: (v + offset) % 256 - 128) }
            }
            let w = (0..<channels).map { _ in Int16(truncatingIfNeeded: rng.next()) }
            let b = (0..<channels).map { _ in Int32(truncatingIfNeeded: rng.next() >> 34) }
            let m = (0..<channels).map { _ in rng.int32AnyMagnitude() }
            var s = (0..<channels).map { _ in Int32(rng.int(-31, 30)) }
            if n % 10 == 0 { s[0] = 31 }
            let reference = run(false, p, x, w, b, m, s)
            var table = [Int8](repeating: 0, count: affineS8LookupTableSize(p))
            var outOfPlace = [Int8](repeating: 0, count: x.count), inPlace = x
            w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
                m.withUnsafeBufferPointer { mp in s.withUnsafeBufferPointer { sp in
                    table.withUnsafeMutableBufferPointer {
                        affineS8LookupPrepare(p, weights: wp, bias: bp, requant: ChannelRequant(multipliers: mp, shifts: sp), table: $0)
                    }
                } }
            } }
            table.withUnsafeBufferPointer { t in
                x.withUnsafeBufferPointer { xp in outOfPlace.withUnsafeMutableBufferPointer { affineS8Lookup(p, input: xp, table: t, output: $0) } }
                inPlace.withUnsafeMutableBufferPointer { io in affineS8Lookup(p, input: UnsafeBufferPointer(io), table: t, output: io) }
            }
            XCTAssertEqual(outOfPlace, reference, "case \(n)")
            XCTAssertEqual(inPlace, reference, "case \(n) in place")
        }
    }
}
