// ModelBuilder: the integer-only encoder of the model file (docs/model-format.md), using ModelLayout.swift's
// layout constants and the operators' named slots (Ops/). The host quantizer fills it from the float math it does on the host; tests use it to
// make models. Embedded-compatible (no floating point, no Foundation).

/// The precomputed fixed-point frontend tables (section 7). See docs/model-format.md for their meaning.
package struct FrontendTables {
    /// Periodic Hann window, Q0.15, `nFFT` values.
    package var window: [Int16]
    /// Per mel band: first FFT bin and number of bins with a non-zero weight.
    package var melSpans: [(firstBin: UInt16, binCount: UInt16)]
    /// The non-zero mel weights, band after band, each band's `binCount` values; real = q * 2^(exponent - 15).
    package var melWeights: [Int16]
    package var melWeightExponent: Int32
    /// DCT-II (ortho) matrix [nMFCC, nMels], real = q * 2^(dctExponent - 15).
    package var dct: [Int16]
    package var dctExponent: Int32
    /// The frontend version (`FixedPointMFCC.version`): 1 keeps dB in 32 bits up to the DCT, 2 rounds each frame's
    /// log-mel to 16 bits (the streaming frontend's frame store). Files written before version 2 existed say 1.
    package var version: UInt32
    /// The newest frontend version this runtime implements (what crnn-quantize writes by default).
    package static let latestVersion: UInt32 = ModelLayout.frontendTablesVersions.upperBound
    package init(window: [Int16], melSpans: [(firstBin: UInt16, binCount: UInt16)], melWeights: [Int16],
                melWeightExponent: Int32, dct: [Int16], dctExponent: Int32, version: UInt32 = 1) {
        self.window = window; self.melSpans = melSpans; self.melWeights = melWeights
        self.melWeightExponent = melWeightExponent; self.dct = dct; self.dctExponent = dctExponent
        self.version = version
    }
}

package struct ModelBuilder {
    struct Tensor {
        var type: TensorType, dims: [Int], constant: Bool, dataOffset: Int, dataBytes: Int
        var zeroPoint: Int32, scaleMultiplier: Int32, scaleShift: Int32, channelOffset: Int, channelCount: Int
    }
    struct Operator { var opcode: OpCode; var inputs: [Int]; var output: Int; var params: [Int32] }

    var tensors: [Tensor] = []
    var operators: [Operator] = []
    var data: [UInt8] = []
    package var featureConfig: FeatureConfig = .paper
    /// Class names as UTF-8 bytes, in output order.
    package var labels: [[UInt8]] = []
    package var inputTensor = 0
    package var outputTensor = 0
    /// Softmax exponent scale: real value logit_scale * log2(e) * 2^16 (see `softmaxQ15`).
    package var softmaxMultiplier: Int32 = 0, softmaxShift: Int32 = 0
    package var frontend: FrontendTables? = nil
    /// Written into the header; tests use it to make "newer" files.
    package var versionMajor = ModelLayout.versionMajor
    /// nil: the lowest minor that describes the file (1.2 with frontend tables version 2, else 1.1).
    package var versionMinor: UInt16? = nil

    package init() {}

    package var tensorCount: Int { tensors.count }

    // MARK: Tensors

    /// An activation (computed at run time). `scaleMultiplier`/`scaleShift`: its real scale as Q31 + shift
    /// (informational: the host dequantizes per-layer outputs with it); 0 = not recorded.
    package mutating func addActivation(_ type: TensorType, shape: [Int], zeroPoint: Int32 = 0,
                                       scaleMultiplier: Int32 = 0, scaleShift: Int32 = 0) -> Int {
        tensors.append(Tensor(type: type, dims: shape, constant: false, dataOffset: 0, dataBytes: 0,
                              zeroPoint: zeroPoint, scaleMultiplier: scaleMultiplier, scaleShift: scaleShift,
                              channelOffset: 0, channelCount: 0))
        return tensors.count - 1
    }

    mutating func align(_ a: Int) { while data.count % a != 0 { data.append(0) } }

    mutating func appendLE(_ v: UInt32, bytes n: Int) {
        var x = v
        for _ in 0..<n { data.append(UInt8(truncatingIfNeeded: x)); x >>= 8 }
    }

    mutating func addConstant(_ type: TensorType, shape: [Int], count: Int, channelScales: [(Int32, Int32)],
                              write: (inout ModelBuilder) -> Void) -> Int {
        align(ModelLayout.alignment)
        let off = data.count
        write(&self)
        precondition(data.count - off == count * type.byteSize)
        var chOff = 0
        if !channelScales.isEmpty {
            align(ModelLayout.alignment)
            chOff = data.count
            for (m, s) in channelScales { appendLE(UInt32(bitPattern: m), bytes: 4); appendLE(UInt32(bitPattern: s), bytes: 4) }
        }
        tensors.append(Tensor(type: type, dims: shape, constant: true, dataOffset: off, dataBytes: count * type.byteSize,
                              zeroPoint: 0, scaleMultiplier: 0, scaleShift: 0, channelOffset: chOff,
                              channelCount: channelScales.count))
        return tensors.count - 1
    }

    /// A constant int8 tensor (weights). `channelScales`: per dimension-0 channel (multiplier, shift) of the
    /// weight scale (informational; empty or one per channel).
    mutating func addConstant(_ values: [Int8], shape: [Int], channelScales: [(Int32, Int32)] = []) -> Int {
        addConstant(.int8, shape: shape, count: values.count, channelScales: channelScales) { b in
            for v in values { b.data.append(UInt8(bitPattern: v)) }
        }
    }
    mutating func addConstant(_ values: [Int16], shape: [Int], channelScales: [(Int32, Int32)] = []) -> Int {
        addConstant(.int16, shape: shape, count: values.count, channelScales: channelScales) { b in
            for v in values { b.appendLE(UInt32(UInt16(bitPattern: v)), bytes: 2) }
        }
    }
    mutating func addConstant(_ values: [Int32], shape: [Int], channelScales: [(Int32, Int32)] = []) -> Int {
        addConstant(.int32, shape: shape, count: values.count, channelScales: channelScales) { b in
            for v in values { b.appendLE(UInt32(bitPattern: v), bytes: 4) }
        }
    }

    // MARK: Operators (raw)

    /// Appends an operator; `inputs` and `params` as in docs/model-format.md (params default to 0).
    mutating func addOperator(_ opcode: OpCode, inputs: [Int], output: Int, params: [Int32] = []) {
        operators.append(Operator(opcode: opcode, inputs: inputs, output: output, params: params))
    }

    /// Operator inputs or parameters by named slot (`Conv2dOp.Input.weights`, `Conv2dOp.Param.poolHeight`...):
    /// `count` values, each slot set once, unset ones 0.
    func slotted<T: FixedWidthInteger>(_ count: Int, _ assignments: [(slot: Int, value: T)]) -> [T] {
        var out = [T](repeating: 0, count: count)
        for a in assignments { out[a.slot] = a.value }
        return out
    }

    // MARK: Operators (typed helpers: create the constant tensors and the output activation)

    /// Per-channel requantization as two int32 vectors.
    mutating func addRequant(_ multipliers: [Int32], _ shifts: [Int32]) -> (Int, Int) {
        (addConstant(multipliers, shape: [multipliers.count]), addConstant(shifts, shape: [shifts.count]))
    }

    /// inputQuantizeS8: `input` is int32 [frames, coefficients] (Q23.8 MFCC); returns the int8 output tensor
    /// [frames, coefficients, 1].
    package mutating func addInputQuantize(input: Int, mean: [Int32], multipliers: [Int32], shifts: [Int32],
                                          outputZeroPoint: Int32, outputScale: (Int32, Int32) = (0, 0)) -> Int {
        let t = tensors[input]
        let m = addConstant(mean, shape: [mean.count])
        let (rm, rs) = addRequant(multipliers, shifts)
        // Output [frames, coefficients, 1]: an image with one channel, ready for conv2d.
        let y = addActivation(.int8, shape: t.dims + [1], zeroPoint: outputZeroPoint,
                              scaleMultiplier: outputScale.0, scaleShift: outputScale.1)
        let I = InputQuantizeOp.Input.self
        addOperator(.inputQuantize, inputs: slotted(I.count, [(I.features, input), (I.mean, m), (I.multipliers, rm), (I.shifts, rs)]),
                    output: y)
        return y
    }

    /// conv2dS8 with weights [Cout, KH, KW, Cin]; returns the output tensor [ceil(H/ph), ceil(W/pw), Cout].
    package mutating func addConv2d(input: Int, weights: [Int8], kernel: (Int, Int), outputChannels: Int, bias: [Int32],
                                   multipliers: [Int32], shifts: [Int32], outputZeroPoint: Int32,
                                   activationMin: Int32, activationMax: Int32, pool: (Int, Int) = (1, 1),
                                   weightScales: [(Int32, Int32)] = [], outputScale: (Int32, Int32) = (0, 0)) -> Int {
        let x = tensors[input].dims
        let w = addConstant(weights, shape: [outputChannels, kernel.0, kernel.1, x[2]], channelScales: weightScales)
        let b = addConstant(bias, shape: [outputChannels])
        let (rm, rs) = addRequant(multipliers, shifts)
        let y = addActivation(.int8, shape: [samePoolGeometry(length: x[0], pool: pool.0).output,
                                             samePoolGeometry(length: x[1], pool: pool.1).output, outputChannels],
                              zeroPoint: outputZeroPoint, scaleMultiplier: outputScale.0, scaleShift: outputScale.1)
        let I = Conv2dOp.Input.self, P = Conv2dOp.Param.self
        addOperator(.conv2d, inputs: slotted(I.count, [(I.data, input), (I.weights, w), (I.bias, b), (I.multipliers, rm), (I.shifts, rs)]),
                    output: y, params: slotted(P.count, [(P.activationMin, activationMin), (P.activationMax, activationMax),
                                                         (P.poolHeight, Int32(pool.0)), (P.poolWidth, Int32(pool.1))]))
        return y
    }

    package mutating func addMaxPool2d(input: Int, pool: (Int, Int)) -> Int {
        let t = tensors[input]
        let y = addActivation(.int8, shape: [samePoolGeometry(length: t.dims[0], pool: pool.0).output,
                                             samePoolGeometry(length: t.dims[1], pool: pool.1).output, t.dims[2]],
                              zeroPoint: t.zeroPoint, scaleMultiplier: t.scaleMultiplier, scaleShift: t.scaleShift)
        let I = MaxPool2dOp.Input.self, P = MaxPool2dOp.Param.self
        addOperator(.maxPool2d, inputs: slotted(I.count, [(I.data, input)]), output: y,
                    params: slotted(P.count, [(P.poolHeight, Int32(pool.0)), (P.poolWidth, Int32(pool.1))]))
        return y
    }

    /// affineS8 over the last dimension (channels).
    package mutating func addAffine(input: Int, weights: [Int16], bias: [Int32], multipliers: [Int32], shifts: [Int32],
                                   outputZeroPoint: Int32, activationMin: Int32 = -128, activationMax: Int32 = 127,
                                   outputScale: (Int32, Int32) = (0, 0)) -> Int {
        let t = tensors[input]
        let w = addConstant(weights, shape: [weights.count])
        let b = addConstant(bias, shape: [bias.count])
        let (rm, rs) = addRequant(multipliers, shifts)
        let y = addActivation(.int8, shape: t.dims, zeroPoint: outputZeroPoint,
                              scaleMultiplier: outputScale.0, scaleShift: outputScale.1)
        let I = AffineOp.Input.self, P = AffineOp.Param.self
        addOperator(.affine, inputs: slotted(I.count, [(I.data, input), (I.weights, w), (I.bias, b), (I.multipliers, rm), (I.shifts, rs)]),
                    output: y, params: slotted(P.count, [(P.activationMin, activationMin), (P.activationMax, activationMax)]))
        return y
    }

    package mutating func addReshape(input: Int, shape: [Int]) -> Int {
        let t = tensors[input]
        let y = addActivation(t.type, shape: shape, zeroPoint: t.zeroPoint, scaleMultiplier: t.scaleMultiplier,
                              scaleShift: t.scaleShift)
        addOperator(.reshape, inputs: slotted(ReshapeOp.Input.count, [(ReshapeOp.Input.data, input)]), output: y)
        return y
    }

    /// fullyConnectedS8 with weights [outputs, inputs]; output [outputs].
    package mutating func addFullyConnected(input: Int, weights: [Int8], outputs: Int, bias: [Int32],
                                           multipliers: [Int32], shifts: [Int32], outputZeroPoint: Int32,
                                           activationMin: Int32 = -128, activationMax: Int32 = 127,
                                           weightScales: [(Int32, Int32)] = [], outputScale: (Int32, Int32) = (0, 0)) -> Int {
        let w = addConstant(weights, shape: [outputs, weights.count / outputs], channelScales: weightScales)
        let b = addConstant(bias, shape: [outputs])
        let (rm, rs) = addRequant(multipliers, shifts)
        let y = addActivation(.int8, shape: [outputs], zeroPoint: outputZeroPoint,
                              scaleMultiplier: outputScale.0, scaleShift: outputScale.1)
        let I = FullyConnectedOp.Input.self, P = FullyConnectedOp.Param.self
        addOperator(.fullyConnected, inputs: slotted(I.count, [(I.data, input), (I.weights, w), (I.bias, b), (I.multipliers, rm), (I.shifts, rs)]),
                    output: y, params: slotted(P.count, [(P.activationMin, activationMin), (P.activationMax, activationMax)]))
        return y
    }

    /// gruS8 (`lstm == false`, gates z, r, h) or lstmS8 (gates i, f, c, o). Weights as in `RecurrentS8Weights`;
    /// `inputBias` and `recurrentBias` have gates*units entries each. An LSTM has no recurrent bias (Keras keeps one
    /// bias vector): pass zeros or an empty array; only the input row is written (bias [1, gates*units]).
    /// The output is int8 at the fixed scale 2^-7 ([T, U] or [1, U]).
    package mutating func addRecurrent(lstm: Bool, input: Int, units: Int, inputWeights: [Int8], recurrentWeights: [Int8],
                                      inputBias: [Int32], recurrentBias: [Int32],
                                      inputMultipliers: [Int32], inputShifts: [Int32],
                                      recurrentMultipliers: [Int32], recurrentShifts: [Int32],
                                      returnSequences: Bool, cellFractionBits: Int32 = 12,
                                      inputWeightScales: [(Int32, Int32)] = [],
                                      recurrentWeightScales: [(Int32, Int32)] = []) -> Int {
        let x = tensors[input].dims
        let g = lstm ? 4 : 3
        let wx = addConstant(inputWeights, shape: [g * units, x[1]], channelScales: inputWeightScales)
        let wh = addConstant(recurrentWeights, shape: [g * units, units], channelScales: recurrentWeightScales)
        precondition(!lstm || recurrentBias.allSatisfy { $0 == 0 }, "an LSTM has no recurrent bias")
        let b = lstm ? addConstant(inputBias, shape: [1, g * units])
                     : addConstant(inputBias + recurrentBias, shape: [2, g * units])
        let (im, ish) = addRequant(inputMultipliers, inputShifts)
        let (rm, rsh) = addRequant(recurrentMultipliers, recurrentShifts)
        // Scale 2^-7 = 2^30 * 2^(-6 - 31).
        let y = addActivation(.int8, shape: [returnSequences ? x[0] : 1, units], zeroPoint: 0,
                              scaleMultiplier: 1 << 30, scaleShift: -6)
        let I = RecurrentOp.Input.self
        let inputs = slotted(I.count, [(I.data, input), (I.inputWeights, wx), (I.recurrentWeights, wh), (I.bias, b),
                                       (I.inputMultipliers, im), (I.inputShifts, ish),
                                       (I.recurrentMultipliers, rm), (I.recurrentShifts, rsh)])
        let sequences: Int32 = returnSequences ? 1 : 0
        if lstm {
            let P = LstmOp.Param.self
            addOperator(.lstm, inputs: inputs, output: y,
                        params: slotted(P.count, [(P.returnSequences, sequences), (P.cellFractionBits, cellFractionBits)]))
        } else {
            addOperator(.gru, inputs: inputs, output: y, params: slotted(GruOp.Param.count, [(GruOp.Param.returnSequences, sequences)]))
        }
        return y
    }

    // MARK: Encoding

    /// The complete file: header, section table, then sections in the order feature config, labels, tensors,
    /// operators, graph, data, frontend (optional), each 16-byte aligned; CRC32 over everything after the header.
    /// Every field is written at its `ModelLayout` offset (the reader's constants).
    package func encode() -> [UInt8] {
        var sections: [(SectionKind, [UInt8], Int)] = []
        sections.append((.featureConfig, featureConfig.encodedBytes, 1))
        var lb: [UInt8] = []
        for l in labels { put16(&lb, UInt16(l.count)); lb += l }
        sections.append((.labels, lb, labels.count))
        var tb: [UInt8] = []
        for t in tensors { tb += encodeTensor(t) }
        sections.append((.tensors, tb, tensors.count))
        var ob: [UInt8] = []
        for o in operators { ob += encodeOperator(o) }
        sections.append((.operators, ob, operators.count))
        let g = ModelLayout.Graph.self
        var gb = [UInt8](repeating: 0, count: ModelLayout.graphBytes)
        set32(&gb, g.inputTensor, UInt32(inputTensor)); set32(&gb, g.outputTensor, UInt32(outputTensor))
        set32(&gb, g.softmaxMultiplier, UInt32(bitPattern: softmaxMultiplier))
        set32(&gb, g.softmaxShift, UInt32(bitPattern: softmaxShift))
        sections.append((.graph, gb, 1))
        sections.append((.data, data, 0))
        if let f = frontend { sections.append((.frontend, encodeFrontend(f), 1)) }

        let tableOffset = ModelLayout.headerBytes
        var offset = tableOffset + sections.count * ModelLayout.sectionEntryBytes
        var offsets: [Int] = []
        for s in sections {
            offset = (offset + ModelLayout.alignment - 1) / ModelLayout.alignment * ModelLayout.alignment
            offsets.append(offset)
            offset += s.1.count
        }
        // Header (file size and CRC patched below); flags and reserved bytes stay zero.
        let h = ModelLayout.Header.self
        var out = [UInt8](repeating: 0, count: ModelLayout.headerBytes)
        let m = ModelLayout.magic
        for (k, byte) in [m.0, m.1, m.2, m.3, m.4, m.5, m.6, m.7].enumerated() { out[h.magic + k] = byte }
        set16(&out, h.versionMajor, versionMajor); set16(&out, h.versionMinor, versionMinor ?? ((frontend?.version ?? 1) >= 2 ? 2 : 1))
        set32(&out, h.headerBytes, UInt32(ModelLayout.headerBytes))
        set32(&out, h.sectionCount, UInt32(sections.count)); set32(&out, h.sectionTableOffset, UInt32(tableOffset))
        let se = ModelLayout.SectionEntry.self
        for (i, s) in sections.enumerated() {
            var e = [UInt8](repeating: 0, count: ModelLayout.sectionEntryBytes)
            set32(&e, se.kind, s.0.rawValue); set32(&e, se.offset, UInt32(offsets[i]))
            set32(&e, se.length, UInt32(s.1.count)); set32(&e, se.count, UInt32(s.2))
            out += e
        }
        for (i, s) in sections.enumerated() {
            while out.count < offsets[i] { out.append(0) }
            out += s.1
        }
        while out.count % ModelLayout.alignment != 0 { out.append(0) }
        set32(&out, h.fileBytes, UInt32(out.count))
        let crc = out.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[ModelLayout.headerBytes...])) }
        set32(&out, h.crc32, crc)
        return out
    }

    /// One tensor-table entry (`ModelLayout.TensorEntry`); unused dimensions 1, reserved bytes 0.
    func encodeTensor(_ t: Tensor) -> [UInt8] {
        let r = ModelLayout.TensorEntry.self
        var e = [UInt8](repeating: 0, count: ModelLayout.tensorEntryBytes)
        e[r.type] = t.type.rawValue
        e[r.rank] = UInt8(t.dims.count)
        set16(&e, r.flags, t.constant ? ModelLayout.tensorFlagConstant : 0)
        for k in 0..<ModelLayout.maxRank { set32(&e, r.dims + 4 * k, k < t.dims.count ? UInt32(t.dims[k]) : 1) }
        set32(&e, r.dataOffset, UInt32(t.dataOffset)); set32(&e, r.dataBytes, UInt32(t.dataBytes))
        set32(&e, r.zeroPoint, UInt32(bitPattern: t.zeroPoint))
        set32(&e, r.scaleMultiplier, UInt32(bitPattern: t.scaleMultiplier)); set32(&e, r.scaleShift, UInt32(bitPattern: t.scaleShift))
        set32(&e, r.channelScalesOffset, UInt32(t.channelOffset)); set32(&e, r.channelScalesCount, UInt32(t.channelCount))
        return e
    }

    /// One operator-table entry (`ModelLayout.OperatorEntry`); unused input slots 0xFFFFFFFF, unused params 0.
    func encodeOperator(_ o: Operator) -> [UInt8] {
        let r = ModelLayout.OperatorEntry.self
        var e = [UInt8](repeating: 0, count: ModelLayout.operatorEntryBytes)
        set16(&e, r.opcode, o.opcode.rawValue)
        e[r.inputCount] = UInt8(o.inputs.count)
        for k in 0..<ModelLayout.maxOperatorInputs {
            set32(&e, r.inputs + 4 * k, k < o.inputs.count ? UInt32(truncatingIfNeeded: o.inputs[k]) : ModelLayout.noTensor)
        }
        set32(&e, r.output, UInt32(truncatingIfNeeded: o.output))
        for k in 0..<ModelLayout.maxOperatorParams { set32(&e, r.params + 4 * k, UInt32(bitPattern: k < o.params.count ? o.params[k] : 0)) }
        return e
    }

    func encodeFrontend(_ f: FrontendTables) -> [UInt8] {
        let r = ModelLayout.Frontend.self
        func up(_ x: Int) -> Int { (x + ModelLayout.alignment - 1) / ModelLayout.alignment * ModelLayout.alignment }
        let windowOff = ModelLayout.frontendHeaderBytes, spansOff = up(windowOff + 2 * f.window.count)
        let weightsOff = up(spansOff + 4 * f.melSpans.count), dctOff = up(weightsOff + 2 * f.melWeights.count)
        var b = [UInt8](repeating: 0, count: ModelLayout.frontendHeaderBytes)
        set32(&b, r.tablesVersion, f.version); set32(&b, r.nFFT, UInt32(f.window.count))
        set32(&b, r.nMels, UInt32(f.melSpans.count))
        set32(&b, r.nMFCC, UInt32(f.melSpans.isEmpty ? 0 : f.dct.count / f.melSpans.count))
        set32(&b, r.windowOffset, UInt32(windowOff)); set32(&b, r.melSpansOffset, UInt32(spansOff))
        set32(&b, r.melWeightsOffset, UInt32(weightsOff)); set32(&b, r.melWeightCount, UInt32(f.melWeights.count))
        set32(&b, r.dctOffset, UInt32(dctOff))
        set32(&b, r.melWeightExponent, UInt32(bitPattern: f.melWeightExponent)); set32(&b, r.dctExponent, UInt32(bitPattern: f.dctExponent))
        for v in f.window { put16(&b, UInt16(bitPattern: v)) }
        while b.count < spansOff { b.append(0) }
        for s in f.melSpans { put16(&b, s.firstBin); put16(&b, s.binCount) }
        while b.count < weightsOff { b.append(0) }
        for v in f.melWeights { put16(&b, UInt16(bitPattern: v)) }
        while b.count < dctOff { b.append(0) }
        for v in f.dct { put16(&b, UInt16(bitPattern: v)) }
        return b
    }
}

