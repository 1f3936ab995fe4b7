// ModelFile: the validating zero-copy reader of the int8 model file. docs/model-format.md is the specification;
// ModelLayout.swift holds its layout constants (which ModelBuilder.swift writes with), this file reads the
// header and section table, ModelFile+Validation.swift checks the tables, each operator's file in Ops/ checks
// that operator, FrontendSection.swift checks the frontend tables. Integers only; every offset, length and
// product read from the file is checked in 64-bit arithmetic before it becomes an `Int` (32 bits on armv7).

/// A validated model file, read in place (zero copy). The caller keeps `bytes` alive and unchanged for the
/// lifetime of this value and of any interpreter built on it.
public struct ModelFile {
    package let bytes: UnsafeRawBufferPointer
    package let versionMajor: UInt16, versionMinor: UInt16
    public let featureConfig: FeatureConfig
    public let tensorCount: Int, operatorCount: Int, labelCount: Int
    package let inputTensor: Int, outputTensor: Int
    package let softmaxMultiplier: Int32, softmaxShift: Int32
    let tensorsOffset: Int, operatorsOffset: Int, labelsOffset: Int, labelsLength: Int
    let dataOffset: Int, dataLength: Int
    /// File offset and length of the frontend-tables section, (0, 0) when absent.
    package let frontendOffset: Int, frontendLength: Int

    /// Validates everything (header, CRC, sections, tensors, operators, labels, graph, frontend tables)
    /// before returning; afterwards every accessor is in bounds.
    public init(bytes: UnsafeRawBufferPointer) throws(ModelError) {
        self.bytes = bytes
        guard let base = bytes.baseAddress else { throw .truncated }
        if UInt(bitPattern: base) % UInt(ModelLayout.alignment) != 0 { throw .misalignedBuffer }
        let n = Int64(bytes.count)
        if n < Int64(ModelLayout.headerBytes) {
            // Say "foreign" rather than "truncated" when even the magic bytes that exist are wrong.
            if !ModelFile.magicPrefixMatches(bytes) { throw .badMagic }
            throw .truncated
        }
        if !ModelFile.magicPrefixMatches(bytes) { throw .badMagic }
        let major = le16(bytes, ModelLayout.Header.versionMajor), minor = le16(bytes, ModelLayout.Header.versionMinor)
        if major > ModelLayout.versionMajor { throw .newerVersion(major: major, minor: minor) }
        if major == 0 { throw .badVersion }
        versionMajor = major; versionMinor = minor
        if le32(bytes, ModelLayout.Header.headerBytes) != UInt32(ModelLayout.headerBytes) {
            throw .badHeader("header size field is not 64")
        }
        if minor <= ModelLayout.versionMinor {
            // Flags and reserved header bytes are zero up to this minor version (a newer minor may use them).
            for o in stride(from: ModelLayout.Header.flags, to: ModelLayout.headerBytes, by: 4) where le32(bytes, o) != 0 {
                throw .badHeader("header flags or reserved bytes are not zero")
            }
        }
        let fileBytes = Int64(le32(bytes, ModelLayout.Header.fileBytes))
        if fileBytes > n { throw .truncated }
        if fileBytes < Int64(ModelLayout.headerBytes) { throw .badHeader("declared file size smaller than the header") }
        let file = UnsafeRawBufferPointer(rebasing: bytes[0..<Int(fileBytes)])
        let stored = le32(bytes, ModelLayout.Header.crc32)
        let computed = crc32(UnsafeRawBufferPointer(rebasing: file[ModelLayout.headerBytes...]))
        if stored != computed { throw .checksumMismatch(stored: stored, computed: computed) }
        let sectionCount = Int64(le32(bytes, ModelLayout.Header.sectionCount))
        let tableOffset = Int64(le32(bytes, ModelLayout.Header.sectionTableOffset))
        if sectionCount < 1 || sectionCount > Int64(ModelLayout.maxSections) { throw .badHeader("section count out of range (1...64)") }
        if tableOffset < Int64(ModelLayout.headerBytes) || tableOffset % Int64(ModelLayout.alignment) != 0
            || tableOffset + sectionCount * Int64(ModelLayout.sectionEntryBytes) > fileBytes {
            throw .badHeader("section table out of bounds or misaligned")
        }

        // Sections: bounds, alignment, no overlap with the header/table or each other, kinds unique.
        var found: [(kind: UInt32, offset: Int, length: Int, count: Int)] = []
        let tableEnd = tableOffset + sectionCount * Int64(ModelLayout.sectionEntryBytes)
        for i in 0..<Int(sectionCount) {
            let e = Int(tableOffset) + i * ModelLayout.sectionEntryBytes
            let kind = le32(file, e + ModelLayout.SectionEntry.kind)
            let off = Int64(le32(file, e + ModelLayout.SectionEntry.offset))
            let len = Int64(le32(file, e + ModelLayout.SectionEntry.length))
            let count = Int64(le32(file, e + ModelLayout.SectionEntry.count))
            if off % Int64(ModelLayout.alignment) != 0 { throw .badSection(index: i, "section offset not 16-byte aligned") }
            if off < tableEnd || off + len > fileBytes { throw .badSection(index: i, "section out of bounds") }
            if count > 1 << 20 { throw .badSection(index: i, "section item count out of range") }
            for f in found where Int64(f.offset) < off + len && off < Int64(f.offset + f.length) {
                throw .badSection(index: i, "sections overlap")
            }
            if let k = SectionKind(rawValue: kind), found.contains(where: { $0.kind == kind }) { throw .duplicateSection(k) }
            found.append((kind, Int(off), Int(len), Int(count)))
        }
        func section(_ k: SectionKind) throws(ModelError) -> (offset: Int, length: Int, count: Int) {
            for f in found where f.kind == k.rawValue { return (f.offset, f.length, f.count) }
            throw .missingSection(k)
        }

        // Feature configuration.
        let fc = try section(.featureConfig)
        if fc.length != FeatureConfig.encodedByteCount { throw .badFeatureConfig }
        var words: [UInt32] = []
        for w in 0..<16 { words.append(le32(file, fc.offset + 4 * w)) }
        guard let config = FeatureConfig(words: words) else { throw .badFeatureConfig }
        featureConfig = config

        // Data blob, tensors.
        let data = try section(.data)
        dataOffset = data.offset; dataLength = data.length
        let ts = try section(.tensors)
        if ts.count < 1 || ts.count > ModelLayout.maxTensors || Int64(ts.count) * Int64(ModelLayout.tensorEntryBytes) != Int64(ts.length) {
            throw .badSection(index: -1, "tensor section size does not match its count")
        }
        tensorsOffset = ts.offset; tensorCount = ts.count

        let os = try section(.operators)
        if os.count < 1 || os.count > ModelLayout.maxOperators || Int64(os.count) * Int64(ModelLayout.operatorEntryBytes) != Int64(os.length) {
            throw .badSection(index: -1, "operator section size does not match its count")
        }
        operatorsOffset = os.offset; operatorCount = os.count

        let g = try section(.graph)
        if g.length != ModelLayout.graphBytes { throw .badGraph("graph section must be 32 bytes") }
        let gi = le32(file, g.offset + ModelLayout.Graph.inputTensor), go = le32(file, g.offset + ModelLayout.Graph.outputTensor)
        if Int64(gi) >= Int64(ts.count) || Int64(go) >= Int64(ts.count) { throw .badGraph("graph input/output tensor does not exist") }
        inputTensor = Int(gi); outputTensor = Int(go)
        softmaxMultiplier = le32s(file, g.offset + ModelLayout.Graph.softmaxMultiplier)
        softmaxShift = le32s(file, g.offset + ModelLayout.Graph.softmaxShift)
        if !isValidQuantizedMultiplier(softmaxMultiplier, softmaxShift) { throw .badGraph("softmax multiplier/shift out of range") }

        let lb = try section(.labels)
        labelsOffset = lb.offset; labelsLength = lb.length; labelCount = lb.count

        if let fe = found.first(where: { $0.kind == SectionKind.frontend.rawValue }) {
            frontendOffset = fe.offset; frontendLength = fe.length
        } else {
            frontendOffset = 0; frontendLength = 0
        }

        try validateTensors()
        try validateLabels()
        try validateGraph()
        try validateOperators()
        try validateFrontend()
    }

    static func magicPrefixMatches(_ b: UnsafeRawBufferPointer) -> Bool {
        let m = ModelLayout.magic
        let expected: [UInt8] = [m.0, m.1, m.2, m.3, m.4, m.5, m.6, m.7]
        for i in 0..<min(8, b.count) where b[i] != expected[i] { return false }
        return true
    }

    // MARK: Accessors

    /// Decodes tensor `i` (0 ..< tensorCount). Valid after `init` succeeded.
    package func tensor(_ i: Int) -> TensorInfo { decodeTensor(i) }

    /// Decodes operator `i` (0 ..< operatorCount).
    package func op(_ i: Int) -> OperatorInfo {
        let e = operatorsOffset + i * ModelLayout.operatorEntryBytes
        let r = ModelLayout.OperatorEntry.self
        func inp(_ k: Int) -> UInt32 { le32(bytes, e + r.inputs + 4 * k) }
        func par(_ k: Int) -> Int32 { le32s(bytes, e + r.params + 4 * k) }
        return OperatorInfo(
            opcode: OpCode(rawValue: le16(bytes, e + r.opcode)) ?? .reshape,
            inputCount: Int(bytes[e + r.inputCount]),
            inputs: (inp(0), inp(1), inp(2), inp(3), inp(4), inp(5), inp(6), inp(7)),
            output: Int(le32(bytes, e + r.output)),
            params: (par(0), par(1), par(2), par(3), par(4), par(5)))
    }

    /// The UTF-8 bytes of label `i` (0 ..< labelCount), without terminator.
    public func label(_ i: Int) -> UnsafeRawBufferPointer {
        var o = labelsOffset
        for _ in 0..<i { o += 2 + Int(le16(bytes, o)) }
        let len = Int(le16(bytes, o))
        return UnsafeRawBufferPointer(rebasing: bytes[(o + 2)..<(o + 2 + len)])
    }

    /// Typed views of constant data (the type was validated; calling with the wrong type traps).
    func int8Data(_ t: Int) -> UnsafeBufferPointer<Int8> { typed(t, TensorType.int8, Int8.self) }
    func int16Data(_ t: Int) -> UnsafeBufferPointer<Int16> { typed(t, TensorType.int16, Int16.self) }
    func int32Data(_ t: Int) -> UnsafeBufferPointer<Int32> { typed(t, TensorType.int32, Int32.self) }

    func typed<T>(_ t: Int, _ type: TensorType, _: T.Type) -> UnsafeBufferPointer<T> {
        let info = tensor(t)
        precondition(info.isConstant && info.type == type)
        let p = (bytes.baseAddress! + info.fileOffset).assumingMemoryBound(to: T.self)
        return UnsafeBufferPointer(start: p, count: info.elementCount)
    }

    /// Per-channel scales of constant tensor `t` as (multiplier, shift), `c` in 0 ..< channelScalesCount.
    package func channelScale(_ t: Int, _ c: Int) -> (Int32, Int32) {
        let info = tensor(t)
        return (le32s(bytes, info.channelScalesFileOffset + 8 * c), le32s(bytes, info.channelScalesFileOffset + 8 * c + 4))
    }
}
