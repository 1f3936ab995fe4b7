// The model file's layout constants (docs/model-format.md): offsets of every field, sizes, limits, and the
// enumerations stored in the file. The reader (ModelFile.swift) and the writer (ModelBuilder.swift) both use
// these; nothing else spells a file offset.

package enum ModelLayout {
    /// "CRNN" followed by CR LF SUB LF (catches text-mode and truncated transfers, as PNG's signature does).
    static let magic: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0x43, 0x52, 0x4E, 0x4E, 0x0D, 0x0A, 0x1A, 0x0A)
    static let versionMajor: UInt16 = 1
    static let versionMinor: UInt16 = 2
    /// Every section and every constant tensor's data starts at a multiple of this.
    package static let alignment = 16

    package static let headerBytes = 64
    package enum Header {
        package static let magic = 0, versionMajor = 8, versionMinor = 10, headerBytes = 12, fileBytes = 16,
                          sectionCount = 20, sectionTableOffset = 24, crc32 = 28, flags = 32
        // 36..<64 reserved, zero.
    }

    package static let sectionEntryBytes = 16
    package enum SectionEntry { public static let kind = 0, offset = 4, length = 8, count = 12 }
    static let maxSections = 64

    static let tensorEntryBytes = 64
    enum TensorEntry {
        static let type = 0, rank = 1, flags = 2, dims = 4, dataOffset = 20, dataBytes = 24,
                          zeroPoint = 28, scaleMultiplier = 32, scaleShift = 36, channelScalesOffset = 40,
                          channelScalesCount = 44
        // 48..<64 reserved, zero.
    }
    static let tensorFlagConstant: UInt16 = 1
    static let maxRank = 4
    static let maxDimension = 65535
    static let maxTensorElements: Int64 = 1 << 24
    static let maxTensors = 4096

    static let operatorEntryBytes = 64
    static let maxOperatorInputs = 8
    static let maxOperatorParams = 6
    enum OperatorEntry {
        static let opcode = 0, inputCount = 2, inputs = 4, output = 36, params = 40
    }
    static let maxOperators = 1024
    static let noTensor: UInt32 = 0xFFFF_FFFF

    static let graphBytes = 32
    enum Graph { public static let inputTensor = 0, outputTensor = 4, softmaxMultiplier = 8, softmaxShift = 12 }

    static let maxLabelBytes = 255
    static let maxClasses = 1024

    static let frontendHeaderBytes = 48
    enum Frontend {
        static let tablesVersion = 0, nFFT = 4, nMels = 8, nMFCC = 12, windowOffset = 16,
                          melSpansOffset = 20, melWeightsOffset = 24, melWeightCount = 28, dctOffset = 32,
                          melWeightExponent = 36, dctExponent = 40
    }
    /// Frontend versions (docs/fixed-point-mfcc.md): 1 = dB kept as Int32 (dB * 2^16) up to the DCT; 2 = each
    /// frame's pre-floor log-mel rounded to Int16 (dB * 2^7), so that a stream can keep frames in 16 bits and reuse them.
    static let frontendTablesVersions: ClosedRange<UInt32> = 1...2
}

/// Section kinds. Readers skip kinds they do not know (a newer minor version may append some).
public enum SectionKind: UInt32, Sendable {
    case featureConfig = 1, labels = 2, tensors = 3, operators = 4, data = 5, graph = 6, frontend = 7
}

/// Element types of tensors.
package enum TensorType: UInt8, Sendable {
    case int8 = 1, int16 = 2, int32 = 3
    var byteSize: Int { self == .int8 ? 1 : (self == .int16 ? 2 : 4) }
}

/// Operator codes; the inputs and params of each are listed in docs/model-format.md.
package enum OpCode: UInt16, Sendable {
    case inputQuantize = 1, conv2d = 2, maxPool2d = 3, affine = 4, reshape = 5, fullyConnected = 6, gru = 7, lstm = 8
}
