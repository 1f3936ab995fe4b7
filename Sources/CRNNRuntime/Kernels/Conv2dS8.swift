// conv2dS8: 2-D convolution, stride 1, 'same' padding, int8 in/out, per-channel requantization, fused
// clamp (ReLU) and an optional fused max-pool. Reference scalar implementation; the interpreter runs the
// blocked `conv2dS8FastRun` (Conv2dS8Fast.swift, same output bits, tested against this) where it applies.

/// Shapes and quantization of a `conv2dS8` call.
///
/// - input: [inputHeight, inputWidth, inputChannels] int8 (HWC), zero point `inputZeroPoint` (-128...127)
/// - weights: [outputChannels, kernelHeight, kernelWidth, inputChannels] int8 (OHWI), symmetric per channel
/// - bias: [outputChannels] int32; requant: [outputChannels]
/// - output: [ceil(H / poolHeight), ceil(W / poolWidth), outputChannels] int8, zero point `outputZeroPoint`
/// Valid ranges: all sizes >= 1; kernel sizes odd, at most 15; kernelHeight*kernelWidth*inputChannels
/// <= `maxInnerProductLength`; pool sizes 1...16 (1 x 1 = no pooling); -128 <= activationMin <=
/// activationMax <= 127; zero points in -128...127.
struct Conv2dS8Params {
    var inputHeight: Int, inputWidth: Int, inputChannels: Int
    var outputChannels: Int
    var kernelHeight: Int, kernelWidth: Int
    var inputZeroPoint: Int32, outputZeroPoint: Int32
    var activationMin: Int32, activationMax: Int32
    var poolHeight: Int, poolWidth: Int

    init(inputHeight: Int, inputWidth: Int, inputChannels: Int, outputChannels: Int,
                kernelHeight: Int = 3, kernelWidth: Int = 3, inputZeroPoint: Int32, outputZeroPoint: Int32,
                activationMin: Int32 = -128, activationMax: Int32 = 127, poolHeight: Int = 1, poolWidth: Int = 1) {
        self.inputHeight = inputHeight; self.inputWidth = inputWidth; self.inputChannels = inputChannels
        self.outputChannels = outputChannels; self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
        self.inputZeroPoint = inputZeroPoint; self.outputZeroPoint = outputZeroPoint
        self.activationMin = activationMin; self.activationMax = activationMax
        self.poolHeight = poolHeight; self.poolWidth = poolWidth
    }

    var outputHeight: Int { samePoolGeometry(length: inputHeight, pool: poolHeight).output }
    var outputWidth: Int { samePoolGeometry(length: inputWidth, pool: poolWidth).output }
    var outputCount: Int { outputHeight * outputWidth * outputChannels }
}

/// Scratch bytes `conv2dS8` needs: none (the fused pool keeps its running maximum in a register).
func conv2dS8ScratchSize(_ p: Conv2dS8Params) -> Int { 0 }

/// out[oy, ox, co] = max over the pool window's valid cells (y, x) of
///     clamp(outputZeroPoint + MBQM(bias[co] + sum_{ky,kx,ci} (in[y+ky-kh/2, x+kx-kw/2, ci] - z_in) * w[co,ky,kx,ci]))
/// where input cells outside the image contribute nothing (they are the real value 0).
/// Example: 1x1 input [5], z_in 0, one 3x3 kernel with centre 2, bias 1, multiplier 2^30 (0.5), shift 0,
/// z_out 0: acc = 11, out = round(5.5) = 6.
func conv2dS8(
    _ p: Conv2dS8Params, input: UnsafeBufferPointer<Int8>, weights: UnsafeBufferPointer<Int8>,
    bias: UnsafeBufferPointer<Int32>, requant: ChannelRequant, output: UnsafeMutableBufferPointer<Int8>,
    scratch: UnsafeMutableRawBufferPointer
) {
    let H = p.inputHeight, W = p.inputWidth, C = p.inputChannels, K = p.outputChannels
    let kh = p.kernelHeight, kw = p.kernelWidth, ph = p.poolHeight, pw = p.poolWidth
    precondition(input.count >= H * W * C && weights.count >= K * kh * kw * C && bias.count >= K
                 && requant.multipliers.count >= K && requant.shifts.count >= K && output.count >= p.outputCount)
    let gy = samePoolGeometry(length: H, pool: ph), gx = samePoolGeometry(length: W, pool: pw)
    let inp = input.baseAddress!, wts = weights.baseAddress!, out = output.baseAddress!
    let zi = p.inputZeroPoint, zo = p.outputZeroPoint
    let rowStride = W &* C, filterStride = kh &* kw &* C, kRowStride = kw &* C
    var o = 0
    for oy in 0..<gy.output {
        for ox in 0..<gx.output {
            for co in 0..<K {
                var best: Int32 = Int32.min
                let filter = wts + (co &* filterStride)
                for py in 0..<ph {
                    let y = oy &* ph &+ py &- gy.padBefore
                    if y < 0 || y >= H { continue }
                    for px in 0..<pw {
                        let x = ox &* pw &+ px &- gx.padBefore
                        if x < 0 || x >= W { continue }
                        var acc = bias[co]
                        for ky in 0..<kh {
                            let iy = y &+ ky &- kh / 2
                            if iy < 0 || iy >= H { continue }
                            // Valid kx range: 0 <= x + kx - kw/2 < W.
                            let kx0 = max(0, kw / 2 &- x), kx1 = min(kw, W &- x &+ kw / 2)
                            if kx0 >= kx1 { continue }
                            let ix0 = x &+ kx0 &- kw / 2
                            acc = acc &+ dotS8(inp + (iy &* rowStride &+ ix0 &* C), zi,
                                               filter + (ky &* kRowStride &+ kx0 &* C), (kx1 &- kx0) &* C)
                        }
                        let v = zo &+ requant.apply(acc, co)
                        if v > best { best = v }
                    }
                }
                out[o] = clampS8(best, p.activationMin, p.activationMax)
                o &+= 1
            }
        }
    }
}
