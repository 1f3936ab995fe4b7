// lstmS8: fully integer LSTM (Keras gate order i, f, c, o). int8 weights/inputs, int32 accumulators, int16
// Q3.12 gate pre-activations, Q0.15 sigmoid/tanh, int16 cell state with a power-of-two scale, int8 hidden
// state at scale 2^-7. Reference.

/// Scratch bytes `lstmS8` needs: the int16 cell state (2 * units, first, so 2-byte aligned when the scratch
/// is) and two int8 state vectors (2 * units).
func lstmS8ScratchSize(_ p: RecurrentS8Params) -> Int { 4 * p.units }

/// Keras LSTM per time step t and unit j, with integer stages (k = cellFractionBits, docs/quantization.md):
///     i, f, o = sigmoidQ15(sat16(x part + h part)),  g = tanhQ15(sat16(x part + h part))   (Q3.12 -> Q0.15)
///     c' = sat16(round((f * c * 2^(15-k) + i * g) / 2^(30-k)))   (Q0.15*Qk and Q0.30 summed exactly, one rounding)
///     h' = sat8(round(o * tanhQ15(sat16(c' * 2^(12-k))) / 2^23))  (Q0.30 -> Q0.7)
/// Example: all weights and biases zero -> i = f = o = 0.5, g = 0, c and h stay 0.
func lstmS8(_ p: RecurrentS8Params, input: UnsafeBufferPointer<Int8>, weights: RecurrentS8Weights,
                   output: UnsafeMutableBufferPointer<Int8>, scratch: UnsafeMutableRawBufferPointer) {
    let U = p.units, k = p.cellFractionBits
    weights.check(p, gates: 4)
    precondition(input.count >= p.timeSteps * p.inputSize && output.count >= p.outputCount
                 && scratch.count >= lstmS8ScratchSize(p) && k >= 8 && k <= 12)
    let c = scratch.baseAddress!.bindMemory(to: Int16.self, capacity: U)
    let h = (scratch.baseAddress! + 2 * U).bindMemory(to: Int8.self, capacity: 2 * U)
    for j in 0..<U { c[j] = 0 }
    runRecurrentS8(p, input: input, weights: weights, output: output, state: h) { j, gate in
        let (xi, hi) = gate(0), (xf, hf) = gate(1), (xg, hg) = gate(2), (xo, ho) = gate(3)
        let ig = Int64(sigmoidQ15(saturatingInt16(xi &+ hi)))
        let fg = Int64(sigmoidQ15(saturatingInt16(xf &+ hf)))
        let gg = Int64(tanhQ15(saturatingInt16(xg &+ hg)))
        let og = Int32(sigmoidQ15(saturatingInt16(xo &+ ho)))
        let sum = (fg &* Int64(c[j])) << Int64(15 &- k) &+ ig &* gg   // Q0.30
        let cNew = saturatingInt16(saturatingInt32(roundingShiftRight(sum, 30 &- k)))
        c[j] = cNew
        let tc = Int32(tanhQ15(saturatingInt16(Int32(cNew) << (12 &- k))))
        return saturatingInt8(roundingShiftRight(og &* tc, 23))
    }
}
