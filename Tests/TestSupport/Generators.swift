// Deterministic generators for tests and tools: no seeds from the clock, no imports (this file is also compiled as
// Embedded Swift by tools/embedded_smoke.sh). Sequences are part of the committed fixtures: never change them.

/// SplitMix64 (Steele, Lea, Flood 2014): 64-bit output, any seed.
public struct SplitMix64 {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
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

/// Integer LCG (Numerical Recipes constants): the source of the weights and inputs of the int8 test models.
public struct LCG {
    public var state: UInt32
    public init(state: UInt32) { self.state = state }
    public mutating func next() -> UInt32 { state = state &* 1_664_525 &+ 1_013_904_223; return state }
    public mutating func int8() -> Int8 { Int8(truncatingIfNeeded: next() >> 24) }
    public mutating func int8s(_ n: Int) -> [Int8] { (0..<n).map { _ in int8() } }
    /// Normalised Q31 multipliers in [2^30, 2^30 + 2^29).
    public mutating func multipliers(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(1 << 30) + Int32(next() >> 3) } }
}
