// softmaxQ15: class probabilities in Q0.15 from int8 logits, integer-only (exp2 table). Reference.

/// Scratch bytes `softmaxQ15` needs: 8 bytes per class (the exponentials, Int64), 8-byte aligned.
func softmaxQ15ScratchSize(classes: Int) -> Int { classes * 8 }

/// p[i] = round(32768 * 2^(t_i) / sum_j 2^(t_j)), clamped to 32767, where
/// `t_i = MBQM(logit[i] - max logit, multiplier, shift)` is a Q15.16 base-2 exponent: the quantizer sets the
/// pair's real value to `logit_scale * log2(e) * 2^16` (so 2^t = e^(real logit difference)).
/// Logits: [classes] int8 (1...1024 classes); output [classes] Int16 (Q0.15, sums to ~32768);
/// multiplier/shift valid as for `multiplyByQuantizedMultiplier`. Error: about 2 LSB of Q0.15 (tested).
/// Example: two equal logits -> [16384, 16384].
func softmaxQ15(logits: UnsafeBufferPointer<Int8>, multiplier: Int32, shift: Int32,
                       output: UnsafeMutableBufferPointer<Int16>, scratch: UnsafeMutableRawBufferPointer) {
    let n = logits.count
    precondition(n >= 1 && output.count >= n && scratch.count >= softmaxQ15ScratchSize(classes: n))
    let e = scratch.baseAddress!.bindMemory(to: Int64.self, capacity: n)
    var maxLogit = Int32(logits[0])
    for i in 1..<n where Int32(logits[i]) > maxLogit { maxLogit = Int32(logits[i]) }
    var sum: Int64 = 0
    for i in 0..<n {
        let t = multiplyByQuantizedMultiplier(Int32(logits[i]) &- maxLogit, multiplier, shift)
        e[i] = exp2NegativeQ30(t)
        sum &+= e[i]
    }
    // sum >= 2^30 (the maximum contributes exactly 1.0).
    for i in 0..<n {
        let q = (e[i] &* 32768 &+ sum / 2) / sum
        output[i] = Int16(truncatingIfNeeded: q > 32767 ? 32767 : q)
    }
}
