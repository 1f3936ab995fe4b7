// Models by name: the paper's cnn-gru (Table I), cnn-lstm (Table II) and a cnn baseline, as a
// sequence of layers with Keras-like names. The model outputs LOGITS; the softmax is fused into the
// loss for training and applied by `predict` for probabilities.
//
//   input (N,130,23,1)
//   3 x [ Conv2D 3x3 'same' (filters) -> ReLU -> MaxPool (2 | 3 | 4, 'same') -> Dropout 0.1 -> BatchNorm ]
//        130x23 -> 65x12 -> 22x4 -> 6x1
//   cnn-gru : Reshape (6, 1*filters) -> GRU(u, return_sequences) -> GRU(u) -> Dense(classes)
//   cnn-lstm: Reshape (6, 1*filters) -> LSTM(u, return_sequences) -> LSTM(u) -> Dense(classes)
//   cnn     : Flatten (6*1*filters) -> Dense(classes)
//
// The cnn baseline flattens rather than global-average-pooling: the 6 remaining time positions keep
// their order (like the recurrent models, which see them as a sequence), and Flatten exports 1:1 to
// Keras. Input standardisation per MFCC coefficient is the caller's job.
import Dispatch

public enum ModelKind: String, Codable, CaseIterable, Sendable {
    case cnnGRU = "cnn-gru"
    case cnnLSTM = "cnn-lstm"
    case cnn = "cnn"

    /// Default units per recurrent layer (paper: GRU 20+20, LSTM 30+30).
    public var defaultRNNUnits: Int {
        switch self {
        case .cnnGRU: 20
        case .cnnLSTM: 30
        case .cnn: 0
        }
    }
}

/// Everything needed to rebuild a model's architecture (a checkpoint stores this).
public struct ModelConfig: Codable, Equatable, Sendable {
    public var kind: ModelKind
    public var filters: Int
    public var rnnUnits: Int
    /// One sample: [frames, coefficients, channels] = [130, 23, 1].
    public var inputShape: [Int]
    public var classes: Int
    public var dropoutRate: Float

    public init(kind: ModelKind, filters: Int = 32, rnnUnits: Int? = nil, inputShape: [Int] = [130, 23, 1],
                classes: Int = 10, dropoutRate: Float = 0.1) {
        self.kind = kind
        self.filters = filters
        self.rnnUnits = rnnUnits ?? kind.defaultRNNUnits
        self.inputShape = inputShape
        self.classes = classes
        self.dropoutRate = dropoutRate
    }

    /// The pool sizes of the three conv blocks.
    public static let pools = [2, 3, 4]
}

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unknownModel(String)
    case unknownParameter(String)
    case shapeMismatch(name: String, expected: Int, got: Int)

    public var description: String {
        switch self {
        case .unknownModel(let n):
            "unknown model '\(n)' (expected one of \(ModelKind.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .unknownParameter(let n): "no parameter named '\(n)'"
        case .shapeMismatch(let n, let e, let g): "parameter '\(n)' has \(e) values, got \(g)"
        }
    }
}

public final class Model {
    public let config: ModelConfig
    public let layers: [Layer]
    private let byName: [String: Parameter]

    /// Builds the architecture and initialises it as Keras does (glorot-uniform kernels, orthogonal
    /// recurrent kernels, zero biases, LSTM forget bias 1) from `seed`. Dropout masks use seeds
    /// derived from `seed` as well.
    public init(config: ModelConfig, seed: UInt64 = 0) {
        TrainingThreads.configureDefaultIfNeeded()
        self.config = config
        var rng = SeededRNG(seed: seed)
        var names = LayerNamer()
        var layers: [Layer] = []
        var shape = config.inputShape
        for (b, pool) in ModelConfig.pools.enumerated() {
            let conv = Conv2D(name: names.next("conv2d"), inChannels: shape[2], filters: config.filters, rng: &rng)
            if b == 0 { conv.computesInputGradient = false }
            layers.append(conv)
            layers.append(ReLU(name: names.next("re_lu")))
            layers.append(MaxPool2D(name: names.next("max_pooling2d"), pool: pool))
            layers.append(Dropout(name: names.next("dropout"), rate: config.dropoutRate,
                                  seed: seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(b + 1)))
            layers.append(BatchNorm(name: names.next("batch_normalization"), channels: config.filters))
            shape = MaxPool2D(name: "", pool: pool).outputShape(for: [shape[0], shape[1], config.filters])
        }
        let u = config.rnnUnits
        switch config.kind {
        case .cnnGRU, .cnnLSTM:
            layers.append(Reshape(name: names.next("reshape"), flatten: false))
            let features = shape[1] * shape[2]
            if config.kind == .cnnGRU {
                layers.append(GRU(name: names.next("gru"), inputSize: features, units: u, returnSequences: true, rng: &rng))
                layers.append(GRU(name: names.next("gru"), inputSize: u, units: u, returnSequences: false, rng: &rng))
            } else {
                layers.append(LSTM(name: names.next("lstm"), inputSize: features, units: u, returnSequences: true, rng: &rng))
                layers.append(LSTM(name: names.next("lstm"), inputSize: u, units: u, returnSequences: false, rng: &rng))
            }
            layers.append(Dense(name: names.next("dense"), inputSize: u, units: config.classes, rng: &rng))
        case .cnn:
            layers.append(Reshape(name: names.next("flatten"), flatten: true))
            layers.append(Dense(name: names.next("dense"), inputSize: shape.reduce(1, *), units: config.classes, rng: &rng))
        }
        self.layers = layers
        var byName: [String: Parameter] = [:]
        for l in layers { for p in l.parameters { byName[p.name] = p } }
        self.byName = byName
    }

    /// Builds a model from its command-line name ("cnn-gru", "cnn-lstm", "cnn").
    /// `inputShape`: [frames, coefficients, 1] of the feature configuration (the paper's 130 x 23 by default).
    public convenience init(named name: String, filters: Int = 32, rnnUnits: Int? = nil, classes: Int = 10,
                            dropoutRate: Float = 0.1, seed: UInt64 = 0, inputShape: [Int] = [130, 23, 1]) throws {
        guard let kind = ModelKind(rawValue: name) else { throw ModelError.unknownModel(name) }
        self.init(config: ModelConfig(kind: kind, filters: filters, rnnUnits: rnnUnits, inputShape: inputShape,
                                      classes: classes, dropoutRate: dropoutRate), seed: seed)
    }

    // MARK: Parameters

    /// All parameters in layer order, each layer in Keras get_weights() order (includes the
    /// non-trainable batch-norm moving statistics).
    public var parameters: [Parameter] { layers.flatMap(\.parameters) }
    public var trainableParameters: [Parameter] { parameters.filter(\.trainable) }

    public func parameter(named name: String) -> Parameter? { byName[name] }

    public func setParameter(_ name: String, to values: [Float]) throws {
        guard let p = byName[name] else { throw ModelError.unknownParameter(name) }
        guard p.count == values.count else { throw ModelError.shapeMismatch(name: name, expected: p.count, got: values.count) }
        p.value = values
    }

    /// name -> values of every parameter (for a checkpoint writer).
    public func parameterValues() -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.value) })
    }

    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    // MARK: Random state

    /// The state of every random generator inside the model (the dropout layers' mask generators), by
    /// layer name. Together with the parameters (which include batch norm's moving statistics) this is
    /// all the state a model carries from one training step to the next.
    public var randomStates: [String: UInt64] {
        get {
            var out: [String: UInt64] = [:]
            for case let d as Dropout in layers { out[d.name] = d.generatorState }
            return out
        }
    }

    /// Restores generator states saved by `randomStates`. Throws when a dropout layer has no stored state
    /// or a stored name is not a dropout layer of this model.
    public func setRandomStates(_ states: [String: UInt64]) throws {
        let dropouts = layers.compactMap { $0 as? Dropout }
        for name in states.keys where !dropouts.contains(where: { $0.name == name }) { throw ModelError.unknownParameter(name) }
        for d in dropouts {
            guard let s = states[d.name] else { throw ModelError.unknownParameter("\(d.name) (random state missing)") }
            d.generatorState = s
        }
    }

    /// Advances every dropout generator as far as training-mode forwards over batches of the given sizes
    /// would have (for resuming from a checkpoint that predates stored generator states).
    public func skipRandomDraws(batchSizes: [Int]) {
        for (l, shape) in outputShapes() {
            guard let d = l as? Dropout, d.rate > 0 else { continue }
            let perSample = shape.reduce(1, *)
            d.skip(draws: batchSizes.reduce(0) { $0 + Dropout.draws(elements: $1 * perSample) })
        }
    }

    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }
    public var trainableParameterCount: Int { trainableParameters.reduce(0) { $0 + $1.count } }

    // MARK: Running

    /// x is (N, 130, 23, 1) (config.inputShape); returns logits (N, classes). Training mode uses
    /// dropout and batch statistics (and updates the moving statistics).
    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        precondition(Array(x.shape.dropFirst()) == config.inputShape,
                     "input shape \(x.shape) does not match the model's \(config.inputShape)")
        var h = x
        var i = 0
        while i < layers.count {
            let l = layers[i]
            let t0 = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            if l is ReLU, i + 1 < layers.count, let pool = layers[i + 1] as? MaxPool2D {
                // ReLU -> MaxPool2D fused: pool(relu(h)) in one pass (same values and gradients), the
                // full-size ReLU output is never written. Timed under the pool's name.
                h = pool.forwardAfterReLU(h)
                i += 2
                if profile != nil { profile![pool.name + " fwd", default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
                continue
            }
            h = l.forward(h, mode: mode)
            i += 1
            if profile != nil { profile![l.name + " fwd", default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        }
        return h
    }

    /// When non-nil, forward and backward add each layer's wall time (seconds) here.
    public var profile: [String: Double]?

    /// Back-propagates dL/dlogits through the last forward pass, accumulating into every
    /// parameter's grad. Returns nothing: the first conv computes no input gradient.
    public func backward(_ dlogits: Tensor) {
        var d = dlogits
        var i = layers.count - 1
        while i >= 0 {
            let l = layers[i]
            let t0 = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            d = l.backward(d)
            // A pool whose forward fused the preceding ReLU already returned the gradient at the ReLU's input.
            if let pool = l as? MaxPool2D, pool.lastForwardFusedReLU, i > 0, layers[i - 1] is ReLU { i -= 2 } else { i -= 1 }
            if profile != nil { profile![l.name + " bwd", default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
        }
    }

    /// One training-mode forward and backward on a batch: zeroes the gradients, then fills them
    /// with d(mean cross-entropy)/d(parameter). Returns the loss and the logits.
    @discardableResult
    public func lossAndGradients(_ x: Tensor, labels: [Int], mode: Mode = .training) -> (loss: Float, logits: Tensor) {
        zeroGrad()
        let logits = forward(x, mode: mode)
        let (loss, dlogits) = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels)
        backward(dlogits)
        return (loss, logits)
    }

    /// Class probabilities (N, classes), inference mode.
    public func predict(_ x: Tensor) -> Tensor { SoftmaxCrossEntropy.softmax(forward(x, mode: .inference)) }

    /// Every layer's output in inference mode, in order (for calibrating activation ranges):
    /// [("conv2d", (N,130,23,F)), ("re_lu", ...), ..., ("dense", logits)].
    public func activations(_ x: Tensor, mode: Mode = .inference) -> [(layer: String, output: Tensor)] {
        var out: [(layer: String, output: Tensor)] = []
        var h = x
        for l in layers {
            h = l.forward(h, mode: mode)
            out.append((l.name, h))
        }
        return out
    }

    /// Per-sample output shapes of every layer.
    public func outputShapes() -> [(layer: Layer, shape: [Int])] {
        var s = config.inputShape
        return layers.map { l in
            s = l.outputShape(for: s)
            return (l, s)
        }
    }

    // MARK: Summary

    /// A Keras-style summary: layer (type), output shape, parameter count, totals.
    public func summary() -> String {
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s + " " : s + String(repeating: " ", count: w - s.count) }
        let rule = String(repeating: "_", count: 72), double = String(repeating: "=", count: 72)
        var lines = ["Model: \"\(config.kind.rawValue)\"", rule,
                     pad("Layer (type)", 34) + pad("Output Shape", 24) + "Param #", double]
        let input = "(None, " + config.inputShape.map(String.init).joined(separator: ", ") + ")"
        lines.append(pad("input_layer (InputLayer)", 34) + pad(input, 24) + "0")
        for (l, shape) in outputShapes() {
            let s = "(None, " + shape.map(String.init).joined(separator: ", ") + ")"
            lines.append(pad("\(l.name) (\(l.kindName))", 34) + pad(s, 24) + "\(l.parameterCount)")
        }
        lines.append(double)
        lines.append("Total params: \(parameterCount)")
        lines.append("Trainable params: \(trainableParameterCount)")
        lines.append("Non-trainable params: \(parameterCount - trainableParameterCount)")
        lines.append(rule)
        return lines.joined(separator: "\n")
    }
}

/// Keras-like automatic names: "conv2d", "conv2d_1", "conv2d_2", ...
struct LayerNamer {
    private var counts: [String: Int] = [:]
    mutating func next(_ base: String) -> String {
        let k = counts[base, default: 0]
        counts[base] = k + 1
        return k == 0 ? base : "\(base)_\(k)"
    }
}
