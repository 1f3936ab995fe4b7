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

    public var parameters: [Parameter] { [] }
    public func outputShape(for s: [Int]) -> [Int] { s }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        guard mode == .training, rate > 0 else {
            mask = []
            return x
        }
        let scale = 1 / (1 - rate)
        let keep = Double(1 - rate)
        mask = [Float](repeating: 0, count: x.count)
        var y = x.data
        for i in 0..<x.count {
            let m: Float = rng.uniform() < keep ? scale : 0
            mask[i] = m
            y[i] *= m
        }
        return Tensor(shape: x.shape, data: y)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        if mask.isEmpty { return dy }
        var dx = dy.data
        for i in 0..<dx.count { dx[i] *= mask[i] }
        return Tensor(shape: dy.shape, data: dx)
    }
}
