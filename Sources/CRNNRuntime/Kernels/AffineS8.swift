// affineS8: the per-channel affine step y = a_c * x + b_c (an inference-time batch norm that cannot be folded)
// in integer arithmetic. Reference `affineS8`, and `affineS8Fast` (same bits, vectorizable requantization).

/// Shapes and quantization of an `affineS8` call: input and output [positions, channels] int8 (any HWC
/// tensor with `positions = H * W`); weights [channels] int16 (a_c = weight_scale[c] * weights[c], symmetric);
/// bias [channels] int32 in units of input_scale * weight_scale[c], |bias| < 2^30; requant real value
/// input_scale * weight_scale[c] / output_scale. Zero points and activation bounds in -128...127.
package struct AffineS8Params {
    package var positions: Int, channels: Int
    var inputZeroPoint: Int32, outputZeroPoint: Int32
    var activationMin: Int32, activationMax: Int32
    package init(positions: Int, channels: Int, inputZeroPoint: Int32, outputZeroPoint: Int32,
                activationMin: Int32 = -128, activationMax: Int32 = 127) {
        self.positions = positions; self.channels = channels
        self.inputZeroPoint = inputZeroPoint; self.outputZeroPoint = outputZeroPoint
        self.activationMin = activationMin; self.activationMax = activationMax
    }
}

/// Scratch bytes `affineS8` needs: none.
func affineS8ScratchSize(_ p: AffineS8Params) -> Int { 0 }

/// out[n, c] = clamp(z_out + MBQM((in[n, c] - z_in) * weights[c] + bias[c], m[c], s[c])).
/// Example: in 10, z_in 2, weight -3, bias 100, multiplier 2^30 (0.5), shift 0, z_out 0: (8 * -3 + 100) / 2 = 38.
package func affineS8(_ p: AffineS8Params, input: UnsafeBufferPointer<Int8>, weights: UnsafeBufferPointer<Int16>,
                     bias: UnsafeBufferPointer<Int32>, requant: ChannelRequant,
                     output: UnsafeMutableBufferPointer<Int8>, scratch: UnsafeMutableRawBufferPointer) {
    let N = p.positions, C = p.channels
    precondition(input.count >= N * C && output.count >= N * C && weights.count >= C && bias.count >= C
                 && requant.multipliers.count >= C && requant.shifts.count >= C)
    let inp = input.baseAddress!, out = output.baseAddress!
    var i = 0
    for _ in 0..<N {
        for c in 0..<C {
            let acc = (Int32(inp[i]) &- p.inputZeroPoint) &* Int32(weights[c]) &+ bias[c]
            out[i] = clampS8(p.outputZeroPoint &+ requant.apply(acc, c), p.activationMin, p.activationMax)
            i &+= 1
        }
    }
}

/// `affineS8` with each channel's constants loaded once (channel by channel, positions inner, strided by the
/// channel count) and the requantization of `requantizeS8` (32-bit arithmetic on 32-bit targets); same output bits.
/// It runs where the build keeps no lookup table (`speedTables` false: the low-RAM builds, i.e. Cortex-M), so it is
/// shaped for a scalar 32-bit core; optimized for speed in the -Osize board builds too. In place is allowed (each
/// element is read before it is written). Runs the reference when a shift is outside -31...30 (never for a
/// validated model file).
@_optimize(speed)
func affineS8Fast(_ p: AffineS8Params, input: UnsafeBufferPointer<Int8>, weights: UnsafeBufferPointer<Int16>,
                         bias: UnsafeBufferPointer<Int32>, requant: ChannelRequant,
                         output: UnsafeMutableBufferPointer<Int8>, scratch: UnsafeMutableRawBufferPointer) {
    let N = p.positions, C = p.channels
    precondition(input.count >= N * C && output.count >= N * C && weights.count >= C && bias.count >= C
                 && requant.multipliers.count >= C && requant.shifts.count >= C)
    if !shiftsInRequantizeRange(requant, C) {
        affineS8(p, input: input, weights: weights, bias: bias, requant: requant, output: output, scratch: scratch)
        return
    }
    let inp = input.baseAddress!, out = output.baseAddress!, w = weights.baseAddress!, b = bias.baseAddress!
    let m = requant.multipliers.baseAddress!, s = requant.shifts.baseAddress!
    let zi = p.inputZeroPoint, zo = p.outputZeroPoint, lo = p.activationMin, hi = p.activationMax
    for c in 0..<C {
        let wc = Int32(w[c]), bc = b[c], mc = m[c], sc = s[c]
        var x = inp + c, y = out + c
        for _ in 0..<N {
            let acc = (Int32(x[0]) &- zi) &* wc &+ bc
            y[0] = requantizeS8(acc, mc, sc, zo, lo, hi)
            x += C
            y += C
        }
    }
}

/// Bytes of the lookup table of `affineS8LookupPrepare`: one int8 output per input byte and channel.
func affineS8LookupTableSize(_ p: AffineS8Params) -> Int { 256 &* p.channels }

/// Fills `table` (`affineS8LookupTableSize(p)` bytes) with the reference's output for every input byte of every
/// channel, value-major: table[(x + 128) * C + c] = affineS8 of x in channel c. The reference runs once over a
/// [256, C] input holding x = -128...127 in every channel, in place (it reads element k before it writes it).
/// An int8 input has only 256 values, so the table gives the reference's bits for any input by construction.
func affineS8LookupPrepare(_ p: AffineS8Params, weights: UnsafeBufferPointer<Int16>, bias: UnsafeBufferPointer<Int32>,
                           requant: ChannelRequant, table: UnsafeMutableBufferPointer<Int8>) {
    let C = p.channels
    precondition(table.count >= affineS8LookupTableSize(p))
    for v in 0..<256 {
        for c in 0..<C { table[v &* C &+ c] = Int8(truncatingIfNeeded: v &- 128) }
    }
    var all = p
    all.positions = 256
    affineS8(all, input: UnsafeBufferPointer(table), weights: weights, bias: bias, requant: requant, output: table,
             scratch: UnsafeMutableRawBufferPointer(start: nil, count: 0))
}

/// `affineS8` by table lookup (one load per element): out[n, c] = table[(in[n, c] + 128) * C + c], the table from
/// `affineS8LookupPrepare` with the same parameters (positions aside). Same output bits as the reference. In place
/// is allowed (`input` and `output` the same memory).
func affineS8Lookup(_ p: AffineS8Params, input: UnsafeBufferPointer<Int8>, table: UnsafeBufferPointer<Int8>,
                    output: UnsafeMutableBufferPointer<Int8>) {
    let N = p.positions, C = p.channels
    precondition(input.count >= N * C && output.count >= N * C && table.count >= affineS8LookupTableSize(p))
    let inp = input.baseAddress!, out = output.baseAddress!, t = table.baseAddress! + 128 &* C
    var i = 0
    for _ in 0..<N {
        var c = 0
        while c < C {
            out[i] = t[Int(inp[i]) &* C &+ c]
            c &+= 1
            i &+= 1
        }
    }
}
