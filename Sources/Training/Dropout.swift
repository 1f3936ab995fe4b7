// Inverted dropout (as Keras): in training mode each element is kept with probability 1-rate and
// scaled by 1/(1-rate); inference mode (or rate 0) is the identity. The mask comes from the layer's
// own seeded generator, so a run repeats exactly. inp/out any shape.

public final class Dropout: Layer {
    public let name: String
    public var kindName: String { "Dropout" }
    public let rate: Float
    private var rng: SeededRNG
    private var mask: [Float] = []   // 0 or 1/(1-rate) per element; empty when the layer was the identity

    public init(name: String, rate: Float, seed: UInt64) {
        precondition(rate >= 0 && rate < 1)
        self.name = name
        self.rate = rate
        self.rng = SeededRNG(seed: seed)
    }

    /// The mask generator's state (saved in a resumable checkpoint so that a resumed run draws the
    /// same masks as an uninterrupted one).
    public var generatorState: UInt64 {
        get { rng.state }
        set { rng = SeededRNG(seed: newValue) }
    }

    /// Draws one training-mode forward over `elements` values takes from the generator.
    public static func draws(elements: Int) -> Int { (elements + 1) / 2 }

    /// Skips `draws` draws (SplitMix64 advances its state by a constant per draw).
    public func skip(draws: Int) {
        rng = SeededRNG(seed: rng.state &+ UInt64(truncatingIfNeeded: draws) &* 0x9E37_79B9_7F4A_7C15)
    }

    public var parameters: [Parameter] { [] }
    public func outputShape(for s: [Int]) -> [Int] { s }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        guard mode == .training, rate > 0 else {
            mask = []
            return x
        }
        let scale = 1 / (1 - rate)
        // Keep when a 32-bit uniform draw is below (1-rate) * 2^32; two draws per 64-bit word.
        let threshold = UInt64((Double(1 - rate) * 4294967296.0).rounded())
        let count = x.count
        if mask.count != count { mask = [Float](repeating: 0, count: count) }   // reused; every entry is rewritten
        // One pass writes the mask and the output (no copy of x first).
        let y = [Float](unsafeUninitializedCapacity: count) { yp, n in
            x.data.withUnsafeBufferPointer { xp in
                mask.withUnsafeMutableBufferPointer { buf in
                    var i = 0
                    while i < count {
                        let r = rng.next()
                        let m0: Float = (r & 0xFFFF_FFFF) < threshold ? scale : 0
                        buf[i] = m0
                        yp[i] = xp[i] * m0
                        if i + 1 < count {
                            let m1: Float = (r >> 32) < threshold ? scale : 0
                            buf[i + 1] = m1
                            yp[i + 1] = xp[i + 1] * m1
                        }
                        i += 2
                    }
                }
            }
            n = count
        }
        return Tensor(shape: x.shape, data: y)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        if mask.isEmpty { return dy }
        let dx = [Float](unsafeUninitializedCapacity: dy.count) { dp, n in
            dy.data.withUnsafeBufferPointer { gp in
                mask.withUnsafeBufferPointer { mp in
                    for i in 0..<gp.count { dp[i] = gp[i] * mp[i] }
                }
            }
            n = dy.count
        }
        return Tensor(shape: dy.shape, data: dx)
    }
}
