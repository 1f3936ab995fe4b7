// Shared types and inner loops of the int8 kernels. Integers only.
//
// Conventions of every kernel (docs/quantization.md):
// - Activations are int8 with a per-tensor zero point z in -128...127: real = scale * (q - z).
// - Weights are int8 symmetric per output channel (zero point 0); biases int32 in units of
//   input_scale * weight_scale[c], so that `acc = bias[c] + sum (x - z_x) * w` is the exact integer product.
// - `acc` is rescaled to the output by `multiplyByQuantizedMultiplier(acc, multipliers[c], shifts[c])`, whose
//   real value `multipliers[c] * 2^(shifts[c] - 31)` = input_scale * weight_scale[c] / output_scale, then the
//   output zero point is added and the result clamped to `activationMin...activationMax` (a fused ReLU is
//   `activationMin = outputZeroPoint`).
// - Accumulators are Int32 with wrapping arithmetic; inner products are limited to 32768 terms so that
//   |sum| < 2^31 for any int8 data (255 * 128 * 32768 = 2^30 - 2^23... plus a bias below 2^30).
// - Tensors are dense row-major; images are HWC (batch 1, "NHWC" without N).
// - The caller owns all memory: inputs, outputs and scratch buffers are passed in; kernels never allocate.

/// Per-output-channel requantization parameters (see `multiplyByQuantizedMultiplier`): `multipliers[c]` in
/// 0...Int32.max (normally 2^30...2^31-1), `shifts[c]` in -31...30.
package struct ChannelRequant {
    var multipliers: UnsafeBufferPointer<Int32>
    var shifts: UnsafeBufferPointer<Int32>
    package init(multipliers: UnsafeBufferPointer<Int32>, shifts: UnsafeBufferPointer<Int32>) {
        self.multipliers = multipliers
        self.shifts = shifts
    }
    @inline(__always) func apply(_ acc: Int32, _ c: Int) -> Int32 {
        multiplyByQuantizedMultiplier(acc, multipliers[c], shifts[c])
    }
}

/// Largest inner-product length any kernel accepts (keeps Int32 accumulators exact).
let maxInnerProductLength = 32768

/// sum_i (a[i] - aZero) * b[i] over n terms, wrapping Int32 arithmetic (exact within the documented ranges).
@inline(__always)
func dotS8(_ a: UnsafePointer<Int8>, _ aZero: Int32, _ b: UnsafePointer<Int8>, _ n: Int) -> Int32 {
    var acc: Int32 = 0
    var i = 0
    while i < n {
        acc = acc &+ (Int32(a[i]) &- aZero) &* Int32(b[i])
        i &+= 1
    }
    return acc
}

/// Clamp to activationMin...activationMax and store as int8.
@inline(__always)
func clampS8(_ v: Int32, _ lo: Int32, _ hi: Int32) -> Int8 {
    Int8(truncatingIfNeeded: v < lo ? lo : (v > hi ? hi : v))
}

/// clamp(z_out &+ multiplyByQuantizedMultiplier(acc, m, s)) as int8, written so that a loop of it vectorizes
/// (the fast kernels' epilogue): floor((x + 2^(k-1)) / 2^k) with k = 31 - s in 1...62 is one add and one
/// arithmetic shift, equal to `roundingShiftRight`'s overflow-free form because |x| = |acc * m| <= 2^62, so the
/// add cannot overflow. Any multiplier; requires `s` in -31...30 (the range the model format validates).
/// On 32-bit targets (Cortex-M, armv7), `requantizeS8Narrow`: the same integers without 64-bit shifts by a variable
/// count, which there cost a branchy sequence or a library call (about 100 instructions a value on Cortex-M7).
@inline(__always)
func requantizeS8(_ acc: Int32, _ m: Int32, _ s: Int32, _ zo: Int32, _ lo: Int32, _ hi: Int32) -> Int8 {
    #if _pointerBitWidth(_32)
    return requantizeS8Narrow(acc, m, s, zo, lo, hi)
    #else
    return requantizeS8Wide(acc, m, s, zo, lo, hi)
    #endif
}

/// `requantizeS8` in 64-bit arithmetic (the definition; 64-bit targets).
@inline(__always)
func requantizeS8Wide(_ acc: Int32, _ m: Int32, _ s: Int32, _ zo: Int32, _ lo: Int32, _ hi: Int32) -> Int8 {
    let k = Int64(31 &- s)
    let prod = Int64(acc) &* Int64(m)
    let r = (prod &+ (Int64(1) &<< (k &- 1))) &>> k
    let sat = r < Int64(Int32.min) ? Int64(Int32.min) : (r > Int64(Int32.max) ? Int64(Int32.max) : r)
    let v = zo &+ Int32(truncatingIfNeeded: sat)
    return Int8(truncatingIfNeeded: v < lo ? lo : (v > hi ? hi : v))
}

/// `requantizeS8Wide`'s integers with 32-bit shifts where the shift allows it: for s <= -1 the rounded shift is
/// `multiplyByQuantizedMultiplierNarrow` (FixedPoint.swift, which has the proof), within +-2^30, so the saturation
/// to Int32 and the wrap of z_out + r in `requantizeS8Wide` cannot happen. s >= 0 (a requantization scale of at
/// least 1/2, which real layers do not have) takes `requantizeS8Wide`.
@inline(__always)
func requantizeS8Narrow(_ acc: Int32, _ m: Int32, _ s: Int32, _ zo: Int32, _ lo: Int32, _ hi: Int32) -> Int8 {
    if s >= 0 { return requantizeS8Wide(acc, m, s, zo, lo, hi) }
    let v = zo &+ multiplyByQuantizedMultiplierNarrow(acc, m, s)
    return Int8(truncatingIfNeeded: v < lo ? lo : (v > hi ? hi : v))
}

/// `requantizeS8` over n contiguous channels: out[c] from acc[c], m[c], s[c]. Out of line and optimized for speed in
/// the -Osize board builds too: there it is the convolution's epilogue (Cortex-M), and size optimization turned
/// its 64-bit arithmetic into calls.
@inline(never) @_optimize(speed)
func requantizeRow(_ acc: UnsafePointer<Int32>, _ m: UnsafePointer<Int32>, _ s: UnsafePointer<Int32>, _ n: Int,
                   _ zo: Int32, _ lo: Int32, _ hi: Int32, _ out: UnsafeMutablePointer<Int8>) {
    var c = 0
    while c < n {
        out[c] = requantizeS8(acc[c], m[c], s[c], zo, lo, hi)
        c &+= 1
    }
}

/// Whether every shift of the first n channels is in -31...30 (where `requantizeS8` is exact).
func shiftsInRequantizeRange(_ r: ChannelRequant, _ n: Int) -> Bool {
    for c in 0..<n where r.shifts[c] < -31 || r.shifts[c] > 30 { return false }
    return true
}

/// TF 'same' pooling geometry along one axis: output length ceil(n / pool) and the padding before
/// (floor of the total padding / 2; the rest goes after). Padded cells never take part in the maximum.
@inlinable
package func samePoolGeometry(length n: Int, pool p: Int) -> (output: Int, padBefore: Int) {
    let out = (n &+ p &- 1) / p
    let total = out &* p &- n
    return (out, total > 0 ? total / 2 : 0)
}

// MARK: - Recurrent layers (gruS8, lstmS8)

/// Fixed scale of a recurrent layer's hidden state and output: real = q / 128 (zero point 0), so h in [-1, 1).
let recurrentStateFractionBits: Int32 = 7

/// Shapes of a `gruS8` / `lstmS8` call: input [timeSteps, inputSize] int8 with zero point `inputZeroPoint`;
/// output [timeSteps, units] when `returnSequences`, else [1, units] (the last state), int8 at scale 2^-7,
/// zero point 0. The initial state is zero. Valid ranges: timeSteps 1...4096, inputSize and units 1...4096
/// (at most `maxInnerProductLength`), `inputZeroPoint` -128...127; LSTM `cellFractionBits` 8...12.
struct RecurrentS8Params {
    var timeSteps: Int, inputSize: Int, units: Int
    var inputZeroPoint: Int32
    var returnSequences: Bool
    /// LSTM only: the cell state is int16 with scale 2^-cellFractionBits (12 = Q3.12, range [-8, 8)).
    var cellFractionBits: Int32
    init(timeSteps: Int, inputSize: Int, units: Int, inputZeroPoint: Int32, returnSequences: Bool,
                cellFractionBits: Int32 = 12) {
        self.timeSteps = timeSteps; self.inputSize = inputSize; self.units = units
        self.inputZeroPoint = inputZeroPoint; self.returnSequences = returnSequences
        self.cellFractionBits = cellFractionBits
    }
    var outputCount: Int { (returnSequences ? timeSteps : 1) * units }
}

/// Weights and gate scales of a recurrent layer with G gates (GRU: G = 3, order z, r, h; LSTM: G = 4, order
/// i, f, c, o: Keras' column order). Row `g * units + j` is gate g of unit j.
/// - inputWeights [G*units, inputSize] int8 (transpose of the Keras kernel), symmetric per row
/// - recurrentWeights [G*units, units] int8 (transpose of the Keras recurrent kernel), symmetric per row
/// - inputBias [G*units] int32 in units of input_scale * input_weight_scale[row]
/// - recurrentBias [G*units] int32 in units of 2^-7 * recurrent_weight_scale[row] (GRU reset_after's second
///   bias; zeros for an LSTM, whose single Keras bias goes in inputBias)
/// - inputRequant / recurrentRequant [G*units]: accumulator -> gate pre-activation in Q3.12, real values
///   input_scale * input_weight_scale[row] * 4096 and 2^-7 * recurrent_weight_scale[row] * 4096.
struct RecurrentS8Weights {
    var inputWeights: UnsafeBufferPointer<Int8>
    var recurrentWeights: UnsafeBufferPointer<Int8>
    var inputBias: UnsafeBufferPointer<Int32>
    var recurrentBias: UnsafeBufferPointer<Int32>
    var inputRequant: ChannelRequant
    var recurrentRequant: ChannelRequant
    init(inputWeights: UnsafeBufferPointer<Int8>, recurrentWeights: UnsafeBufferPointer<Int8>,
                inputBias: UnsafeBufferPointer<Int32>, recurrentBias: UnsafeBufferPointer<Int32>,
                inputRequant: ChannelRequant, recurrentRequant: ChannelRequant) {
        self.inputWeights = inputWeights; self.recurrentWeights = recurrentWeights
        self.inputBias = inputBias; self.recurrentBias = recurrentBias
        self.inputRequant = inputRequant; self.recurrentRequant = recurrentRequant
    }

    func check(_ p: RecurrentS8Params, gates: Int) {
        let rows = gates * p.units
        precondition(inputWeights.count >= rows * p.inputSize && recurrentWeights.count >= rows * p.units
                     && inputBias.count >= rows && (recurrentBias.count >= rows || recurrentBias.isEmpty)
                     && inputRequant.multipliers.count >= rows && inputRequant.shifts.count >= rows
                     && recurrentRequant.multipliers.count >= rows && recurrentRequant.shifts.count >= rows)
    }

    /// The two Q3.12 pre-activation parts of row `row` (as Int32, not yet saturated): input and recurrent.
    @inline(__always)
    func gateParts(_ row: Int, x: UnsafePointer<Int8>, xZero: Int32, inputSize: Int,
                   h: UnsafePointer<Int8>, units: Int) -> (Int32, Int32) {
        let ax = inputBias[row] &+ dotS8(x, xZero, inputWeights.baseAddress! + (row &* inputSize), inputSize)
        let rb: Int32 = recurrentBias.isEmpty ? 0 : recurrentBias[row]
        let ah = rb &+ dotS8(h, 0, recurrentWeights.baseAddress! + (row &* units), units)
        return (inputRequant.apply(ax, row), recurrentRequant.apply(ah, row))
    }
}

/// The time loop gruS8 and lstmS8 share: h starts at zero; at each step t every unit j gets its new value from
/// `unit(x_t, h, j, gate)` (all units read the previous state; `gate(g)` is gate g's two Q3.12 parts for unit j),
/// then h = the new state, written to `output` per step (returnSequences) or once at the end.
@inline(__always)
func runRecurrentS8(_ p: RecurrentS8Params, input: UnsafeBufferPointer<Int8>, weights: RecurrentS8Weights,
                    output: UnsafeMutableBufferPointer<Int8>, state h: UnsafeMutablePointer<Int8>,
                    unit: (_ j: Int, _ gate: (Int) -> (Int32, Int32)) -> Int8) {
    let T = p.timeSteps, I = p.inputSize, U = p.units
    let hNew = h + U
    for j in 0..<U { h[j] = 0 }
    for t in 0..<T {
        let x = input.baseAddress! + (t &* I)
        for j in 0..<U {
            hNew[j] = unit(j) { g in weights.gateParts(g &* U &+ j, x: x, xZero: p.inputZeroPoint, inputSize: I, h: h, units: U) }
        }
        for j in 0..<U { h[j] = hNew[j] }
        if p.returnSequences {
            for j in 0..<U { output[t &* U &+ j] = h[j] }
        }
    }
    if !p.returnSequences {
        for j in 0..<U { output[j] = h[j] }
    }
}
