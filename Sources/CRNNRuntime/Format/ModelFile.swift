// The int8 model file: layout constants, typed errors and the validating zero-copy reader.
// docs/model-format.md is the specification; this file is its one implementation (ModelBuilder.swift writes
// with these constants). Integers only; every offset, length and product read from the file is checked in
// 64-bit arithmetic before it becomes an `Int` (32 bits on armv7).

// MARK: - Layout constants

public enum ModelLayout {
    /// "CRNN" followed by CR LF SUB LF (catches text-mode and truncated transfers, as PNG's signature does).
    public static let magic: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0x43, 0x52, 0x4E, 0x4E, 0x0D, 0x0A, 0x1A, 0x0A)
    public static let versionMajor: UInt16 = 1
    public static let versionMinor: UInt16 = 1
    /// Every section and every constant tensor's data starts at a multiple of this.
    public static let alignment = 16

    public static let headerBytes = 64
    public enum Header {
        public static let magic = 0, versionMajor = 8, versionMinor = 10, headerBytes = 12, fileBytes = 16,
                          sectionCount = 20, sectionTableOffset = 24, crc32 = 28, flags = 32
        // 36..<64 reserved, zero.
    }

    public static let sectionEntryBytes = 16
    public enum SectionEntry { public static let kind = 0, offset = 4, length = 8, count = 12 }
    public static let maxSections = 64

    public static let tensorEntryBytes = 64
    public enum TensorEntry {
        public static let type = 0, rank = 1, flags = 2, dims = 4, dataOffset = 20, dataBytes = 24,
                          zeroPoint = 28, scaleMultiplier = 32, scaleShift = 36, channelScalesOffset = 40,
                          channelScalesCount = 44
        // 48..<64 reserved, zero.
    }
    public static let tensorFlagConstant: UInt16 = 1
    public static let maxRank = 4
    public static let maxDimension = 65535
    public static let maxTensorElements: Int64 = 1 << 24
    public static let maxTensors = 4096

    public static let operatorEntryBytes = 64
    public static let maxOperatorInputs = 8
    public static let maxOperatorParams = 6
    public enum OperatorEntry {
        public static let opcode = 0, inputCount = 2, inputs = 4, output = 36, params = 40
    }
    public static let maxOperators = 1024
    public static let noTensor: UInt32 = 0xFFFF_FFFF

    public static let graphBytes = 32
    public enum Graph { public static let inputTensor = 0, outputTensor = 4, softmaxMultiplier = 8, softmaxShift = 12 }

    public static let maxLabelBytes = 255
    public static let maxClasses = 1024

    public static let frontendHeaderBytes = 48
    public enum Frontend {
        public static let tablesVersion = 0, nFFT = 4, nMels = 8, nMFCC = 12, windowOffset = 16,
                          melSpansOffset = 20, melWeightsOffset = 24, melWeightCount = 28, dctOffset = 32,
                          melWeightExponent = 36, dctExponent = 40
    }
    public static let frontendTablesVersion: UInt32 = 1
}

/// Section kinds. Readers skip kinds they do not know (a newer minor version may append some).
public enum SectionKind: UInt32, Sendable {
    case featureConfig = 1, labels = 2, tensors = 3, operators = 4, data = 5, graph = 6, frontend = 7
}

/// Element types of tensors.
public enum TensorType: UInt8, Sendable {
    case int8 = 1, int16 = 2, int32 = 3
    public var byteSize: Int { self == .int8 ? 1 : (self == .int16 ? 2 : 4) }
}

/// Operator codes; the inputs and params of each are listed in docs/model-format.md.
public enum OpCode: UInt16, Sendable {
    case inputQuantize = 1, conv2d = 2, maxPool2d = 3, affine = 4, reshape = 5, fullyConnected = 6, gru = 7, lstm = 8
}

// MARK: - Errors

/// Why a model file was refused. `message` is a fixed English sentence; the payloads say where.
public enum ModelError: Error {
    case misalignedBuffer
    case truncated
    case badMagic
    case newerVersion(major: UInt16, minor: UInt16)
    case badVersion
    case badHeader(StaticString)
    case checksumMismatch(stored: UInt32, computed: UInt32)
    case badSection(index: Int, StaticString)
    case missingSection(SectionKind)
    case duplicateSection(SectionKind)
    case badFeatureConfig
    case badLabels(StaticString)
    case badGraph(StaticString)
    case badTensor(index: Int, StaticString)
    case badOperator(index: Int, StaticString)
    case missingTensor(op: Int, tensor: UInt32)
    case shapeMismatch(op: Int, StaticString)
    case paramOutOfRange(op: Int, StaticString)
    case badFrontend(StaticString)
    case wrongInput(StaticString)

    public var message: StaticString {
        switch self {
        case .misalignedBuffer: return "model buffer must start at a 16-byte aligned address"
        case .truncated: return "model file is truncated (shorter than its header or declared size)"
        case .badMagic: return "not a CRNN model file (wrong magic bytes)"
        case .newerVersion: return "model file format is newer than this runtime (major version > 1): update crnn-infer/CRNNRuntime or re-export the model with a matching crnn-quantize"
        case .badVersion: return "model file format version 0 is not supported"
        case .badHeader(let m): return m
        case .checksumMismatch: return "model file is corrupt (CRC32 mismatch)"
        case .badSection(_, let m): return m
        case .missingSection: return "a required section is missing"
        case .duplicateSection: return "a section occurs twice"
        case .badFeatureConfig: return "feature configuration section is invalid"
        case .badLabels(let m): return m
        case .badGraph(let m): return m
        case .badTensor(_, let m): return m
        case .badOperator(_, let m): return m
        case .missingTensor: return "operator references a tensor that does not exist"
        case .shapeMismatch(_, let m): return m
        case .paramOutOfRange(_, let m): return m
        case .badFrontend(let m): return m
        case .wrongInput(let m): return m
        }
    }
}

// MARK: - Little-endian loads (bounds are checked by the callers)

@inline(__always) func le16(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt16 {
    UInt16(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt16.self))
}
@inline(__always) func le32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
    UInt32(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt32.self))
}
@inline(__always) func le32s(_ b: UnsafeRawBufferPointer, _ o: Int) -> Int32 { Int32(bitPattern: le32(b, o)) }

// MARK: - CRC32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and final xor 0xFFFFFFFF)

/// CRC32 as zlib's `crc32` computes it. Example: `crc32("123456789") == 0xCBF43926`.
public func crc32(_ bytes: UnsafeRawBufferPointer, _ start: UInt32 = 0) -> UInt32 {
    var c = ~start
    for byte in bytes {
        c ^= UInt32(byte)
        for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
    }
    return ~c
}

// MARK: - Views

/// One tensor-table entry, decoded and validated.
public struct TensorInfo {
    public var type: TensorType
    public var rank: Int
    /// Dimensions; unused trailing ones are 1.
    public var dims: (Int, Int, Int, Int)
    public var isConstant: Bool
    /// Byte offset of a constant's data from the start of the file (0 for activations).
    public var fileOffset: Int
    public var byteCount: Int
    public var zeroPoint: Int32
    /// Informational per-tensor scale: scale = multiplier * 2^(shift - 31); multiplier 0 = not recorded.
    public var scaleMultiplier: Int32, scaleShift: Int32
    /// Per-channel (dimension 0) scales of a constant: pairs of Int32 (multiplier, shift) at this file offset.
    public var channelScalesFileOffset: Int, channelScalesCount: Int

    public var elementCount: Int { dims.0 * dims.1 * dims.2 * dims.3 }
    public func dim(_ i: Int) -> Int {
        switch i { case 0: return dims.0; case 1: return dims.1; case 2: return dims.2; default: return dims.3 }
    }
}

/// One operator-table entry.
public struct OperatorInfo {
    public var opcode: OpCode
    public var inputCount: Int
    public var inputs: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
    public var output: Int
    public var params: (Int32, Int32, Int32, Int32, Int32, Int32)
    public func input(_ i: Int) -> Int {
        let v: UInt32
        switch i {
        case 0: v = inputs.0; case 1: v = inputs.1; case 2: v = inputs.2; case 3: v = inputs.3
        case 4: v = inputs.4; case 5: v = inputs.5; case 6: v = inputs.6; default: v = inputs.7
        }
        return Int(truncatingIfNeeded: Int32(bitPattern: v))  // 0xFFFFFFFF (unused slot) -> -1, also on armv7
    }
    public func param(_ i: Int) -> Int32 {
        switch i {
        case 0: return params.0; case 1: return params.1; case 2: return params.2
        case 3: return params.3; case 4: return params.4; default: return params.5
        }
    }
}

/// Number of inputs each opcode takes.
public func operatorInputCount(_ op: OpCode) -> Int {
    switch op {
    case .inputQuantize: return 4
    case .conv2d, .affine, .fullyConnected: return 5
    case .maxPool2d, .reshape: return 1
    case .gru, .lstm: return 8
    }
}

/// A validated model file, read in place (zero copy). The caller keeps `bytes` alive and unchanged for the
/// lifetime of this value and of any interpreter built on it.
public struct ModelFile {
    public let bytes: UnsafeRawBufferPointer
    public let versionMajor: UInt16, versionMinor: UInt16
    public let featureConfig: FeatureConfig
    public let tensorCount: Int, operatorCount: Int, labelCount: Int
    public let inputTensor: Int, outputTensor: Int
    public let softmaxMultiplier: Int32, softmaxShift: Int32
    let tensorsOffset: Int, operatorsOffset: Int, labelsOffset: Int, labelsLength: Int
    let dataOffset: Int, dataLength: Int
    /// File offset and length of the frontend-tables section, (0, 0) when absent.
    public let frontendOffset: Int, frontendLength: Int

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
    public func tensor(_ i: Int) -> TensorInfo { decodeTensor(i) }

    /// Decodes operator `i` (0 ..< operatorCount).
    public func op(_ i: Int) -> OperatorInfo {
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
    public func int8Data(_ t: Int) -> UnsafeBufferPointer<Int8> { typed(t, TensorType.int8, Int8.self) }
    public func int16Data(_ t: Int) -> UnsafeBufferPointer<Int16> { typed(t, TensorType.int16, Int16.self) }
    public func int32Data(_ t: Int) -> UnsafeBufferPointer<Int32> { typed(t, TensorType.int32, Int32.self) }

    func typed<T>(_ t: Int, _ type: TensorType, _: T.Type) -> UnsafeBufferPointer<T> {
        let info = tensor(t)
        precondition(info.isConstant && info.type == type)
        let p = (bytes.baseAddress! + info.fileOffset).assumingMemoryBound(to: T.self)
        return UnsafeBufferPointer(start: p, count: info.elementCount)
    }

    /// Per-channel scales of constant tensor `t` as (multiplier, shift), `c` in 0 ..< channelScalesCount.
    public func channelScale(_ t: Int, _ c: Int) -> (Int32, Int32) {
        let info = tensor(t)
        return (le32s(bytes, info.channelScalesFileOffset + 8 * c), le32s(bytes, info.channelScalesFileOffset + 8 * c + 4))
    }

    // MARK: Validation

    func decodeTensor(_ i: Int) -> TensorInfo {
        let e = tensorsOffset + i * ModelLayout.tensorEntryBytes
        let r = ModelLayout.TensorEntry.self
        let rank = Int(bytes[e + r.rank])
        func d(_ k: Int) -> Int { k < rank ? Int(le32(bytes, e + r.dims + 4 * k)) : 1 }
        let flags = le16(bytes, e + r.flags)
        let constant = flags & ModelLayout.tensorFlagConstant != 0
        return TensorInfo(
            type: TensorType(rawValue: bytes[e + r.type]) ?? .int8, rank: rank, dims: (d(0), d(1), d(2), d(3)),
            isConstant: constant,
            fileOffset: constant ? dataOffset + Int(le32(bytes, e + r.dataOffset)) : 0,
            byteCount: Int(le32(bytes, e + r.dataBytes)),
            zeroPoint: le32s(bytes, e + r.zeroPoint),
            scaleMultiplier: le32s(bytes, e + r.scaleMultiplier), scaleShift: le32s(bytes, e + r.scaleShift),
            channelScalesFileOffset: dataOffset + Int(le32(bytes, e + r.channelScalesOffset)),
            channelScalesCount: Int(le32(bytes, e + r.channelScalesCount)))
    }

    func validateTensors() throws(ModelError) {
        let r = ModelLayout.TensorEntry.self
        for i in 0..<tensorCount {
            let e = tensorsOffset + i * ModelLayout.tensorEntryBytes
            guard let type = TensorType(rawValue: bytes[e + r.type]) else { throw .badTensor(index: i, "unknown tensor type") }
            let rank = Int(bytes[e + r.rank])
            if rank < 1 || rank > ModelLayout.maxRank { throw .badTensor(index: i, "tensor rank out of range (1...4)") }
            let flags = le16(bytes, e + r.flags)
            if flags & ~ModelLayout.tensorFlagConstant != 0 { throw .badTensor(index: i, "unknown tensor flags") }
            var elements: Int64 = 1
            for k in 0..<ModelLayout.maxRank {
                let dk = Int64(le32(bytes, e + r.dims + 4 * k))
                if k < rank {
                    if dk < 1 || dk > Int64(ModelLayout.maxDimension) { throw .badTensor(index: i, "tensor dimension out of range (1...65535)") }
                    elements *= dk
                    if elements > ModelLayout.maxTensorElements { throw .badTensor(index: i, "tensor has too many elements (max 2^24)") }
                } else if dk != 0 && dk != 1 {
                    throw .badTensor(index: i, "unused tensor dimension must be 0 or 1")
                }
            }
            for k in stride(from: 48, to: 64, by: 4) where le32(bytes, e + k) != 0 { throw .badTensor(index: i, "reserved tensor bytes not zero") }
            let zp = le32s(bytes, e + r.zeroPoint)
            let off = Int64(le32(bytes, e + r.dataOffset)), len = Int64(le32(bytes, e + r.dataBytes))
            let sm = le32s(bytes, e + r.scaleMultiplier), ss = le32s(bytes, e + r.scaleShift)
            if !isValidQuantizedMultiplier(sm, ss) { throw .badTensor(index: i, "tensor scale multiplier/shift out of range") }
            if flags & ModelLayout.tensorFlagConstant != 0 {
                if zp != 0 { throw .badTensor(index: i, "constant tensors are symmetric (zero point 0)") }
                if len != elements * Int64(type.byteSize) { throw .badTensor(index: i, "constant data size does not match shape and type") }
                if off % Int64(ModelLayout.alignment) != 0 { throw .badTensor(index: i, "constant data not 16-byte aligned") }
                if off + len > Int64(dataLength) { throw .badTensor(index: i, "constant data out of bounds") }
                let co = Int64(le32(bytes, e + r.channelScalesOffset)), cc = Int64(le32(bytes, e + r.channelScalesCount))
                if cc == 0 && co != 0 { throw .badTensor(index: i, "per-channel scale offset without a count must be 0") }
                if cc != 0 {
                    if cc != Int64(le32(bytes, e + r.dims)) { throw .badTensor(index: i, "per-channel scale count must equal dimension 0") }
                    if co % 4 != 0 || co + 8 * cc > Int64(dataLength) { throw .badTensor(index: i, "per-channel scales out of bounds") }
                    for c in 0..<Int(cc) {
                        let p = dataOffset + Int(co) + 8 * c
                        if !isValidQuantizedMultiplier(le32s(bytes, p), le32s(bytes, p + 4)) {
                            throw .badTensor(index: i, "per-channel scale out of range")
                        }
                    }
                }
            } else {
                if off != 0 || len != 0 || le32(bytes, e + r.channelScalesCount) != 0 || le32(bytes, e + r.channelScalesOffset) != 0 {
                    throw .badTensor(index: i, "activation tensors carry no data")
                }
                let lo: Int32 = type == .int8 ? -128 : (type == .int16 ? -32768 : Int32.min)
                let hi: Int32 = type == .int8 ? 127 : (type == .int16 ? 32767 : Int32.max)
                if zp < lo || zp > hi { throw .badTensor(index: i, "zero point outside the tensor type's range") }
            }
        }
    }

    func validateLabels() throws(ModelError) {
        if labelCount > ModelLayout.maxClasses { throw .badLabels("too many labels") }
        var o: Int64 = 0
        let end = Int64(labelsLength)
        for _ in 0..<labelCount {
            if o + 2 > end { throw .badLabels("label section truncated") }
            let len = Int64(le16(bytes, labelsOffset + Int(o)))
            if len == 0 || len > Int64(ModelLayout.maxLabelBytes) { throw .badLabels("label length out of range (1...255)") }
            if o + 2 + len > end { throw .badLabels("label section truncated") }
            if !isValidUTF8(UnsafeRawBufferPointer(rebasing: bytes[(labelsOffset + Int(o) + 2)..<(labelsOffset + Int(o + 2 + len))])) {
                throw .badLabels("label is not valid UTF-8")
            }
            o += 2 + len
        }
    }

    func validateGraph() throws(ModelError) {
        let input = tensor(inputTensor), output = tensor(outputTensor)
        if input.isConstant || output.isConstant { throw .badGraph("graph input and output must be activations") }
        if input.type == .int16 { throw .badGraph("graph input must be int8 or int32 (Q23.8 MFCC)") }
        if output.type != .int8 || output.elementCount > ModelLayout.maxClasses { throw .badGraph("graph output must be int8 with at most 1024 classes") }
        if labelCount != 0 && labelCount != output.elementCount { throw .badGraph("label count differs from the number of outputs") }
        if inputTensor == outputTensor { throw .badGraph("graph input and output are the same tensor") }
    }

    func validateOperators() throws(ModelError) {
        // Each activation is produced exactly once, before it is read; the graph input by nobody.
        var producedAt = [Int](repeating: -1, count: tensorCount)
        for i in 0..<operatorCount {
            let e = operatorsOffset + i * ModelLayout.operatorEntryBytes
            let r = ModelLayout.OperatorEntry.self
            guard let code = OpCode(rawValue: le16(bytes, e + r.opcode)) else { throw .badOperator(index: i, "unknown operator code") }
            let count = Int(bytes[e + r.inputCount])
            if count != operatorInputCount(code) { throw .badOperator(index: i, "wrong number of operator inputs") }
            if bytes[e + 3] != 0 { throw .badOperator(index: i, "reserved operator byte not zero") }
            for k in 0..<ModelLayout.maxOperatorInputs {
                let t = le32(bytes, e + r.inputs + 4 * k)
                if k < count {
                    if Int64(t) >= Int64(tensorCount) { throw .missingTensor(op: i, tensor: t) }
                    let info = tensor(Int(t))
                    if !info.isConstant && Int(t) != inputTensor && producedAt[Int(t)] < 0 {
                        throw .badOperator(index: i, "operator reads an activation no earlier operator produced")
                    }
                } else if t != ModelLayout.noTensor {
                    throw .badOperator(index: i, "unused operator input slot must be 0xFFFFFFFF")
                }
            }
            let out = le32(bytes, e + r.output)
            if Int64(out) >= Int64(tensorCount) { throw .missingTensor(op: i, tensor: out) }
            let o = Int(out)
            if tensor(o).isConstant || o == inputTensor { throw .badOperator(index: i, "operator output must be an activation other than the graph input") }
            if producedAt[o] >= 0 { throw .badOperator(index: i, "tensor produced by two operators") }
            for k in 0..<count where op(i).input(k) == o { throw .badOperator(index: i, "operator writes its own input") }
            producedAt[o] = i
            try validateOperator(i, op(i))
        }
        if producedAt[outputTensor] < 0 { throw .badGraph("no operator produces the graph output") }
        if tensor(inputTensor).type == .int32 && (op(0).opcode != .inputQuantize || op(0).input(0) != inputTensor) {
            throw .badGraph("an int32 graph input must be read by an input-quantize operator first")
        }
    }

    func validateOperator(_ i: Int, _ o: OperatorInfo) throws(ModelError) {
        let x = tensor(o.input(0)), y = tensor(o.output)
        func need(_ ok: Bool, _ m: StaticString) throws(ModelError) { if !ok { throw .shapeMismatch(op: i, m) } }
        func range(_ ok: Bool, _ m: StaticString) throws(ModelError) { if !ok { throw .paramOutOfRange(op: i, m) } }
        func vec(_ k: Int, _ type: TensorType, _ n: Int, _ m: StaticString) throws(ModelError) {
            let t = tensor(o.input(k))
            try need(t.isConstant && t.type == type && t.rank == 1 && t.dims.0 == n, m)
        }
        func requant(_ mk: Int, _ sk: Int, _ n: Int) throws(ModelError) {
            try vec(mk, .int32, n, "requantization multipliers must be a constant int32 vector of the channel count")
            try vec(sk, .int32, n, "requantization shifts must be a constant int32 vector of the channel count")
            let m = int32Data(o.input(mk)), s = int32Data(o.input(sk))
            for c in 0..<n where !isValidQuantizedMultiplier(m[c], s[c]) {
                throw .paramOutOfRange(op: i, "requantization multiplier must be >= 0 and shift in -31...30")
            }
        }
        func activation(_ p0: Int32, _ p1: Int32) throws(ModelError) {
            try range(p0 >= -128 && p0 <= p1 && p1 <= 127, "activation bounds must satisfy -128 <= min <= max <= 127")
        }
        func unusedParams(from k: Int) throws(ModelError) {
            for j in k..<ModelLayout.maxOperatorParams where o.param(j) != 0 { throw .paramOutOfRange(op: i, "unused operator parameter must be 0") }
        }
        switch o.opcode {
        case .inputQuantize:
            try need(!x.isConstant && x.type == .int32 && x.rank == 2, "input quantize reads an int32 [frames, coefficients] tensor")
            try need(y.type == .int8 && (y.rank == 2 || (y.rank == 3 && y.dims.2 == 1)) && y.dims.0 == x.dims.0 && y.dims.1 == x.dims.1,
                     "input quantize output must be int8 [frames, coefficients] or [frames, coefficients, 1]")
            try vec(1, .int32, x.dims.1, "input quantize mean must be a constant int32 vector of the coefficient count")
            try requant(2, 3, x.dims.1)
            try unusedParams(from: 0)
        case .conv2d:
            let w = tensor(o.input(1))
            try need(!x.isConstant && x.type == .int8 && x.rank == 3, "conv2d input must be int8 [H, W, C]")
            try need(w.isConstant && w.type == .int8 && w.rank == 4 && w.dims.3 == x.dims.2, "conv2d weights must be int8 [Cout, KH, KW, Cin]")
            try range(w.dims.1 % 2 == 1 && w.dims.2 % 2 == 1 && w.dims.1 <= 15 && w.dims.2 <= 15, "conv2d kernel sizes must be odd and at most 15")
            try range(w.dims.1 * w.dims.2 * w.dims.3 <= maxInnerProductLength, "conv2d inner product too long")
            try vec(2, .int32, w.dims.0, "conv2d bias must be a constant int32 vector of Cout")
            try requant(3, 4, w.dims.0)
            try activation(o.param(0), o.param(1))
            let ph = Int(o.param(2)), pw = Int(o.param(3))
            try range(ph >= 1 && ph <= 16 && pw >= 1 && pw <= 16, "conv2d pool sizes must be in 1...16")
            try need(y.type == .int8 && y.rank == 3 && y.dims.0 == samePoolGeometry(length: x.dims.0, pool: ph).output
                     && y.dims.1 == samePoolGeometry(length: x.dims.1, pool: pw).output && y.dims.2 == w.dims.0,
                     "conv2d output shape must be [ceil(H/pool), ceil(W/pool), Cout]")
            try unusedParams(from: 4)
        case .maxPool2d:
            let ph = Int(o.param(0)), pw = Int(o.param(1))
            try range(ph >= 1 && ph <= 16 && pw >= 1 && pw <= 16, "max-pool sizes must be in 1...16")
            try need(!x.isConstant && x.type == .int8 && x.rank == 3, "max-pool input must be int8 [H, W, C]")
            try need(y.type == .int8 && y.rank == 3 && y.dims.0 == samePoolGeometry(length: x.dims.0, pool: ph).output
                     && y.dims.1 == samePoolGeometry(length: x.dims.1, pool: pw).output && y.dims.2 == x.dims.2,
                     "max-pool output shape must be [ceil(H/pool), ceil(W/pool), C]")
            try need(y.zeroPoint == x.zeroPoint && y.scaleMultiplier == x.scaleMultiplier && y.scaleShift == x.scaleShift,
                     "max-pool output must have the input's quantization")
            try unusedParams(from: 2)
        case .affine:
            let c = x.dim(x.rank - 1)
            try need(!x.isConstant && x.type == .int8, "affine input must be int8")
            try need(y.type == .int8 && y.rank == x.rank && y.elementCount == x.elementCount && y.dim(y.rank - 1) == c, "affine output must have the input's shape")
            try vec(1, .int16, c, "affine weights must be a constant int16 vector of the channel count")
            try vec(2, .int32, c, "affine bias must be a constant int32 vector of the channel count")
            for v in int32Data(o.input(2)) where v <= -(1 << 30) || v >= (1 << 30) { throw .paramOutOfRange(op: i, "affine bias magnitude must be below 2^30") }
            try requant(3, 4, c)
            try activation(o.param(0), o.param(1))
            try unusedParams(from: 2)
        case .reshape:
            try need(!x.isConstant && x.type == y.type && x.elementCount == y.elementCount, "reshape must keep type and element count")
            try need(y.zeroPoint == x.zeroPoint, "reshape must keep the zero point")
            try unusedParams(from: 0)
        case .fullyConnected:
            let w = tensor(o.input(1))
            try need(!x.isConstant && x.type == .int8, "fully connected input must be int8")
            try need(w.isConstant && w.type == .int8 && w.rank == 2 && w.dims.1 == x.elementCount, "fully connected weights must be int8 [outputs, inputs]")
            try range(x.elementCount <= maxInnerProductLength, "fully connected inner product too long")
            try need(y.type == .int8 && y.elementCount == w.dims.0, "fully connected output must have one int8 value per weight row")
            try vec(2, .int32, w.dims.0, "fully connected bias must be a constant int32 vector of the output count")
            try requant(3, 4, w.dims.0)
            try activation(o.param(0), o.param(1))
            try unusedParams(from: 2)
        case .gru, .lstm:
            let gates = o.opcode == .gru ? 3 : 4
            let wx = tensor(o.input(1)), wh = tensor(o.input(2)), b = tensor(o.input(3))
            try need(!x.isConstant && x.type == .int8 && x.rank == 2, "recurrent input must be int8 [time, features]")
            let T = x.dims.0, I = x.dims.1
            try need(wx.isConstant && wx.type == .int8 && wx.rank == 2 && wx.dims.1 == I && wx.dims.0 % gates == 0,
                     "recurrent input weights must be int8 [gates*units, features]")
            let U = wx.dims.0 / gates
            try range(T <= 4096 && U <= 4096 && I <= maxInnerProductLength, "recurrent sizes out of range")
            try need(wh.isConstant && wh.type == .int8 && wh.rank == 2 && wh.dims.0 == gates * U && wh.dims.1 == U,
                     "recurrent weights must be int8 [gates*units, units]")
            // GRU: input and recurrent bias rows. LSTM: the input bias row only (format 1.1; 1.0 also wrote a zero row).
            try need(b.isConstant && b.type == .int32 && b.rank == 2 && b.dims.1 == gates * U
                     && (b.dims.0 == 2 || (o.opcode == .lstm && b.dims.0 == 1)),
                     "recurrent bias must be int32 [2, gates*units] (GRU) or [1 or 2, gates*units] (LSTM)")
            try requant(4, 5, gates * U)
            try requant(6, 7, gates * U)
            let seq = o.param(0)
            try range(seq == 0 || seq == 1, "return-sequences flag must be 0 or 1")
            try need(y.type == .int8 && y.rank == 2 && y.dims.0 == (seq == 1 ? T : 1) && y.dims.1 == U,
                     "recurrent output must be int8 [time, units] (sequences) or [1, units] (last state)")
            try need(y.zeroPoint == 0, "recurrent output zero point must be 0 (fixed scale 2^-7)")
            if o.opcode == .lstm {
                try range(o.param(1) >= 8 && o.param(1) <= 12, "LSTM cell fraction bits must be in 8...12")
                try unusedParams(from: 2)
            } else {
                try unusedParams(from: 1)
            }
        }
    }

    func validateFrontend() throws(ModelError) {
        if frontendLength == 0 { return }
        let f = ModelLayout.Frontend.self, o = frontendOffset, L = Int64(frontendLength)
        if L < Int64(ModelLayout.frontendHeaderBytes) { throw .badFrontend("frontend section shorter than its header") }
        if le32(bytes, o + f.tablesVersion) != ModelLayout.frontendTablesVersion { throw .badFrontend("unknown frontend tables version") }
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

/// Strict UTF-8 check (no overlongs, no surrogates, at most U+10FFFF).
public func isValidUTF8(_ b: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    let n = b.count
    while i < n {
        let c = b[i]
        if c < 0x80 { i += 1; continue }
        var need = 0, lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: return false
        }
        if i + need >= n { return false }
        for k in 1...need {
            let d = b[i + k]
            if k == 1 { if d < lo || d > hi { return false } } else if d < 0x80 || d > 0xBF { return false }
        }
        i += need + 1
    }
    return true
}
