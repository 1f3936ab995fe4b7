// Float tensors, parameters and the layer protocol of the float trainer.
//
// Layout is row-major and channels-last everywhere: images are (N,H,W,C), sequences (N,T,D),
// matrices (N,D). Parameter shapes follow Keras exactly (conv kernel [3,3,Cin,Cout], dense kernel
// [in,out], GRU kernel [in,3*units], ...) so checkpoints, the Keras parity test and the quantizer
// share one naming and one layout.

/// A dense float32 tensor: a shape and its row-major data.
public struct Tensor: Equatable, Sendable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    public var count: Int { data.count }
    /// The leading (batch) dimension.
    public var batch: Int { shape[0] }

    /// The same data under another shape with the same number of elements.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }
}

/// A named weight tensor with its gradient. `name` is Keras-like ("conv2d/kernel",
/// "gru_1/recurrent_kernel", "batch_normalization/moving_mean"); `shape` is in Keras layout.
/// Non-trainable parameters (batch-norm moving statistics) have `trainable == false` and a
/// gradient that stays zero; the optimizer skips them, checkpoints and the quantizer read them.
public final class Parameter {
    public let name: String
    public let shape: [Int]
    public var value: [Float]
    public var grad: [Float]
    public let trainable: Bool

    public init(name: String, shape: [Int], value: [Float], trainable: Bool = true) {
        precondition(shape.reduce(1, *) == value.count, "\(name): shape \(shape) vs \(value.count) values")
        self.name = name
        self.shape = shape
        self.value = value
        self.grad = [Float](repeating: 0, count: value.count)
        self.trainable = trainable
    }

    public var count: Int { value.count }

    public func zeroGrad() {
        for i in grad.indices { grad[i] = 0 }
    }
}

/// Training mode uses batch statistics in batch norm and applies dropout; inference mode uses
/// the running statistics and no dropout.
public enum Mode: Sendable {
    case training
    case inference
}

/// A layer: `forward` caches what `backward` needs; `backward` takes dL/d(output), ACCUMULATES
/// into its parameters' `grad` and returns dL/d(input). Shapes exclude nothing: the batch is the
/// leading dimension of every tensor.
public protocol Layer: AnyObject {
    /// Keras-like unique layer name, e.g. "conv2d_1".
    var name: String { get }
    /// Keras class name, e.g. "Conv2D" (for the summary).
    var kindName: String { get }
    /// All parameters (trainable and not), in Keras' `get_weights()` order.
    var parameters: [Parameter] { get }
    /// Output shape of one sample for an input sample shape (batch dimension excluded).
    func outputShape(for inputShape: [Int]) -> [Int]
    func forward(_ x: Tensor, mode: Mode) -> Tensor
    func backward(_ dy: Tensor) -> Tensor
}

extension Layer {
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
}
