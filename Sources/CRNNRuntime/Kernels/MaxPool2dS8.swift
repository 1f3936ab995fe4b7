// maxPool2dS8: max-pooling with pool = stride and TF 'same' padding (padded cells never win). Reference.

/// Shapes of a `maxPool2dS8` call: input [height, width, channels] int8 (HWC); output
/// [ceil(height / poolHeight), ceil(width / poolWidth), channels], same quantization as the input.
/// Valid ranges: sizes >= 1, pool sizes 1...16. Padding: total = out * pool - in, floor(total / 2) before.
struct MaxPool2dS8Params {
    var height: Int, width: Int, channels: Int
    var poolHeight: Int, poolWidth: Int
    init(height: Int, width: Int, channels: Int, poolHeight: Int, poolWidth: Int) {
        self.height = height; self.width = width; self.channels = channels
        self.poolHeight = poolHeight; self.poolWidth = poolWidth
    }
    var outputHeight: Int { samePoolGeometry(length: height, pool: poolHeight).output }
    var outputWidth: Int { samePoolGeometry(length: width, pool: poolWidth).output }
    var outputCount: Int { outputHeight * outputWidth * channels }
}

/// Scratch bytes `maxPool2dS8` needs: none.
func maxPool2dS8ScratchSize(_ p: MaxPool2dS8Params) -> Int { 0 }

/// out[oy, ox, c] = max of in[y, x, c] over the valid cells of window (oy, ox).
/// Example: a 1 x 3 row [1, 9, 4] with pool 1 x 2 -> out width 2, padding 1 after: [9, 4].
func maxPool2dS8(_ p: MaxPool2dS8Params, input: UnsafeBufferPointer<Int8>,
                        output: UnsafeMutableBufferPointer<Int8>, scratch: UnsafeMutableRawBufferPointer) {
    let H = p.height, W = p.width, C = p.channels
    precondition(input.count >= H * W * C && output.count >= p.outputCount)
    let gy = samePoolGeometry(length: H, pool: p.poolHeight), gx = samePoolGeometry(length: W, pool: p.poolWidth)
    let inp = input.baseAddress!, out = output.baseAddress!
    var o = 0
    for oy in 0..<gy.output {
        let y0 = max(0, oy &* p.poolHeight &- gy.padBefore), y1 = min(H, (oy &+ 1) &* p.poolHeight &- gy.padBefore)
        for ox in 0..<gx.output {
            let x0 = max(0, ox &* p.poolWidth &- gx.padBefore), x1 = min(W, (ox &+ 1) &* p.poolWidth &- gx.padBefore)
            for c in 0..<C {
                var best = Int8.min
                for y in y0..<y1 {
                    for x in x0..<x1 {
                        let v = inp[(y &* W &+ x) &* C &+ c]
                        if v > best { best = v }
                    }
                }
                out[o] = best
                o &+= 1
            }
        }
    }
}
