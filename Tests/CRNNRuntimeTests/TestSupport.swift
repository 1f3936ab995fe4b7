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
