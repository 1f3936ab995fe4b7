// The frontend-tables section (docs/model-format.md §7): its validation at load (bounds, alignment, sizes
// against the feature configuration, exponent ranges) and its reading into `FrontendTables`.

extension ModelFile {
    /// The fixed-point frontend tables of this model, or nil when the file has no frontend section.
    /// `ModelFile.init` has validated the section (sizes, bounds, alignment, exponent ranges), so this only copies.
    package func frontendTables() -> FrontendTables? { frontendTables(copyingArrays: true) }

    /// `frontendTables()`, or with `copyingArrays` false only its spans, exponents and version (the window, mel
    /// weights and DCT arrays empty), for a reader that takes those in place (`frontendTablesInPlace`).
    func frontendTables(copyingArrays: Bool) -> FrontendTables? {
        if frontendLength == 0 { return nil }
        let f = ModelLayout.Frontend.self, o = frontendOffset
        let nFFT = Int(le32(bytes, o + f.nFFT)), nMels = Int(le32(bytes, o + f.nMels)), nMFCC = Int(le32(bytes, o + f.nMFCC))
        let windowAt = o + Int(le32(bytes, o + f.windowOffset)), spansAt = o + Int(le32(bytes, o + f.melSpansOffset))
        let weightsAt = o + Int(le32(bytes, o + f.melWeightsOffset)), dctAt = o + Int(le32(bytes, o + f.dctOffset))
        let weightCount = Int(le32(bytes, o + f.melWeightCount))
        let copied = copyingArrays ? 1 : 0
        var window = [Int16](repeating: 0, count: nFFT * copied)
        for i in 0..<(nFFT * copied) { window[i] = Int16(bitPattern: le16(bytes, windowAt + 2 * i)) }
        var spans: [(firstBin: UInt16, binCount: UInt16)] = []
        spans.reserveCapacity(nMels)
        for m in 0..<nMels { spans.append((le16(bytes, spansAt + 4 * m), le16(bytes, spansAt + 4 * m + 2))) }
        var weights = [Int16](repeating: 0, count: weightCount * copied)
        for i in 0..<(weightCount * copied) { weights[i] = Int16(bitPattern: le16(bytes, weightsAt + 2 * i)) }
        var dct = [Int16](repeating: 0, count: nMFCC * nMels * copied)
        for i in 0..<(nMFCC * nMels * copied) { dct[i] = Int16(bitPattern: le16(bytes, dctAt + 2 * i)) }
        return FrontendTables(window: window, melSpans: spans, melWeights: weights,
                              melWeightExponent: le32s(bytes, o + f.melWeightExponent), dct: dct,
                              dctExponent: le32s(bytes, o + f.dctExponent), version: le32(bytes, o + f.tablesVersion))
    }

    /// The Q15 window, the mel weights (as the UInt16 they are: `FixedPointMFCC` refuses negative ones) and the DCT in place in the
    /// file (16-byte aligned, little-endian as every target of the runtime), or nil when the file has no frontend.
    func frontendTablesInPlace() -> (window: UnsafePointer<Int16>, weights: UnsafePointer<UInt16>, dct: UnsafePointer<Int16>)? {
        if frontendLength == 0 { return nil }
        let f = ModelLayout.Frontend.self, o = frontendOffset, base = bytes.baseAddress!
        let windowAt = o + Int(le32(bytes, o + f.windowOffset))
        let weightsAt = o + Int(le32(bytes, o + f.melWeightsOffset)), dctAt = o + Int(le32(bytes, o + f.dctOffset))
        return ((base + windowAt).assumingMemoryBound(to: Int16.self), (base + weightsAt).assumingMemoryBound(to: UInt16.self),
                (base + dctAt).assumingMemoryBound(to: Int16.self))
    }

    func validateFrontend() throws(ModelError) {
        if frontendLength == 0 { return }
        let f = ModelLayout.Frontend.self, o = frontendOffset, L = Int64(frontendLength)
        if L < Int64(ModelLayout.frontendHeaderBytes) { throw .badFrontend("frontend section shorter than its header") }
        if !ModelLayout.frontendTablesVersions.contains(le32(bytes, o + f.tablesVersion)) { throw .badFrontend("unknown frontend tables version") }
        let nFFT = Int64(le32(bytes, o + f.nFFT)), nMels = Int64(le32(bytes, o + f.nMels)), nMFCC = Int64(le32(bytes, o + f.nMFCC))
        if nFFT != Int64(featureConfig.nFFT) || nMels != Int64(featureConfig.nMels) || nMFCC != Int64(featureConfig.nMFCC) {
            throw .badFrontend("frontend table sizes disagree with the feature configuration")
        }
        let bins = nFFT / 2 + 1
        func region(_ off: Int, _ bytesNeeded: Int64) throws(ModelError) -> Int64 {
            let start = Int64(le32(bytes, o + off))
            if start % Int64(ModelLayout.alignment) != 0 || start < Int64(ModelLayout.frontendHeaderBytes) || start + bytesNeeded > L {
                throw .badFrontend("frontend table out of bounds or misaligned")
            }
            return start
        }
        _ = try region(f.windowOffset, 2 * nFFT)
        let spans = try region(f.melSpansOffset, 4 * nMels)
        var total: Int64 = 0
        for m in 0..<Int(nMels) {
            let first = Int64(le16(bytes, o + Int(spans) + 4 * m)), count = Int64(le16(bytes, o + Int(spans) + 4 * m + 2))
            if first + count > bins { throw .badFrontend("mel band span exceeds the spectrum") }
            total += count
        }
        if total != Int64(le32(bytes, o + f.melWeightCount)) { throw .badFrontend("mel weight count differs from the sum of the band spans") }
        _ = try region(f.melWeightsOffset, 2 * total)
        _ = try region(f.dctOffset, 2 * nMFCC * nMels)
        let e1 = le32s(bytes, o + f.melWeightExponent), e2 = le32s(bytes, o + f.dctExponent)
        if e1 < -16 || e1 > 16 || e2 < -16 || e2 > 16 { throw .badFrontend("frontend table exponent out of range (-16...16)") }
    }
}
