// Shared by the fuzz targets and the seed generator (fuzz/make_seeds/main.swift): a tiny model with a small
// feature configuration and its fixed-point frontend tables, built with CRNNRuntime's ModelBuilder, and a
// 16-byte aligned copy of the fuzzer's input (ModelFile requires an aligned buffer).
import CRNNRuntime
#if canImport(Glibc)
import Glibc
#endif

/// Small frontend: 1024-sample segments at 8 kHz, n_fft 256, hop 128 -> 9 frames x 8 MFCCs (16 mel bands).
/// Small enough that a stream target can classify many windows per second.
let fuzzFeatureConfig = FeatureConfig(sampleRate: 8000, segmentSamples: 1024, nFFT: 256, hopLength: 128,
                                      nMels: 16, nMFCC: 8)

/// Calls `body` with `bytes` copied to 16-byte aligned memory (valid only inside `body`).
func withAligned<R>(_ data: UnsafePointer<UInt8>?, _ size: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 16)
    defer { buffer.deallocate() }
    if size > 0, let data { buffer.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size)) }
    return body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<size]))
}

/// Periodic Hann window, triangular mel-like bands evenly spaced in Hz (area-normalised), ortho DCT-II, each
/// rounded to Q15 with the smallest exponent that fits: Tests/TestSupport/ReferenceFrontend.swift (compiled into
/// every target by tools/fuzz.sh), the runtime tests' tables.
func fuzzFrontendTables(_ c: FeatureConfig) -> FrontendTables { linearBandFrontendTables(c) }

enum FuzzModelKind { case gru, lstm, cnn }

/// A tiny CRNN on `fuzzFeatureConfig`: int32 MFCC [9, 8] -> input quantize -> conv 3x3 (2 filters, fused pool 2x2,
/// ReLU) -> affine -> separate max-pool (1, 2) -> reshape [T, W*C] -> GRU or LSTM (4 units, last step) or
/// flatten -> fully connected (3 classes). Weights from an integer LCG; `frontend` adds the tables section.
func fuzzTinyModel(_ kind: FuzzModelKind, frontend: Bool) -> [UInt8] {
    var state: UInt32 = kind == .gru ? 1 : (kind == .lstm ? 2 : 3)
    func next() -> UInt32 { state = state &* 1_664_525 &+ 1_013_904_223; return state }
    func int8s(_ n: Int) -> [Int8] { (0..<n).map { _ in Int8(truncatingIfNeeded: next() >> 24) } }
    func multipliers(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(1 << 30) + Int32(next() >> 3) } }
    func biases(_ n: Int, _ shift: UInt32) -> [Int32] { (0..<n).map { _ in Int32(truncatingIfNeeded: next() >> shift) - (1 << (31 - Int32(shift))) } }
    let c = fuzzFeatureConfig, frames = c.frameCount, coeffs = Int(c.nMFCC), filters = 2, units = 4, classes = 3
    var b = ModelBuilder()
    b.featureConfig = c
    let input = b.addActivation(.int32, shape: [frames, coeffs], scaleMultiplier: 1 << 30, scaleShift: -7)
    var x = b.addInputQuantize(input: input, mean: biases(coeffs, 16), multipliers: multipliers(coeffs),
                               shifts: [Int32](repeating: -8, count: coeffs), outputZeroPoint: -3)
    x = b.addConv2d(input: x, weights: int8s(filters * 9), kernel: (3, 3), outputChannels: filters,
                    bias: biases(filters, 20), multipliers: multipliers(filters), shifts: [Int32](repeating: -9, count: filters),
                    outputZeroPoint: -100, activationMin: -100, activationMax: 127, pool: (2, 2))
    x = b.addAffine(input: x, weights: (0..<filters).map { _ in Int16(truncatingIfNeeded: next() >> 16) },
                    bias: biases(filters, 12), multipliers: multipliers(filters), shifts: [Int32](repeating: -15, count: filters),
                    outputZeroPoint: 5)
    x = b.addMaxPool2d(input: x, pool: (1, 2))
    let h = (frames + 1) / 2, w = ((coeffs + 1) / 2 + 1) / 2
    let features: Int
    switch kind {
    case .cnn:
        x = b.addReshape(input: x, shape: [h * w * filters])
        features = h * w * filters
    case .gru, .lstm:
        x = b.addReshape(input: x, shape: [h, w * filters])
        let rows = (kind == .gru ? 3 : 4) * units
        x = b.addRecurrent(lstm: kind == .lstm, input: x, units: units, inputWeights: int8s(rows * w * filters),
                           recurrentWeights: int8s(rows * units), inputBias: biases(rows, 18),
                           recurrentBias: kind == .gru ? biases(rows, 18) : [Int32](repeating: 0, count: rows),
                           inputMultipliers: multipliers(rows), inputShifts: [Int32](repeating: -2, count: rows),
                           recurrentMultipliers: multipliers(rows), recurrentShifts: [Int32](repeating: -1, count: rows),
                           returnSequences: false, cellFractionBits: 11)
        x = b.addReshape(input: x, shape: [units])
        features = units
    }
    x = b.addFullyConnected(input: x, weights: int8s(classes * features), outputs: classes, bias: biases(classes, 20),
                            multipliers: multipliers(classes), shifts: [Int32](repeating: -6, count: classes), outputZeroPoint: 0)
    b.inputTensor = input
    b.outputTensor = x
    b.labels = (0..<classes).map { Array("genre\($0)".utf8) }
    b.softmaxMultiplier = 1 << 30
    b.softmaxShift = 13
    if frontend { b.frontend = fuzzFrontendTables(c) }
    return b.encode()
}

/// The frontend-tables section of `model` (the last section, as ModelBuilder writes it): (table entry offset,
/// section offset), or nil.
func frontendSectionEntry(_ model: [UInt8]) -> (entry: Int, offset: Int)? {
    func u32(_ o: Int) -> Int { Int(model[o]) | Int(model[o + 1]) << 8 | Int(model[o + 2]) << 16 | Int(model[o + 3]) << 24 }
    let count = u32(ModelLayout.Header.sectionCount), table = u32(ModelLayout.Header.sectionTableOffset)
    for i in 0..<count {
        let e = table + i * ModelLayout.sectionEntryBytes
        if u32(e + ModelLayout.SectionEntry.kind) == Int(SectionKind.frontend.rawValue) {
            return (e, u32(e + ModelLayout.SectionEntry.offset))
        }
    }
    return nil
}

/// Writes `v` little-endian at `at`.
func store32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> UInt32(8 * k)) }
}

/// Recomputes the header's CRC32 field of a model file in place (no-op when shorter than the header).
func fixModelCRC(_ b: inout [UInt8]) {
    guard b.count >= ModelLayout.headerBytes else { return }
    let declared = Int(b[16]) | Int(b[17]) << 8 | Int(b[18]) << 16 | Int(b[19]) << 24
    let end = min(max(declared, ModelLayout.headerBytes), b.count)
    let crc = b.withUnsafeBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[ModelLayout.headerBytes..<end])) }
    store32(&b, ModelLayout.Header.crc32, crc)
}

/// What the model targets do with a model that validated: plan its arena (the plan must cover its peak), and
/// when it fits in `maxArenaBytes` prepare an interpreter, fill the input with a fixed pattern, invoke, and read
/// the Q15 probabilities. Returns whether it invoked.
func planAndInvoke(_ model: ModelFile, maxArenaBytes: Int = 64 << 20) -> Bool {
    let plan = ArenaPlan(model: model)
    precondition(plan.arenaBytes >= plan.peakLiveBytes, "plan smaller than its peak")
    guard plan.arenaBytes <= maxArenaBytes, let it = try? Interpreter(model: model) else { return false }
    if let features = it.featureInput {
        for i in 0..<features.count { features[i] = Int32(truncatingIfNeeded: UInt32(truncatingIfNeeded: i) &* 2_654_435_761) >> 12 }
        it.invoke()
    } else {
        let q = it.int8Tensor(it.quantizedInputTensor)
        for i in 0..<q.count { q[i] = Int8(truncatingIfNeeded: i &* 37) }
        it.invoke(from: it.quantizedInputTensor == model.inputTensor ? 0 : 1)
    }
    var probabilities = [Int16](repeating: 0, count: it.output.count)
    probabilities.withUnsafeMutableBufferPointer { it.probabilitiesQ15(into: $0) }
    _ = it.top1
    return true
}
