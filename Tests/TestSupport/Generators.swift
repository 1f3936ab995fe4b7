// Deterministic generators for tests and tools: no seeds from the clock, no imports (this file is also compiled as
// Embedded Swift by tools/embedded_smoke.sh). Sequences are part of the committed fixtures: never change them.
// SplitMix64's draws are in SplitMix64Draws.swift (the generator itself is the SplitMix module's).

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
