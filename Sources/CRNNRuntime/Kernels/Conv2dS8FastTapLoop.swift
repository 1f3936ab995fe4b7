// The loops every micro-kernel variant runs around its multiply-adds, said once.

/// The loop over the taps of one pass over output pixels: for each kernel row ky in 0..<rows and each of its
/// `groups` tap groups j, `run(band, body)` calls
///     body(band + bandOffset + ky * rowBytes + j * bandStep, weights + ky * rowWeightBytes + j * weightStep)
/// (`band` at the pass's first pixel in kernel row 0; `weights` at kernel row 0's first group). The micro-kernels
/// accumulate wrapping Int32 sums, so the order of the calls does not change a bit.
struct Conv2dTapLoop {
    let rows: Int, rowBytes: Int
    let weights: UnsafeRawPointer, rowWeightBytes: Int
    let groups: Int, bandStep: Int, weightStep: Int
    var bandOffset = 0

    @inline(__always)
    func run(_ band: UnsafeRawPointer, _ body: (_ band: UnsafeRawPointer, _ weights: UnsafeRawPointer) -> Void) {
        for ky in 0..<rows {
            var b = band + (bandOffset &+ ky &* rowBytes), w = weights + ky &* rowWeightBytes
            var j = 0
            while j < groups {
                body(b, w)
                b += bandStep
                w += weightStep
                j &+= 1
            }
        }
    }

    /// The groups taken `n` at a time (`whole`, groups / n of them) and the groups / n * n ... groups - 1 left
    /// over (`rest`).
    @inline(__always)
    func split(by n: Int) -> (whole: Conv2dTapLoop, rest: Conv2dTapLoop) {
        let done = groups / n &* n
        let whole = Conv2dTapLoop(rows: rows, rowBytes: rowBytes, weights: weights, rowWeightBytes: rowWeightBytes,
                                  groups: groups / n, bandStep: n &* bandStep, weightStep: n &* weightStep,
                                  bandOffset: bandOffset)
        let rest = Conv2dTapLoop(rows: rows, rowBytes: rowBytes, weights: weights + done &* weightStep,
                                 rowWeightBytes: rowWeightBytes, groups: groups &- done, bandStep: bandStep,
                                 weightStep: weightStep, bandOffset: bandOffset &+ done &* bandStep)
        return (whole, rest)
    }
}

extension Conv2dMicroKernel {
    /// The tap loop of the packed layout of `tapGroup` (see `Conv2dMicroKernel.tapGroup`) for output channels
    /// cb ..< cb + 16: one group of `tapGroup` taps per call, `weights` at the group's 16 channels.
    @inline(__always)
    static func tapLoop(_ g: Conv2dRowGeometry, packed: UnsafeRawPointer, cb: Int) -> Conv2dTapLoop {
        let e = bandElementBytes, groups = (g.kernelWidth &* g.channels &+ tapGroup &- 1) / tapGroup
        let groupStride = g.outputChannels &* tapGroup &* e  // bytes from one tap group's weights to the next
        return Conv2dTapLoop(rows: g.kernelHeight, rowBytes: g.bandRowStride &* e, weights: packed + cb &* tapGroup &* e,
                             rowWeightBytes: groups &* groupStride, groups: groups, bandStep: tapGroup &* e,
                             weightStep: groupStride)
    }
}

/// The 16 Int32 accumulators of one output pixel in a variant's registers.
protocol Conv2dPixelAccumulator {
    /// best[0..<16] = max(best[...], acc), lane by lane.
    func poolMax(_ best: UnsafeMutablePointer<Int32>)
}

/// The pixels of a row, four at a time and then the last width mod 4 one at a time: the accumulators start at
/// `bias`, `four(&a0, &a1, &a2, &a3, x)` adds the taps of pixels x ..< x + 4 (`one(&a, x)` those of pixel x),
/// and each pixel's accumulators are folded into its pooled column (`column[x]`).
@inline(__always)
func conv2dRowPixels<A: Conv2dPixelAccumulator>(width: Int, bias: A, best: UnsafeMutablePointer<Int32>,
                                                column: UnsafePointer<Int32>,
                                                four: (inout A, inout A, inout A, inout A, Int) -> Void,
                                                one: (inout A, Int) -> Void) {
    var x = 0
    while x &+ 4 <= width {
        var a0 = bias, a1 = bias, a2 = bias, a3 = bias
        four(&a0, &a1, &a2, &a3, x)
        a0.poolMax(best + Int(column[x])); a1.poolMax(best + Int(column[x &+ 1]))
        a2.poolMax(best + Int(column[x &+ 2])); a3.poolMax(best + Int(column[x &+ 3]))
        x &+= 4
    }
    while x < width {
        var acc = bias
        one(&acc, x)
        acc.poolMax(best + Int(column[x]))
        x &+= 1
    }
}
