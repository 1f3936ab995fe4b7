// ModelBuilder: the integer-only encoder of the model file (docs/model-format.md), using ModelFormat.swift's
// layout constants. The host quantizer fills it from the float math it does on the host; tests use it to
// make models. Embedded-compatible (no floating point, no Foundation).

/// The precomputed fixed-point frontend tables (section 7). See docs/model-format.md for their meaning.
public struct FrontendTables {
    /// Periodic Hann window, Q0.15, `nFFT` values.
    public var window: [Int16]
    /// Per mel band: first FFT bin and number of bins with a non-zero weight.
    public var melSpans: [(firstBin: UInt16, binCount: UInt16)]
    /// The non-zero mel weights, band after band, each band's `binCount` values; real = q * 2^(exponent - 15).
    public var melWeights: [Int16]
    public var melWeightExponent: Int32
    /// DCT-II (ortho) matrix [nMFCC, nMels], real = q * 2^(dctExponent - 15).
    public var dct: [Int16]
    public var dctExponent: Int32
    public init(window: [Int16], melSpans: [(firstBin: UInt16, binCount: UInt16)], melWeights: [Int16],
                melWeightExponent: Int32, dct: [Int16], dctExponent: Int32) {
        self.window = window; self.melSpans = melSpans; self.melWeights = melWeights
        self.melWeightExponent = melWeightExponent; self.dct = dct; self.dctExponent = dctExponent
    }
}

public struct ModelBuilder {
    struct Tensor {
        var type: TensorType, dims: [Int], constant: Bool, dataOffset: Int, dataBytes: Int
        var zeroPoint: Int32, scaleMultiplier: Int32, scaleShift: Int32, channelOffset: Int, channelCount: Int
    }
    struct Operator { var opcode: OpCode; var inputs: [Int]; var output: Int; var params: [Int32] }

    var tensors: [Tensor] = []
    var operators: [Operator] = []
    var data: [UInt8] = []
    public var featureConfig: FeatureConfig = .paper
    /// Class names as UTF-8 bytes, in output order.
    public var labels: [[UInt8]] = []
    public var inputTensor = 0
    public var outputTensor = 0
    /// Softmax exponent scale: real value logit_scale * log2(e) * 2^16 (see `softmaxQ15`).
    public var softmaxMultiplier: Int32 = 0, softmaxShift: Int32 = 0
    public var frontend: FrontendTables? = nil
    /// Written into the header; tests use it to make "newer" files.
    public var versionMajor = ModelLayout.versionMajor, versionMinor = ModelLayout.versionMinor

    public init() {}

    public var tensorCount: Int { tensors.count }

    // MARK: Tensors

    /// An activation (computed at run time). `scaleMultiplier`/`scaleShift`: its real scale as Q31 + shift
    /// (informational: the host dequantizes per-layer outputs with it); 0 = not recorded.
    public mutating func addActivation(_ type: TensorType, shape: [Int], zeroPoint: Int32 = 0,
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
    public mutating func addConstant(_ values: [Int8], shape: [Int], channelScales: [(Int32, Int32)] = []) -> Int {
        addConstant(.int8, shape: shape, count: values.count, channelScales: channelScales) { b in
            for v in values { b.data.append(UInt8(bitPattern: v)) }
        }
    }
    public mutating func addConstant(_ values: [Int16], shape: [Int], channelScales: [(Int32, Int32)] = []) -> Int {
        addConstant(.int16, shape: shape, count: values.count, channelScales: channelScales) { b in
            for v in values { b.appendLE(UInt32(UInt16(bitPattern: v)), bytes: 2) }
        }
    }
    public mutating func addConstant(_ values: [Int32], shape: [Int], channelScales: [(Int32, Int32)] = []) -> Int {
        addConstant(.int32, shape: shape, count: values.count, channelScales: channelScales) { b in
            for v in values { b.appendLE(UInt32(bitPattern: v), bytes: 4) }
        }
    }

    // MARK: Operators (raw)

    /// Appends an operator; `inputs` and `params` as in docs/model-format.md (params default to 0).
    public mutating func addOperator(_ opcode: OpCode, inputs: [Int], output: Int, params: [Int32] = []) {
        operators.append(Operator(opcode: opcode, inputs: inputs, output: output, params: params))
    }

    // MARK: Operators (typed helpers: create the constant tensors and the output activation)

    /// Per-channel requantization as two int32 vectors.
    public mutating func addRequant(_ multipliers: [Int32], _ shifts: [Int32]) -> (Int, Int) {
        (addConstant(multipliers, shape: [multipliers.count]), addConstant(shifts, shape: [shifts.count]))
    }

    /// inputQuantizeS8: `input` is int32 [frames, coefficients] (Q23.8 MFCC); returns the int8 output tensor
    /// [frames, coefficients, 1].
    public mutating func addInputQuantize(input: Int, mean: [Int32], multipliers: [Int32], shifts: [Int32],
                                          outputZeroPoint: Int32, outputScale: (Int32, Int32) = (0, 0)) -> Int {
        let t = tensors[input]
        let m = addConstant(mean, shape: [mean.count])
        let (rm, rs) = addRequant(multipliers, shifts)
        // Output [frames, coefficients, 1]: an image with one channel, ready for conv2d.
        let y = addActivation(.int8, shape: t.dims + [1], zeroPoint: outputZeroPoint,
                              scaleMultiplier: outputScale.0, scaleShift: outputScale.1)
        addOperator(.inputQuantize, inputs: [input, m, rm, rs], output: y)
        return y
    }

    /// conv2dS8 with weights [Cout, KH, KW, Cin]; returns the output tensor [ceil(H/ph), ceil(W/pw), Cout].
    public mutating func addConv2d(input: Int, weights: [Int8], kernel: (Int, Int), outputChannels: Int, bias: [Int32],
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
        addOperator(.conv2d, inputs: [input, w, b, rm, rs], output: y,
                    params: [activationMin, activationMax, Int32(pool.0), Int32(pool.1)])
        return y
    }

    public mutating func addMaxPool2d(input: Int, pool: (Int, Int)) -> Int {
        let t = tensors[input]
        let y = addActivation(.int8, shape: [samePoolGeometry(length: t.dims[0], pool: pool.0).output,
                                             samePoolGeometry(length: t.dims[1], pool: pool.1).output, t.dims[2]],
                              zeroPoint: t.zeroPoint, scaleMultiplier: t.scaleMultiplier, scaleShift: t.scaleShift)
        addOperator(.maxPool2d, inputs: [input], output: y, params: [Int32(pool.0), Int32(pool.1)])
        return y
    }

    /// affineS8 over the last dimension (channels).
    public mutating func addAffine(input: Int, weights: [Int16], bias: [Int32], multipliers: [Int32], shifts: [Int32],
                                   outputZeroPoint: Int32, activationMin: Int32 = -128, activationMax: Int32 = 127,
                                   outputScale: (Int32, Int32) = (0, 0)) -> Int {
        let t = tensors[input]
        let w = addConstant(weights, shape: [weights.count])
        let b = addConstant(bias, shape: [bias.count])
        let (rm, rs) = addRequant(multipliers, shifts)
        let y = addActivation(.int8, shape: t.dims, zeroPoint: outputZeroPoint,
                              scaleMultiplier: outputScale.0, scaleShift: outputScale.1)
        addOperator(.affine, inputs: [input, w, b, rm, rs], output: y, params: [activationMin, activationMax])
        return y
    }

    public mutating func addReshape(input: Int, shape: [Int]) -> Int {
        let t = tensors[input]
        let y = addActivation(t.type, shape: shape, zeroPoint: t.zeroPoint, scaleMultiplier: t.scaleMultiplier,
                              scaleShift: t.scaleShift)
        addOperator(.reshape, inputs: [input], output: y)
        return y
    }

    /// fullyConnectedS8 with weights [outputs, inputs]; output [outputs].
    public mutating func addFullyConnected(input: Int, weights: [Int8], outputs: Int, bias: [Int32],
                                           multipliers: [Int32], shifts: [Int32], outputZeroPoint: Int32,
                                           activationMin: Int32 = -128, activationMax: Int32 = 127,
                                           weightScales: [(Int32, Int32)] = [], outputScale: (Int32, Int32) = (0, 0)) -> Int {
        let w = addConstant(weights, shape: [outputs, weights.count / outputs], channelScales: weightScales)
        let b = addConstant(bias, shape: [outputs])
        let (rm, rs) = addRequant(multipliers, shifts)
        let y = addActivation(.int8, shape: [outputs], zeroPoint: outputZeroPoint,
                              scaleMultiplier: outputScale.0, scaleShift: outputScale.1)
        addOperator(.fullyConnected, inputs: [input, w, b, rm, rs], output: y, params: [activationMin, activationMax])
        return y
    }

    /// gruS8 (`lstm == false`, gates z, r, h) or lstmS8 (gates i, f, c, o). Weights as in `RecurrentS8Weights`;
    /// `inputBias` and `recurrentBias` have gates*units entries each. An LSTM has no recurrent bias (Keras keeps one
    /// bias vector): pass zeros or an empty array; only the input row is written (bias [1, gates*units]).
    /// The output is int8 at the fixed scale 2^-7 ([T, U] or [1, U]).
    public mutating func addRecurrent(lstm: Bool, input: Int, units: Int, inputWeights: [Int8], recurrentWeights: [Int8],
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
        addOperator(lstm ? .lstm : .gru, inputs: [input, wx, wh, b, im, ish, rm, rsh], output: y,
                    params: lstm ? [returnSequences ? 1 : 0, cellFractionBits] : [returnSequences ? 1 : 0])
        return y
    }

    // MARK: Encoding

    /// The complete file: header, section table, then sections in the order feature config, labels, tensors,
    /// operators, graph, data, frontend (optional), each 16-byte aligned; CRC32 over everything after the header.
    public func encode() -> [UInt8] {
        var sections: [(SectionKind, [UInt8], Int)] = []
        sections.append((.featureConfig, featureConfig.encodedBytes, 1))
        var lb: [UInt8] = []
        for l in labels { put16(&lb, UInt16(l.count)); lb += l }
        sections.append((.labels, lb, labels.count))
        var tb: [UInt8] = []
        for t in tensors {
            tb.append(t.type.rawValue); tb.append(UInt8(t.dims.count)); put16(&tb, t.constant ? ModelLayout.tensorFlagConstant : 0)
            for k in 0..<4 { put32(&tb, k < t.dims.count ? UInt32(t.dims[k]) : 1) }
            put32(&tb, UInt32(t.dataOffset)); put32(&tb, UInt32(t.dataBytes))
            put32(&tb, UInt32(bitPattern: t.zeroPoint))
            put32(&tb, UInt32(bitPattern: t.scaleMultiplier)); put32(&tb, UInt32(bitPattern: t.scaleShift))
            put32(&tb, UInt32(t.channelOffset)); put32(&tb, UInt32(t.channelCount))
            for _ in 0..<16 { tb.append(0) }
        }
        sections.append((.tensors, tb, tensors.count))
        var ob: [UInt8] = []
        for o in operators {
            put16(&ob, o.opcode.rawValue); ob.append(UInt8(o.inputs.count)); ob.append(0)
            for k in 0..<ModelLayout.maxOperatorInputs { put32(&ob, k < o.inputs.count ? UInt32(truncatingIfNeeded: o.inputs[k]) : ModelLayout.noTensor) }
            put32(&ob, UInt32(truncatingIfNeeded: o.output))
            for k in 0..<ModelLayout.maxOperatorParams { put32(&ob, UInt32(bitPattern: k < o.params.count ? o.params[k] : 0)) }
        }
        sections.append((.operators, ob, operators.count))
        var gb: [UInt8] = []
        put32(&gb, UInt32(inputTensor)); put32(&gb, UInt32(outputTensor))
        put32(&gb, UInt32(bitPattern: softmaxMultiplier)); put32(&gb, UInt32(bitPattern: softmaxShift))
        for _ in 0..<16 { gb.append(0) }
        sections.append((.graph, gb, 1))
        sections.append((.data, data, 0))
        if let f = frontend { sections.append((.frontend, encodeFrontend(f), 1)) }

        var out: [UInt8] = []
        let tableOffset = ModelLayout.headerBytes
        var offset = tableOffset + sections.count * ModelLayout.sectionEntryBytes
        var entries: [(UInt32, Int, Int, Int)] = []
        for s in sections {
            offset = (offset + ModelLayout.alignment - 1) / ModelLayout.alignment * ModelLayout.alignment
            entries.append((s.0.rawValue, offset, s.1.count, s.2))
            offset += s.1.count
        }
        // Header (CRC and size patched below).
        let m = ModelLayout.magic
        out += [m.0, m.1, m.2, m.3, m.4, m.5, m.6, m.7]
        put16(&out, versionMajor); put16(&out, versionMinor)
        put32(&out, UInt32(ModelLayout.headerBytes)); put32(&out, 0)
        put32(&out, UInt32(sections.count)); put32(&out, UInt32(tableOffset)); put32(&out, 0); put32(&out, 0)
        while out.count < ModelLayout.headerBytes { out.append(0) }
        for e in entries { put32(&out, e.0); put32(&out, UInt32(e.1)); put32(&out, UInt32(e.2)); put32(&out, UInt32(e.3)) }
        for (i, s) in sections.enumerated() {
            while out.count < entries[i].1 { out.append(0) }
            out += s.1
        }
        while out.count % ModelLayout.alignment != 0 { out.append(0) }
        set32(&out, ModelLayout.Header.fileBytes, UInt32(out.count))
        let crc = out.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[ModelLayout.headerBytes...])) }
        set32(&out, ModelLayout.Header.crc32, crc)
        return out
    }

    func encodeFrontend(_ f: FrontendTables) -> [UInt8] {
        let h = ModelLayout.frontendHeaderBytes
        func up(_ x: Int) -> Int { (x + 15) / 16 * 16 }
        let windowOff = h, spansOff = up(windowOff + 2 * f.window.count)
        let weightsOff = up(spansOff + 4 * f.melSpans.count), dctOff = up(weightsOff + 2 * f.melWeights.count)
        var b: [UInt8] = []
        put32(&b, ModelLayout.frontendTablesVersion); put32(&b, UInt32(f.window.count))
        put32(&b, UInt32(f.melSpans.count)); put32(&b, UInt32(f.melSpans.isEmpty ? 0 : f.dct.count / f.melSpans.count))
        put32(&b, UInt32(windowOff)); put32(&b, UInt32(spansOff)); put32(&b, UInt32(weightsOff))
        put32(&b, UInt32(f.melWeights.count)); put32(&b, UInt32(dctOff))
        put32(&b, UInt32(bitPattern: f.melWeightExponent)); put32(&b, UInt32(bitPattern: f.dctExponent)); put32(&b, 0)
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

@inline(__always) func put16(_ b: inout [UInt8], _ v: UInt16) {
    b.append(UInt8(truncatingIfNeeded: v)); b.append(UInt8(truncatingIfNeeded: v >> 8))
}
@inline(__always) func put32(_ b: inout [UInt8], _ v: UInt32) {
    for k in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> UInt32(8 * k))) }
}
@inline(__always) func set32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> UInt32(8 * k)) }
}
