// ReLU. inp and out have any shape (same shape). Gradient is 1 where out > 0, else 0 (as TF).

func reluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { out[i] = max(inp[i], 0) }
}

/// din = dout where out > 0, else 0. Branch-free (SIMD select): the sign pattern after a conv is
/// random, so a branch would mispredict about half the time.
func reluBackward(din: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, out: UnsafePointer<Float>, count: Int) {
    typealias V = SIMD8<Float>
    let vectors = count / 8
    let zero = V(repeating: 0)
    for v in 0..<vectors {
        let o = UnsafeRawPointer(out + 8 * v).loadUnaligned(as: V.self)
        let d = UnsafeRawPointer(dout + 8 * v).loadUnaligned(as: V.self)
        UnsafeMutableRawPointer(din + 8 * v).storeBytes(of: zero.replacing(with: d, where: o .> zero), as: V.self)
    }
    for i in (8 * vectors)..<count { din[i] = out[i] > 0 ? dout[i] : 0 }
}

public final class ReLU: Layer {
    public let name: String
    public var kindName: String { "ReLU" }
    private var out: [Float] = []

    public init(name: String) { self.name = name }
    public var parameters: [Parameter] { [] }
    public func outputShape(for s: [Int]) -> [Int] { s }

    public func forward(_ x: Tensor, mode: Mode) -> Tensor {
        var y = [Float](unsafeUninitializedCapacity: x.count) { _, n in n = x.count }
        x.data.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                reluForward(out: yp.baseAddress!, inp: xp.baseAddress!, count: x.count)
            }
        }
        out = y
        return Tensor(shape: x.shape, data: y)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var dx = [Float](unsafeUninitializedCapacity: dy.count) { _, n in n = dy.count }
        dy.data.withUnsafeBufferPointer { dp in
            out.withUnsafeBufferPointer { op in
                dx.withUnsafeMutableBufferPointer { dxp in
                    reluBackward(din: dxp.baseAddress!, dout: dp.baseAddress!, out: op.baseAddress!, count: dy.count)
                }
            }
        }
        return Tensor(shape: dy.shape, data: dx)
    }
}
