// ModelFile's validation of the tables: tensors, labels, graph and the operator graph's structure. Each
// operator's own contract (inputs, shapes, parameters) is checked by its kernel in Ops/.

extension ModelFile {
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
            if count != code.inputCount { throw .badOperator(index: i, "wrong number of operator inputs") }
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
            try code.kernel.validate(OperatorCheck(model: self, index: i, op: op(i)))
        }
        if producedAt[outputTensor] < 0 { throw .badGraph("no operator produces the graph output") }
        if tensor(inputTensor).type == .int32 && (op(0).opcode != .inputQuantize || op(0).input(0) != inputTensor) {
            throw .badGraph("an int32 graph input must be read by an input-quantize operator first")
        }
    }

}
