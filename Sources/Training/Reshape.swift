// Reshape to a sequence and Flatten: shape changes only (row-major data is untouched).
//
// ToSequence: (N,H,W,C) -> (N,T=H,W*C): time runs along the MFCC-frame axis, as Keras
// Reshape((H, W*C)) on a channels-last tensor. Flatten: (N,...) -> (N, prod(...)).

public final class Reshape: Layer {
    public let name: String
    public var kindName: String { flatten ? "Flatten" : "Reshape" }
    /// true: (N, prod(rest)); false: (N, H, W*C).
    public let flatten: Bool
    private var inShape: [Int] = []

    public init(name: String, flatten: Bool) {
        self.name = name
        self.flatten = flatten
    }

    public var parameters: [Parameter] { [] }

    public func outputShape(for s: [Int]) -> [Int] {
        flatten ? [s.reduce(1, *)] : [s[0], s.dropFirst().reduce(1, *)]
    }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        inShape = x.shape
        return x.reshaped([x.shape[0]] + outputShape(for: Array(x.shape.dropFirst())))
    }

    public func backward(_ dy: Tensor) -> Tensor { dy.reshaped(inShape) }
}
