// gruS8: fully integer GRU (Keras reset_after=True). int8 weights/inputs, int32 accumulators, int16 Q3.12 gate
// pre-activations, Q0.15 sigmoid/tanh, int8 hidden state at scale 2^-7. Reference.

/// Scratch bytes `gruS8` needs: two int8 state vectors (previous and new), 2 * units.
func gruS8ScratchSize(_ p: RecurrentS8Params) -> Int { 2 * p.units }

/// Keras GRU (reset_after=True), per time step t and unit j, with integer stages (docs/quantization.md):
///     xz, xr, xh = input parts (x_t W + b) in Q3.12;  hz, hr, hh = recurrent parts (h U + rb) in Q3.12
///     z = sigmoidQ15(sat16(xz + hz)),  r = sigmoidQ15(sat16(xr + hr))
///     n = tanhQ15(sat16(xh + round(r * sat16(hh) / 2^15)))           (the separate recurrent candidate term)
///     h'_j = sat8(round((z * (h_j << 8) + (32768 - z) * n) / 2^23))  (Q0.30 -> Q0.7, one rounding)
/// All units of step t read the previous state. Output: every h_t (returnSequences) or the last one.
/// Example: all weights and biases zero -> z = r = 0.5, n = 0, h stays 0.
func gruS8(_ p: RecurrentS8Params, input: UnsafeBufferPointer<Int8>, weights: RecurrentS8Weights,
                  output: UnsafeMutableBufferPointer<Int8>, scratch: UnsafeMutableRawBufferPointer) {
    weights.check(p, gates: 3)
    precondition(input.count >= p.timeSteps * p.inputSize && output.count >= p.outputCount
                 && scratch.count >= gruS8ScratchSize(p))
    let h = scratch.baseAddress!.bindMemory(to: Int8.self, capacity: 2 * p.units)
    runRecurrentS8(p, input: input, weights: weights, output: output, state: h) { j, gate in
        let (xz, hz) = gate(0), (xr, hr) = gate(1), (xh, hh) = gate(2)
        let z = Int32(sigmoidQ15(saturatingInt16(xz &+ hz)))
        let r = Int32(sigmoidQ15(saturatingInt16(xr &+ hr)))
        let rh = roundingShiftRight(r &* Int32(saturatingInt16(hh)), 15)
        let n = Int32(tanhQ15(saturatingInt16(xh &+ rh)))
        let mix = Int64(z &* (Int32(h[j]) << 8)) &+ Int64((32768 &- z) &* n)
        return saturatingInt8(Int32(truncatingIfNeeded: roundingShiftRight(mix, 23)))
    }
}
