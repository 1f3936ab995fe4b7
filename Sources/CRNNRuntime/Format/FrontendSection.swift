// Reads the frontend-tables section (docs/model-format.md §7) of a validated model file into `FrontendTables`.

extension ModelFile {
    /// The fixed-point frontend tables of this model, or nil when the file has no frontend section.
    /// `ModelFile.init` has validated the section (sizes, bounds, alignment, exponent ranges), so this only copies.
    public func frontendTables() -> FrontendTables? {
        if frontendLength == 0 { return nil }
        let f = ModelLayout.Frontend.self, o = frontendOffset
        let nFFT = Int(le32(bytes, o + f.nFFT)), nMels = Int(le32(bytes, o + f.nMels)), nMFCC = Int(le32(bytes, o + f.nMFCC))
        let windowAt = o + Int(le32(bytes, o + f.windowOffset)), spansAt = o + Int(le32(bytes, o + f.melSpansOffset))
        let weightsAt = o + Int(le32(bytes, o + f.melWeightsOffset)), dctAt = o + Int(le32(bytes, o + f.dctOffset))
        let weightCount = Int(le32(bytes, o + f.melWeightCount))
        var window = [Int16](repeating: 0, count: nFFT)
        for i in 0..<nFFT { window[i] = Int16(bitPattern: le16(bytes, windowAt + 2 * i)) }
        var spans: [(firstBin: UInt16, binCount: UInt16)] = []
        spans.reserveCapacity(nMels)
        for m in 0..<nMels { spans.append((le16(bytes, spansAt + 4 * m), le16(bytes, spansAt + 4 * m + 2))) }
        var weights = [Int16](repeating: 0, count: weightCount)
        for i in 0..<weightCount { weights[i] = Int16(bitPattern: le16(bytes, weightsAt + 2 * i)) }
        var dct = [Int16](repeating: 0, count: nMFCC * nMels)
        for i in 0..<(nMFCC * nMels) { dct[i] = Int16(bitPattern: le16(bytes, dctAt + 2 * i)) }
        return FrontendTables(window: window, melSpans: spans, melWeights: weights,
                              melWeightExponent: le32s(bytes, o + f.melWeightExponent), dct: dct,
                              dctExponent: le32s(bytes, o + f.dctExponent))
    }
}
