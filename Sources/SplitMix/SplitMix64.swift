// SplitMix64 (Steele, Lea, Flood 2014): the project's one seeded 64-bit generator, dependency-free so that the
// host modules (Features' SeededGenerator, AudioIO's noise) and the tests and tools (TestSupport) draw from the
// same definition. Its sequence is the same on every platform and Swift version (the standard library's
// generators are not seedable) and is part of splits, checkpoints and committed fixtures: never change it.

/// SplitMix64: 64-bit output, any seed. The whole state is one 64-bit counter, so `SplitMix64(seed: g.state)`
/// continues exactly where `g` stands.
public struct SplitMix64: Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
