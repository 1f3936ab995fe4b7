// SplitMix64, LCG, AlignedBytes and the paper-shaped model live in Tests/TestSupport (shared with the other test
// targets and the tools); re-exported here so every file of this target sees them.
@_exported import TestSupport

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

/// The operands of a requantizing int8 kernel as buffers: input x, weights w, int32 bias b, per-channel requant
/// (m, s), and an output of `count` values pre-filled with `fill` (so that a value the kernel does not write shows).
/// Returns the output.
func runRequantKernel<W>(_ x: [Int8], _ w: [W], _ b: [Int32], _ m: [Int32], _ s: [Int32], count: Int, fill: Int8,
                         _ kernel: (UnsafeBufferPointer<Int8>, UnsafeBufferPointer<W>, UnsafeBufferPointer<Int32>,
                                    ChannelRequant, UnsafeMutableBufferPointer<Int8>) -> Void) -> [Int8] {
    var out = [Int8](repeating: fill, count: count)
    x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
        withRequant(m, s) { rq in out.withUnsafeMutableBufferPointer { op in kernel(xp, wp, bp, rq, op) } }
    } } }
    return out
}

/// A fresh, 16-byte aligned scratch buffer (tests only).
func withScratch<R>(_ bytes: Int, _ body: (UnsafeMutableRawBufferPointer) -> R) -> R {
    let p = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes, 1), alignment: 16)
    defer { p.deallocate() }
    return body(UnsafeMutableRawBufferPointer(rebasing: p[0..<bytes]))
}

func sigmoidD(_ x: Double) -> Double { 1 / (1 + exp(-x)) }
