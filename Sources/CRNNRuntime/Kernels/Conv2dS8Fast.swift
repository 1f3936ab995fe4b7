// conv2dS8Fast: the blocked variant of conv2dS8 (same contract, bit-identical output). Split like a TFLite
// Micro kernel into `conv2dS8FastPrepare` (once per model: packed weights, adjusted bias) and `conv2dS8FastRun`
// (every inference); the interpreter keeps the prepared buffer in its arena for the whole run and calls the
// reference `conv2dS8` where `conv2dS8FastSupports` is false. `conv2dS8Fast` (prepare + run in one scratch)
// and the dispatcher `conv2dS8Dispatch` serve callers without an interpreter. Integers only.
//
// Why it is exact (the reference computes acc = bias + sum over VALID taps of (x - z_in) * w):
// 1. The input rows of each pooled output row are copied into a padded band whose border cells hold z_in,
//    so a padded tap contributes (z_in - z_in) * w = 0 and every output can run over all kh*kw taps:
//        acc = (bias - z_in * sum_taps w) + sum_taps x_padded * w
//    Both sides are equal as integers; with wrapping Int32 arithmetic they are equal modulo 2^32, and the true
//    value fits in Int32 (inner products <= maxInnerProductLength), so the bits are identical.
// 2. The fused max-pool takes the maximum of the Int32 accumulators and requantizes once per pooled output.
//    For a multiplier >= 0 the requantization r(acc) = saturate32(floor((acc * m + 2^(n-1)) / 2^n)) is
//    non-decreasing in acc, and so is the clamp. The reference adds z_out with WRAPPING arithmetic
//    (z_out &+ r(acc)), which is non-decreasing only while it does not wrap; so the kernel first bounds every
//    accumulator of channel c by B_c = |bias_c| + 255 * sum |w_c| (|x - z_in| <= 255) and checks that
//    z_out + r(-B_c) and z_out + r(B_c) fit in Int32. Then max_i g(acc_i) == g(max_i acc_i) exactly for
//    g(a) = z_out &+ r(a). If any channel fails that check (only absurd scales do: r(B_c) near 2^31), or a
//    multiplier is negative (invalid), the whole call runs the reference `conv2dS8` instead.
//
// Blocking: the driver here (prepare: packing, adjusted bias, exactness check; run: padded bands, channel blocks,
// fused pool, requantization epilogue) is shared by every micro-kernel; a micro-kernel (`Conv2dMicroKernel`) only
// packs the weights in its own order and computes the Int32 accumulators of one pre-pool row for one block of 16
// output channels. Variants, one file each: `Conv2dMicroKernelPortable` (Conv2dS8FastPortable.swift, SIMD16
// Swift, any CPU), `Conv2dMicroKernelSSE2` (x86-64 baseline, `pmaddwd`), `Conv2dMicroKernelAVX2` (x86-64 with
// -DCRNN_CONV_AVX2), `Conv2dMicroKernelNEON` (aarch64, `smlal`), `Conv2dMicroKernelDotProd` (aarch64 with the dot
// product extension, -DCRNN_CONV_DOTPROD, `sdot`), `Conv2dMicroKernelSMLAD` (Cortex-M4/M7 with -DCRNN_CONV_SMLAD,
// `smlad`). `Conv2dSelectedMicroKernel` (Conv2dS8FastSelect.swift) is the one place that picks the variant at
// compile time; every variant gives the same bits (an Int32 sum of the same products). Output channels must be
// a multiple of 16.

/// Output channels per pass (one SIMD16<Int32> accumulator per pixel).
let conv2dFastChannelBlock = 16

/// Whether `conv2dS8Fast` accepts these shapes (else the dispatcher runs `conv2dS8`).
func conv2dS8FastSupports(_ p: Conv2dS8Params) -> Bool {
    p.outputChannels >= conv2dFastChannelBlock && p.outputChannels % conv2dFastChannelBlock == 0
        && p.inputHeight >= 1 && p.inputWidth >= 1 && p.inputChannels >= 1
        && p.kernelHeight >= 1 && p.kernelHeight % 2 == 1 && p.kernelHeight <= 15
        && p.kernelWidth >= 1 && p.kernelWidth % 2 == 1 && p.kernelWidth <= 15
        && p.poolHeight >= 1 && p.poolHeight <= 16 && p.poolWidth >= 1 && p.poolWidth <= 16
        && p.kernelHeight * p.kernelWidth * p.inputChannels <= maxInnerProductLength
}

@inline(__always) func align16(_ n: Int) -> Int { (n &+ 15) & ~15 }

/// Byte layout of the fast kernel's two buffers for micro-kernel `MK`, each part 16-byte aligned.
/// Prepared (constant per model, written once by `conv2dS8FastPrepare`): packed weights (`MK.packedWeightBytes`);
/// adjusted bias [Cout] Int32; status words (0: 1 when the fast path applies, 1: 1 when the micro-kernel's vector
/// epilogue applies); the epilogue's per-channel constants (`MK.Epilogue.preparedBytes`, 0 for the scalar one).
/// Run scratch (per call): padded input band [(poolHeight + kh - 1) x (W + kw - 1) x Cin] of `MK.bandElementBytes`
/// each, plus 16 bytes a micro-kernel may read (never use) past its end; running pool maximum [outputWidth x Cout]
/// Int32; per input column x, the offset (x's pooled column) * Cout into it, Int32.
struct Conv2dFastLayout {
    let packedBytes: Int, biasBytes: Int, statusBytes: Int, epilogueBytes: Int
    let paddedBytes: Int, bestBytes: Int, columnBytes: Int
    let bandElements: Int
    init<MK: Conv2dMicroKernel>(_ p: Conv2dS8Params, _: MK.Type) {
        packedBytes = align16(MK.packedWeightBytes(p))
        biasBytes = align16(p.outputChannels &* 4)
        statusBytes = 16
        epilogueBytes = align16(MK.Epilogue.preparedBytes(channels: p.outputChannels))
        bandElements = (p.poolHeight &+ p.kernelHeight &- 1) &* (p.inputWidth &+ p.kernelWidth &- 1) &* p.inputChannels
        paddedBytes = align16(bandElements &* MK.bandElementBytes) &+ MK.bandSlackBytes
        bestBytes = align16(p.outputWidth &* p.outputChannels &* 4)
        columnBytes = align16(p.inputWidth &* 4)
    }
    init(_ p: Conv2dS8Params) { self.init(p, Conv2dSelectedMicroKernel.self) }
    var prepared: Int { packedBytes &+ biasBytes &+ statusBytes &+ epilogueBytes }
    /// Offsets in the prepared buffer of the status words and the epilogue's constants.
    var statusOffset: Int { packedBytes &+ biasBytes }
    var epilogueOffset: Int { packedBytes &+ biasBytes &+ statusBytes }
    var run: Int { paddedBytes &+ bestBytes &+ columnBytes }
}

/// What a micro-kernel sees of one pre-pool row: the sizes, and the band's row stride in elements.
struct Conv2dRowGeometry {
    /// Output pixels of the row (= input width W), input channels, kernel size, output channels.
    let width: Int, channels: Int, kernelHeight: Int, kernelWidth: Int, outputChannels: Int
    /// Elements from one band row to the next: (W + kw - 1) * Cin.
    let bandRowStride: Int
}

/// The inner product of the fast convolution for one CPU family. The driver calls `row` once per pre-pool row
/// and 16-channel block; `row` must give, for every x in 0..<width, exactly
///     acc[c] = bias[c] + sum over ky < kh, kx < kw, ci < Cin of band[ky][x + kx][ci] * w[cb + c, ky, kx, ci]
/// (wrapping Int32; the true value fits) and fold it into the pool maximum:
///     best[column[x] + c] = max(best[column[x] + c], acc[c])   for c in 0..<16 (what `poolMax` does).
protocol Conv2dMicroKernel {
    /// The requantization epilogue this variant's CPU family runs (default: the scalar `requantizeRow`).
    associatedtype Epilogue: Conv2dRequantEpilogue = Conv2dEpilogueScalar
    /// 1: the band holds the int8 input; 2: the band holds it sign-extended to Int16 (for `pmaddwd`/`smlal`).
    static var bandElementBytes: Int { get }
    /// The least weight the micro-kernel's arithmetic takes (default -128: any int8). A layer with a smaller one
    /// runs the reference (its prepare step records the fast path as off), e.g. -127 for the `smull` + `smlal`
    /// int16 pair sums of Conv2dMicroKernelNEONMull.
    static var weightMin: Int32 { get }
    /// Whether the int8 band holds x + 128 as unsigned bytes (x ^ 0x80, padding z_in ^ 0x80 too) rather than x:
    /// for `vpdpbusd`, whose band operand is unsigned (default false).
    static var bandFlip: Bool { get }
    /// Bytes after the band the micro-kernel may read (never use: they meet zero weights); zeroed per call.
    /// Default: 16 for Int16 bands, 0 for int8 bands.
    static var bandSlackBytes: Int { get }
    /// Taps of one kernel row the micro-kernel takes per weight element group: the weights are packed as
    ///     packed[ky][k / G][co][k % G] = w[co, ky, tap k]   (k < kw * Cin; zero for the padding of the last group)
    /// with elements of `bandElementBytes` (int8, or sign-extended to Int16). G = 1: one tap broadcast against 16
    /// consecutive channels (portable, NEON `smlal`); 2: tap pairs (`pmaddwd`); 4: tap quads (`sdot`). 0: no packed
    /// copy, `row` reads the OHWI int8 weights in place (the driver passes them as `packed`; `smlad`, for RAM).
    static var tapGroup: Int { get }
    /// Bytes per output channel of the micro-kernel's own constants, stored after the packed weights (default: 4
    /// for a flipped band, 0 otherwise).
    static var packedChannelBytes: Int { get }
    /// Writes those constants (`packedChannelBytes` per channel) at `into` (default: for a flipped band,
    /// 128 * sum of the channel's weights as Int32, the correction sum (x + 128) w - 128 sum w = sum x w that the
    /// `vpdpbusd` kernels subtract at the start; nothing otherwise).
    static func packChannelConstants(_ p: Conv2dS8Params, weights: UnsafePointer<Int8>, into: UnsafeMutableRawPointer)
    /// One pre-pool row, output channels cb ..< cb + 16. `band` points at the band row of kernel row 0 (element
    /// type per `bandElementBytes`), `bias` at the adjusted bias of channel cb, `best` at the pool maximum of
    /// channel cb of pooled column 0; `column[x]` is the offset of x's pooled column in `best`.
    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>)
}

extension Conv2dMicroKernel {
    static var bandSlackBytes: Int { bandElementBytes == 1 ? 0 : 16 }
    static var bandFlip: Bool { false }
    static var weightMin: Int32 { -128 }
    static var packedChannelBytes: Int { bandFlip ? 4 : 0 }
    static func packChannelConstants(_ p: Conv2dS8Params, weights: UnsafePointer<Int8>, into: UnsafeMutableRawPointer) {
        if !bandFlip { return }
        let taps = p.kernelHeight &* p.kernelWidth &* p.inputChannels
        let corr = into.bindMemory(to: Int32.self, capacity: p.outputChannels)
        for co in 0..<p.outputChannels { corr[co] = 128 &* conv2dFastWeightSums(weights + co &* taps, taps).sum }
    }

    /// The channel constants of channels cb ..< cb + 16 in the packed buffer (after the packed weights) of a layer
    /// with geometry `g`.
    @inline(__always)
    static func channelConstants(_ g: Conv2dRowGeometry, packed: UnsafeRawPointer, cb: Int) -> UnsafeRawPointer {
        let groups = (g.kernelWidth &* g.channels &+ tapGroup &- 1) / tapGroup
        return packed + (g.kernelHeight &* groups &* tapGroup &* g.outputChannels &* bandElementBytes &+ cb &* packedChannelBytes)
    }

    /// Bytes of the packed weights in `tapGroup` layout (`packedWeightBytes` without the channel constants).
    static func packedTapBytes(_ p: Conv2dS8Params) -> Int {
        if tapGroup == 0 { return 0 }
        let groups = (p.kernelWidth &* p.inputChannels &+ tapGroup &- 1) / tapGroup
        return p.kernelHeight &* groups &* tapGroup &* p.outputChannels &* bandElementBytes
    }

    /// Bytes of the packed weights and the micro-kernel's channel constants for `p` (shapes where
    /// `conv2dS8FastSupports(p)`).
    static func packedWeightBytes(_ p: Conv2dS8Params) -> Int {
        packedTapBytes(p) &+ packedChannelBytes &* p.outputChannels
    }

    /// Packs OHWI int8 weights into `packed` (`packedWeightBytes(p)` bytes, 16-byte aligned) in the layout of
    /// `tapGroup`, then the channel constants.
    static func pack(_ p: Conv2dS8Params, weights: UnsafePointer<Int8>, packed: UnsafeMutableRawPointer) {
        if packedChannelBytes > 0 { packChannelConstants(p, weights: weights, into: packed + packedTapBytes(p)) }
        if tapGroup == 0 { return }
        if bandElementBytes == 1 {
            conv2dPackTapGroups(p, weights, packed.assumingMemoryBound(to: Int8.self), group: tapGroup)
        } else {
            conv2dPackTapGroups(p, weights, packed.assumingMemoryBound(to: Int16.self), group: tapGroup)
        }
    }
}

/// packed[((ky * groups + k / G) * Cout + co) * G + k % G] = w[co, ky, k] (k < kw * Cin), 0 for k >= kw * Cin.
func conv2dPackTapGroups<E: FixedWidthInteger & SignedInteger>(_ p: Conv2dS8Params, _ weights: UnsafePointer<Int8>,
                                                               _ dst: UnsafeMutablePointer<E>, group G: Int) {
    let K = p.outputChannels, kh = p.kernelHeight, rowTaps = p.kernelWidth &* p.inputChannels
    let groups = (rowTaps &+ G &- 1) / G, taps = kh &* rowTaps
    for ky in 0..<kh {
        for q in 0..<groups {
            for co in 0..<K {
                for t in 0..<G {
                    let k = q &* G &+ t
                    dst[((ky &* groups &+ q) &* K &+ co) &* G &+ t] = k < rowTaps ? E(weights[co &* taps &+ ky &* rowTaps &+ k]) : 0
                }
            }
        }
    }
}

/// Bytes of the prepared (per-model constant) buffer of `conv2dS8FastPrepare` / `conv2dS8FastRun`; 0 when
/// `conv2dS8FastSupports(p)` is false. Depends on the selected micro-kernel. Example: 3x3, 32 -> 32 channels:
/// portable 9216 + 128 + 16 = 9360 bytes; NEON (Int16 weights) 18432 + 128 + 16 = 18576 bytes; SSE2/AVX2 (Int16
/// weights and the epilogue's 32 Doubles) 18432 + 128 + 16 + 256 = 18832 bytes.
func conv2dS8FastPreparedSize(_ p: Conv2dS8Params) -> Int {
    conv2dS8FastSupports(p) ? Conv2dFastLayout(p).prepared : 0
}

/// Scratch bytes `conv2dS8FastRun` needs per call (16-byte aligned start expected). Example: the
/// 65 x 12 x 32 -> 32 layer with pool 3 needs 2240 + 512 + 48 = 2800 bytes with the portable micro-kernel,
/// 4480 + 16 + 512 + 48 = 5056 with an Int16 band (SSE2/AVX2/NEON).
func conv2dS8FastRunScratchSize(_ p: Conv2dS8Params) -> Int {
    conv2dS8FastSupports(p) ? Conv2dFastLayout(p).run : 0
}

/// Scratch bytes `conv2dS8Fast` needs (prepared buffer and run scratch in one): 12160 for the layer above
/// (portable), 23632 (Int16 variants).
func conv2dS8FastScratchSize(_ p: Conv2dS8Params) -> Int {
    conv2dS8FastSupports(p) ? Conv2dFastLayout(p).prepared &+ Conv2dFastLayout(p).run : 0
}

/// Scratch bytes `conv2dS8Dispatch` needs: the fast kernel's when it applies, else the reference's.
func conv2dS8DispatchScratchSize(_ p: Conv2dS8Params) -> Int {
    conv2dS8FastSupports(p) ? conv2dS8FastScratchSize(p) : conv2dS8ScratchSize(p)
}

/// Runs `conv2dS8Fast` when `conv2dS8FastSupports(p)` and the scratch is large enough; otherwise the
/// reference `conv2dS8`. Same output bits either way.
func conv2dS8Dispatch(
    _ p: Conv2dS8Params, input: UnsafeBufferPointer<Int8>, weights: UnsafeBufferPointer<Int8>,
    bias: UnsafeBufferPointer<Int32>, requant: ChannelRequant, output: UnsafeMutableBufferPointer<Int8>,
    scratch: UnsafeMutableRawBufferPointer
) {
    if conv2dS8FastSupports(p) && scratch.count >= conv2dS8FastScratchSize(p) {
        conv2dS8Fast(p, input: input, weights: weights, bias: bias, requant: requant, output: output, scratch: scratch)
    } else {
        conv2dS8(p, input: input, weights: weights, bias: bias, requant: requant, output: output, scratch: scratch)
    }
}

/// The blocked `conv2dS8` in one call: `conv2dS8FastPrepare` into the start of `scratch`, then
/// `conv2dS8FastRun` with the rest. Same output bits as `conv2dS8` (see the file comment), for shapes where
/// `conv2dS8FastSupports(p)`; `scratch` holds `conv2dS8FastScratchSize(p)` bytes, 16-byte aligned.
func conv2dS8Fast(
    _ p: Conv2dS8Params, input: UnsafeBufferPointer<Int8>, weights: UnsafeBufferPointer<Int8>,
    bias: UnsafeBufferPointer<Int32>, requant: ChannelRequant, output: UnsafeMutableBufferPointer<Int8>,
    scratch: UnsafeMutableRawBufferPointer
) {
    let layout = Conv2dFastLayout(p)
    precondition(conv2dS8FastSupports(p) && scratch.count >= layout.prepared &+ layout.run)
    let prepared = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<layout.prepared])
    conv2dS8FastPrepare(p, weights: weights, bias: bias, requant: requant, prepared: prepared)
    conv2dS8FastRun(p, input: input, weights: weights, bias: bias, requant: requant, prepared: UnsafeRawBufferPointer(prepared),
                    output: output, scratch: UnsafeMutableRawBufferPointer(rebasing: scratch[layout.prepared..<scratch.count]))
}

/// Prepare step (once per model, like TFLite Micro's Prepare): packs the weights (the micro-kernel's order), stores
/// bias - z_in * sum of the channel's weights, and records whether the pooled-maximum shortcut is exact for
/// every channel (file comment, point 2). `prepared` holds `conv2dS8FastPreparedSize(p)` bytes, 16-aligned.
func conv2dS8FastPrepare(
    _ p: Conv2dS8Params, weights: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>,
    requant: ChannelRequant, prepared: UnsafeMutableRawBufferPointer
) {
    conv2dS8FastPrepare(p, weights: weights, bias: bias, requant: requant, prepared: prepared,
                        kernel: Conv2dSelectedMicroKernel.self)
}

/// `conv2dS8FastPrepare` for an explicit micro-kernel (tests run every variant the CPU has).
func conv2dS8FastPrepare<MK: Conv2dMicroKernel>(
    _ p: Conv2dS8Params, weights: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>,
    requant: ChannelRequant, prepared: UnsafeMutableRawBufferPointer, kernel: MK.Type
) {
    let K = p.outputChannels, taps = p.kernelHeight &* p.kernelWidth &* p.inputChannels
    let layout = Conv2dFastLayout(p, MK.self)
    precondition(conv2dS8FastSupports(p) && prepared.count >= layout.prepared && weights.count >= K * taps
                 && bias.count >= K && requant.multipliers.count >= K && requant.shifts.count >= K)
    let base = prepared.baseAddress!
    MK.pack(p, weights: weights.baseAddress!, packed: base)
    let adjBias = (base + layout.packedBytes).assumingMemoryBound(to: Int32.self)
    let status = (base + layout.statusOffset).assumingMemoryBound(to: Int32.self)
    let wts = weights.baseAddress!, zi = p.inputZeroPoint
    // The vector epilogue's exactness needs a bound on every accumulator the run can make: the adjusted bias plus
    // 128 * sum |w| (the band holds raw int8 values, |x| <= 128), capped at 2^31 (an Int32 accumulator).
    var bounds = [Int64](repeating: 0, count: MK.Epilogue.preparedBytes(channels: K) > 0 ? K : 0)
    for co in 0..<K {
        let sums = conv2dFastWeightSums(wts + co &* taps, taps)
        adjBias[co] = bias[co] &- zi &* sums.sum
        if co < bounds.count {
            let b = Int64(adjBias[co])
            bounds[co] = min((b < 0 ? -b : b) &+ 128 &* Int64(sums.sumAbs), Int64(1) << 31)
        }
    }
    status[0] = conv2dS8FastIsExact(p, weights: weights, bias: bias, requant: requant, kernel: MK.self) ? 1 : 0
    status[1] = bounds.withUnsafeBufferPointer {
        MK.Epilogue.prepare(requant: requant, channels: K, accumulatorBounds: $0,
                            into: base + layout.epilogueOffset) ? 1 : 0
    }
}

/// Whether the pooled-maximum shortcut is exact for every output channel (file comment, point 2): the status
/// `conv2dS8FastPrepare` records. The interpreter's planner asks it before it runs a conv in row bands.
func conv2dS8FastIsExact(_ p: Conv2dS8Params, weights: UnsafeBufferPointer<Int8>, bias: UnsafeBufferPointer<Int32>,
                         requant: ChannelRequant) -> Bool {
    conv2dS8FastIsExact(p, weights: weights, bias: bias, requant: requant, kernel: Conv2dSelectedMicroKernel.self)
}

/// `conv2dS8FastIsExact` for micro-kernel `MK`: also false when a weight is below `MK.weightMin`.
func conv2dS8FastIsExact<MK: Conv2dMicroKernel>(_ p: Conv2dS8Params, weights: UnsafeBufferPointer<Int8>,
                                                bias: UnsafeBufferPointer<Int32>, requant: ChannelRequant,
                                                kernel: MK.Type) -> Bool {
    let K = p.outputChannels, taps = p.kernelHeight &* p.kernelWidth &* p.inputChannels
    precondition(weights.count >= K * taps && bias.count >= K && requant.multipliers.count >= K && requant.shifts.count >= K)
    if MK.weightMin > -128 {
        for i in 0..<(K &* taps) where Int32(weights[i]) < MK.weightMin { return false }
    }
    for co in 0..<K {
        let sumAbs = conv2dFastWeightSums(weights.baseAddress! + co &* taps, taps).sumAbs
        if !conv2dFastPoolMaxIsExact(bias: bias[co], weightAbsSum: sumAbs, multiplier: requant.multipliers[co],
                                     shift: requant.shifts[co], outputZeroPoint: p.outputZeroPoint) {
            return false
        }
    }
    return true
}

/// The sum and the sum of magnitudes of one filter's `taps` weights (wrapping Int32; they fit).
func conv2dFastWeightSums(_ filter: UnsafePointer<Int8>, _ taps: Int) -> (sum: Int32, sumAbs: Int32) {
    var sum: Int32 = 0, sumAbs: Int32 = 0, t = 0
    while t < taps {
        let v = Int32(filter[t])
        sum = sum &+ v
        sumAbs = sumAbs &+ (v < 0 ? 0 &- v : v)
        t &+= 1
    }
    return (sum, sumAbs)
}

/// Run step (every inference): the convolution from a buffer written by `conv2dS8FastPrepare` with the same
/// `p`, `weights`, `bias` and `requant`. When the prepare step found the pooled-maximum shortcut inexact for
/// some channel (only for absurd scales), runs the reference `conv2dS8` with those operands instead.
/// `scratch` holds `conv2dS8FastRunScratchSize(p)` bytes, 16-byte aligned.
func conv2dS8FastRun(
    _ p: Conv2dS8Params, input: UnsafeBufferPointer<Int8>, weights: UnsafeBufferPointer<Int8>,
    bias: UnsafeBufferPointer<Int32>, requant: ChannelRequant, prepared: UnsafeRawBufferPointer,
    output: UnsafeMutableBufferPointer<Int8>, scratch: UnsafeMutableRawBufferPointer
) {
    conv2dS8FastRun(p, input: input, weights: weights, bias: bias, requant: requant, prepared: prepared,
                    output: output, scratch: scratch, kernel: Conv2dSelectedMicroKernel.self)
}

/// `conv2dS8FastRun` for an explicit micro-kernel; `prepared` must come from `conv2dS8FastPrepare` with the same one.
func conv2dS8FastRun<MK: Conv2dMicroKernel>(
    _ p: Conv2dS8Params, input: UnsafeBufferPointer<Int8>, weights: UnsafeBufferPointer<Int8>,
    bias: UnsafeBufferPointer<Int32>, requant: ChannelRequant, prepared: UnsafeRawBufferPointer,
    output: UnsafeMutableBufferPointer<Int8>, scratch: UnsafeMutableRawBufferPointer, kernel: MK.Type
) {
    if !conv2dS8FastPreparedIsExact(p, prepared, MK.self) {
        conv2dS8(p, input: input, weights: weights, bias: bias, requant: requant, output: output,
                 scratch: UnsafeMutableRawBufferPointer(start: nil, count: 0))
        return
    }
    conv2dS8FastRunRows(p, rows: 0..<p.outputHeight, input: input, inputRing: p.inputHeight, weights: weights,
                        requant: requant, prepared: prepared, output: output, outputRing: p.outputHeight,
                        scratch: scratch, kernel: MK.self)
}

/// Whether the prepare step found the pooled-maximum shortcut exact for every channel (its status word;
/// `conv2dS8FastRunRows` checks the same word with the layout it computes anyway).
func conv2dS8FastPreparedIsExact<MK: Conv2dMicroKernel>(_ p: Conv2dS8Params, _ prepared: UnsafeRawBufferPointer,
                                                        _: MK.Type) -> Bool {
    let layout = Conv2dFastLayout(p, MK.self)
    precondition(conv2dS8FastSupports(p) && prepared.count >= layout.prepared)
    return prepared.load(fromByteOffset: layout.statusOffset, as: Int32.self) == 1
}

/// `conv2dS8FastRunRows` with the selected micro-kernel.
func conv2dS8FastRunRows(
    _ p: Conv2dS8Params, rows: Range<Int>, input: UnsafeBufferPointer<Int8>, inputRing: Int,
    weights: UnsafeBufferPointer<Int8>, requant: ChannelRequant, prepared: UnsafeRawBufferPointer,
    output: UnsafeMutableBufferPointer<Int8>, outputRing: Int, scratch: UnsafeMutableRawBufferPointer
) {
    conv2dS8FastRunRows(p, rows: rows, input: input, inputRing: inputRing, weights: weights, requant: requant,
                        prepared: prepared, output: output, outputRing: outputRing, scratch: scratch,
                        kernel: Conv2dSelectedMicroKernel.self)
}

/// The fast path for the pooled output rows `rows` only, on row rings (the interpreter's conv bands,
/// Interpreter/ConvBands.swift): input row iy is read at row `iy % inputRing` of `input`, pooled output row oy is
/// written at row `oy % outputRing` of `output`. With `inputRing` = H and `outputRing` = the output height these
/// are the whole tensors. Every output value is the one `conv2dS8FastRun` computes (the same band, the same
/// sums); the caller guarantees that the input rows the band reads (`conv2dS8FastInputRows`) are in the ring and
/// that the prepared status is exact (`conv2dS8FastPreparedIsExact`).
func conv2dS8FastRunRows<MK: Conv2dMicroKernel>(
    _ p: Conv2dS8Params, rows: Range<Int>, input: UnsafeBufferPointer<Int8>, inputRing: Int,
    weights: UnsafeBufferPointer<Int8>, requant: ChannelRequant, prepared: UnsafeRawBufferPointer,
    output: UnsafeMutableBufferPointer<Int8>, outputRing: Int, scratch: UnsafeMutableRawBufferPointer, kernel: MK.Type
) {
    let H = p.inputHeight, W = p.inputWidth, C = p.inputChannels, K = p.outputChannels
    let kh = p.kernelHeight, kw = p.kernelWidth, ph = p.poolHeight, pw = p.poolWidth
    let layout = Conv2dFastLayout(p, MK.self)
    let gy = samePoolGeometry(length: H, pool: ph), gx = samePoolGeometry(length: W, pool: pw)
    precondition(conv2dS8FastSupports(p) && prepared.count >= layout.prepared
                 && prepared.load(fromByteOffset: layout.statusOffset, as: Int32.self) == 1
                 && scratch.count >= layout.run
                 && inputRing >= 1 && inputRing <= H && input.count >= inputRing * W * C
                 && outputRing >= 1 && outputRing <= gy.output && output.count >= outputRing * gx.output * K
                 && requant.multipliers.count >= K && requant.shifts.count >= K
                 && rows.lowerBound >= 0 && rows.upperBound <= gy.output)
    let pbase = prepared.baseAddress!
    let adjBias = (pbase + layout.packedBytes).assumingMemoryBound(to: Int32.self)
    let base = scratch.baseAddress!
    let padded = UnsafeMutableRawPointer(base)
    let best = (base + layout.paddedBytes).assumingMemoryBound(to: Int32.self)
    let column = (base + (layout.paddedBytes &+ layout.bestBytes)).assumingMemoryBound(to: Int32.self)
    for x in 0..<W { column[x] = Int32(truncatingIfNeeded: ((x &+ gx.padBefore) / pw) &* K) }
    let inp = input.baseAddress!, out = output.baseAddress!
    let zi = p.inputZeroPoint, zo = p.outputZeroPoint

    // Padded band: the ph + kh - 1 input rows one pooled output row reads, with kw/2 columns either side;
    // cells outside the image hold z_in (they contribute 0 after the bias correction). Int16 bands also get
    // their 16 bytes of read slack zeroed (a micro-kernel pairs a last odd tap with a zero weight there).
    let PW = W &+ kw &- 1, top = kh / 2, left = kw / 2
    let paddedRow = PW &* C, bandRows = ph &+ kh &- 1
    let eb = MK.bandElementBytes
    if MK.bandSlackBytes > 0 {
        let slack = padded + layout.bandElements &* eb
        for j in 0..<MK.bandSlackBytes { slack.storeBytes(of: 0, toByteOffset: j, as: UInt8.self) }
    }
    let g = Conv2dRowGeometry(width: W, channels: C, kernelHeight: kh, kernelWidth: kw, outputChannels: K,
                              bandRowStride: paddedRow)
    let packed = layout.packedBytes == 0 ? UnsafeRawPointer(weights.baseAddress!) : UnsafeRawPointer(pbase)  // 0: read in place
    let outW = gx.output
    let vectorEpilogue = prepared.load(fromByteOffset: layout.statusOffset &+ 4, as: Int32.self) == 1
        && p.activationMin <= p.activationMax  // (a model file always has min <= max)
    let epilogueConstants = UnsafeRawPointer(pbase + layout.epilogueOffset)
    for oy in rows {
        var b = 0
        while b < outW &* K { best[b] = Int32.min; b &+= 1 }
        let y0 = oy &* ph &- gy.padBefore  // first pre-pool row; band row r is input row y0 - top + r
        for r in 0..<bandRows {
            let iy = y0 &- top &+ r
            let src = iy < 0 || iy >= H ? nil : inp + (iy % inputRing) &* W &* C
            if eb == 2 {
                conv2dFastFillBandRow(padded.assumingMemoryBound(to: Int16.self) + r &* paddedRow, src, W &* C, left &* C,
                                      paddedRow, Int16(truncatingIfNeeded: zi))
            } else {
                conv2dFastFillBandRow(padded.assumingMemoryBound(to: Int8.self) + r &* paddedRow, src, W &* C, left &* C,
                                      paddedRow, Int8(truncatingIfNeeded: zi), flip: MK.bandFlip ? -128 : 0)
            }
        }
        for py in 0..<ph {
            let y = y0 &+ py
            if y < 0 || y >= H { continue }
            let band = UnsafeRawPointer(padded + py &* paddedRow &* eb)
            var cb = 0
            while cb < K {
                MK.row(g, band: band, packed: packed, cb: cb, bias: adjBias + cb, best: best + cb, column: column)
                cb &+= conv2dFastChannelBlock
            }
        }
        // Epilogue: one requantization per pooled output (monotonicity, see the file comment).
        let o = out + (oy % outputRing) &* outW &* K
        if vectorEpilogue {
            MK.Epilogue.run(best, count: outW &* K, channels: K, constants: epilogueConstants, zo: zo,
                            lo: p.activationMin, hi: p.activationMax, out: o)
        } else {
            let mults = requant.multipliers.baseAddress!, shifts = requant.shifts.baseAddress!
            for ox in 0..<outW {
                requantizeRow(best + ox &* K, mults, shifts, K, zo, p.activationMin, p.activationMax, o + ox &* K)
            }
        }
    }
}

/// The input rows pooled output row `oy` reads: its band, clipped to the image (may be empty at the edges of a
/// tiny input). A ring of `conv2dS8FastBandRows(p)` input rows always holds them.
func conv2dS8FastInputRows(_ p: Conv2dS8Params, outputRow oy: Int) -> Range<Int> {
    let gy = samePoolGeometry(length: p.inputHeight, pool: p.poolHeight)
    let first = oy &* p.poolHeight &- gy.padBefore &- p.kernelHeight / 2
    let lo = max(0, first), hi = min(p.inputHeight, first &+ conv2dS8FastBandRows(p))
    return lo..<max(lo, hi)
}

/// Input rows one band of `conv2dS8FastRun` reads: pool height + kernel height - 1.
func conv2dS8FastBandRows(_ p: Conv2dS8Params) -> Int { p.poolHeight &+ p.kernelHeight &- 1 }

/// One band row: `left` cells of z_in, the `count` input values of `src` (all z_in when `src` is nil: a row
/// outside the image), z_in up to `rowElements`, every cell xor `flip` (0, or 0x80 for an int8 band that holds
/// x + 128 as unsigned bytes: `Conv2dMicroKernel.bandFlip`). `E` is Int8 or Int16 (sign extension).
@inline(__always)
func conv2dFastFillBandRow<E: FixedWidthInteger & SignedInteger>(
    _ dst: UnsafeMutablePointer<E>, _ src: UnsafePointer<Int8>?, _ count: Int, _ left: Int, _ rowElements: Int, _ zi: E,
    flip: E = 0
) {
    let zf = zi ^ flip
    guard let src else {
        var j = 0
        while j < rowElements { dst[j] = zf; j &+= 1 }
        return
    }
    var j = 0
    while j < left { dst[j] = zf; j &+= 1 }
    let mid = dst + left
    j = 0
    while j < count { mid[j] = E(truncatingIfNeeded: src[j]) ^ flip; j &+= 1 }
    j = left &+ count
    while j < rowElements { dst[j] = zf; j &+= 1 }
}

/// Whether z_out &+ requant(acc) is non-decreasing over every accumulator channel c can reach,
/// |acc| <= |bias| + 255 * sum |w| (file comment, point 2).
func conv2dFastPoolMaxIsExact(bias: Int32, weightAbsSum: Int32, multiplier: Int32, shift: Int32,
                              outputZeroPoint: Int32) -> Bool {
    if multiplier < 0 || shift < -31 || shift > 30 { return false }
    let bound64 = (bias < 0 ? -Int64(bias) : Int64(bias)) + 255 * Int64(weightAbsSum)
    let bound = Int32(truncatingIfNeeded: bound64 > Int64(Int32.max) ? Int64(Int32.max) : bound64)
    let hi = Int64(outputZeroPoint) + Int64(multiplyByQuantizedMultiplier(bound, multiplier, shift))
    let lo = Int64(outputZeroPoint) + Int64(multiplyByQuantizedMultiplier(0 &- bound, multiplier, shift))
    return hi <= Int64(Int32.max) && lo >= Int64(Int32.min)
}

/// best[offset ..< offset + 16] = max(best[...], acc), lane by lane (the generic `pointwiseMax` is not inlined).
@inline(__always)
func poolMax(_ best: UnsafeMutablePointer<Int32>, _ offset: Int32, _ acc: SIMD16<Int32>) {
    let ptr = UnsafeMutableRawPointer(best + Int(offset))
    let old = ptr.loadUnaligned(as: SIMD16<Int32>.self)
    var r = SIMD16<Int32>()
    for i in 0..<16 { r[i] = old[i] > acc[i] ? old[i] : acc[i] }
    ptr.storeBytes(of: r, as: SIMD16<Int32>.self)
}


/// The requantization epilogue of the fast convolution: `out[i] = requantizeS8(best[i], m[c], s[c], zo, lo, hi)` for
/// the pooled maxima of one output row (`count` values, channel c = i mod `channels`). A vector variant may apply
/// only to some layers: `prepare` (once per model) writes its per-channel constants and says whether it gives the
/// reference's bits for every accumulator within the bounds; where it does not, the driver runs `requantizeRow`.
protocol Conv2dRequantEpilogue {
    /// Bytes of per-channel constants for `channels` output channels (0: no vector epilogue).
    static func preparedBytes(channels: Int) -> Int
    /// Writes the constants into `into` (16-byte aligned); returns whether `run` is exact for every accumulator
    /// `acc` of channel c with |acc| <= `accumulatorBounds[c]`, given that z_out &+ the requantized value does not
    /// wrap there (the fast path's pooled-maximum check).
    static func prepare(requant: ChannelRequant, channels: Int, accumulatorBounds: UnsafeBufferPointer<Int64>,
                        into: UnsafeMutableRawPointer) -> Bool
    /// The epilogue of one pooled row (`count` a multiple of `channels`, `channels` a multiple of 16, lo <= hi).
    static func run(_ best: UnsafePointer<Int32>, count: Int, channels: Int, constants: UnsafeRawPointer,
                    zo: Int32, lo: Int32, hi: Int32, out: UnsafeMutablePointer<Int8>)
}

/// No vector epilogue: the driver runs the scalar `requantizeRow` (the reference requantization).
enum Conv2dEpilogueScalar: Conv2dRequantEpilogue {
    static func preparedBytes(channels: Int) -> Int { 0 }
    static func prepare(requant: ChannelRequant, channels: Int, accumulatorBounds: UnsafeBufferPointer<Int64>,
                        into: UnsafeMutableRawPointer) -> Bool { false }
    static func run(_ best: UnsafePointer<Int32>, count: Int, channels: Int, constants: UnsafeRawPointer,
                    zo: Int32, lo: Int32, hi: Int32, out: UnsafeMutablePointer<Int8>) {
        preconditionFailure("the scalar epilogue has no vector path")
    }
}
