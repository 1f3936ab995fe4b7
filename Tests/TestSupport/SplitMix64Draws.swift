// The draws the tests and tools take from SplitMix64 (the SplitMix module's generator, also behind Features'
// SeededGenerator). Sequences are part of the committed fixtures: never change them. Not compiled as Embedded
// Swift (tools/embedded_smoke.sh needs only Generators.swift's LCG).
import SplitMix

/// SplitMix64 (Steele, Lea, Flood 2014): 64-bit output, any seed.
public typealias SplitMix64 = SplitMix.SplitMix64

extension SplitMix64 {
    public mutating func int32() -> Int32 { Int32(truncatingIfNeeded: next()) }
    /// Uniform in lo...hi (inclusive), small ranges only.
    public mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
    /// Int32 with a random magnitude (log-uniform bit width), so that small and large values both occur.
    public mutating func int32AnyMagnitude() -> Int32 {
        let bits = Int(next() % 32)
        let v = Int64(truncatingIfNeeded: next()) >> Int64(63 - bits)
        return Int32(truncatingIfNeeded: v)
    }
    public mutating func int8() -> Int8 { Int8(truncatingIfNeeded: next()) }
    /// Uniform in [-1, 1) with 52 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 52) - 1 }
}
