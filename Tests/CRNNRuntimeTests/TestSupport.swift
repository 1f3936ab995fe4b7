// Deterministic random numbers for the runtime tests (SplitMix64): no seeds from the clock, no Foundation.

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int32() -> Int32 { Int32(truncatingIfNeeded: next()) }
    /// Uniform in lo...hi (inclusive), small ranges only.
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
    /// Int32 with a random magnitude (log-uniform bit width), so that small and large values both occur.
    mutating func int32AnyMagnitude() -> Int32 {
        let bits = Int(next() % 32)
        let v = Int64(truncatingIfNeeded: next()) >> Int64(63 - bits)
        return Int32(truncatingIfNeeded: v)
    }
    mutating func int8() -> Int8 { Int8(truncatingIfNeeded: next()) }
}

/// floor(a / 2^n) for Int128 (arithmetic shift is floor).
func floorShift(_ a: Int128, _ n: Int) -> Int128 { a >> n }

import Foundation
@testable import CRNNRuntime

/// Real multiplier -> (Q31 multiplier, shift) as the host quantizer will compute it: real = m * 2^(shift - 31).
func quantizeMultiplier(_ real: Double) -> (Int32, Int32) {
    if real == 0 { return (0, 0) }
    let f = frexp(real)  // real = f.0 * 2^f.1, f.0 in [0.5, 1)
    var q = Int64((f.0 * 2_147_483_648).rounded())
    var e = f.1
    if q == 1 << 31 { q /= 2; e += 1 }
    return (Int32(q), Int32(e))
}

/// The real value of a (multiplier, shift) pair.
func realMultiplier(_ m: Int32, _ s: Int32) -> Double { Double(m) * pow(2.0, Double(s) - 31) }

func requantArrays(_ reals: [Double]) -> (m: [Int32], s: [Int32]) {
    let pairs = reals.map(quantizeMultiplier)
    return (pairs.map { $0.0 }, pairs.map { $0.1 })
}

/// Calls `body` with a ChannelRequant over the given arrays.
func withRequant<R>(_ m: [Int32], _ s: [Int32], _ body: (ChannelRequant) -> R) -> R {
    m.withUnsafeBufferPointer { mp in s.withUnsafeBufferPointer { sp in body(ChannelRequant(multipliers: mp, shifts: sp)) } }
}

var noScratch: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: nil, count: 0) }

/// A fresh, 16-byte aligned scratch buffer (tests only).
func withScratch<R>(_ bytes: Int, _ body: (UnsafeMutableRawBufferPointer) -> R) -> R {
    let p = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes, 1), alignment: 16)
    defer { p.deallocate() }
    return body(UnsafeMutableRawBufferPointer(rebasing: p[0..<bytes]))
}

func sigmoidD(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
