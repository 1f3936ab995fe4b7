// Why a model file (or a call on a loaded model) was refused: one typed error for the whole runtime.

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
