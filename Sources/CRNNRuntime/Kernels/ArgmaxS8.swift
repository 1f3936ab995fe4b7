// argmaxS8: index of the largest int8 value (top-1 of the logits; ties go to the lowest index).

/// Returns the first index of the maximum of `values` (count >= 1), or -1 for an empty buffer.
/// Example: `[3, 7, 7, -1]` -> 1.
func argmaxS8(_ values: UnsafeBufferPointer<Int8>) -> Int {
    if values.isEmpty { return -1 }
    var best = 0
    for i in 1..<values.count where values[i] > values[best] { best = i }
    return best
}
