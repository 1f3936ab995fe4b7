// Decoded views of one tensor-table entry and one operator-table entry (docs/model-format.md §3, §4).

/// One tensor-table entry, decoded and validated.
package struct TensorInfo {
    package var type: TensorType
    package var rank: Int
    /// Dimensions; unused trailing ones are 1.
    var dims: (Int, Int, Int, Int)
    package var isConstant: Bool
    /// Byte offset of a constant's data from the start of the file (0 for activations).
    var fileOffset: Int
    package var byteCount: Int
    package var zeroPoint: Int32
    /// Informational per-tensor scale: scale = multiplier * 2^(shift - 31); multiplier 0 = not recorded.
    package var scaleMultiplier: Int32, scaleShift: Int32
    /// Per-channel (dimension 0) scales of a constant: pairs of Int32 (multiplier, shift) at this file offset.
    package var channelScalesFileOffset: Int, channelScalesCount: Int

    package var elementCount: Int { dims.0 * dims.1 * dims.2 * dims.3 }
    package func dim(_ i: Int) -> Int {
        switch i { case 0: return dims.0; case 1: return dims.1; case 2: return dims.2; default: return dims.3 }
    }
}

/// One operator-table entry.
package struct OperatorInfo {
    package var opcode: OpCode
    package var inputCount: Int
    var inputs: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
    package var output: Int
    var params: (Int32, Int32, Int32, Int32, Int32, Int32)
    package func input(_ i: Int) -> Int {
        let v: UInt32
        switch i {
        case 0: v = inputs.0; case 1: v = inputs.1; case 2: v = inputs.2; case 3: v = inputs.3
        case 4: v = inputs.4; case 5: v = inputs.5; case 6: v = inputs.6; default: v = inputs.7
        }
        return Int(truncatingIfNeeded: Int32(bitPattern: v))  // 0xFFFFFFFF (unused slot) -> -1, also on armv7
    }
    package func param(_ i: Int) -> Int32 {
        switch i {
        case 0: return params.0; case 1: return params.1; case 2: return params.2
        case 3: return params.3; case 4: return params.4; default: return params.5
        }
    }
}
