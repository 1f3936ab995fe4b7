// The C API of CRNNRuntime (c-api/include/crnn.h): @_cdecl functions over the runtime's public types, compiled
// together with CRNNRuntime's sources as Embedded Swift into libcrnn.a (c-api/build.sh). The header is imported
// as the bridging header, so the C structs here are the header's own. Nothing throws across the boundary: every
// ModelError is mapped to a crnn_status, every argument is checked before the runtime sees it.
//
// The streaming part uses only StreamClassifier's public surface (init(classifier:hopSamples:), append,
// windowDue, classifyWindow, finish, clip and its counters), the same calls as crnn-infer --stream, so the
// scores are those of crnn-infer bit for bit.

typealias Extractor = FixedPointMFCCExtractor

// MARK: - Status codes (the header's constants, imported from crnn.h)

func status(of e: ModelError) -> crnn_status {
    switch e {
    case .misalignedBuffer: return CRNN_ERR_MISALIGNED
    case .truncated: return CRNN_ERR_TRUNCATED
    case .badMagic: return CRNN_ERR_BAD_MAGIC
    case .newerVersion, .badVersion: return CRNN_ERR_UNSUPPORTED_VERSION
    case .checksumMismatch: return CRNN_ERR_CORRUPT
    case .wrongInput: return CRNN_ERR_UNSUPPORTED_MODEL  // the classifier's input check (arenas are checked before)
    default: return CRNN_ERR_INVALID_MODEL
    }
}

/// A NUL-terminated static C string from a string literal (Swift emits literals NUL-terminated).
func cString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("crnn_status_string")
func crnnStatusString(_ s: crnn_status) -> UnsafePointer<CChar> {
    switch s {
    case CRNN_OK: return cString("ok")
    case CRNN_ERR_NULL_ARGUMENT: return cString("a required pointer argument is NULL")
    case CRNN_ERR_MISALIGNED: return cString("the model buffer or the arena is not 16-byte aligned")
    case CRNN_ERR_TRUNCATED: return cString("the model is truncated (shorter than its header or its declared size)")
    case CRNN_ERR_BAD_MAGIC: return cString("not a CRNN model file (wrong magic bytes)")
    case CRNN_ERR_UNSUPPORTED_VERSION: return cString("the model format version is not supported by this library")
    case CRNN_ERR_CORRUPT: return cString("the model is corrupt (CRC32 mismatch)")
    case CRNN_ERR_INVALID_MODEL: return cString("the model is invalid (a structural check failed; crnn_model_error says which)")
    case CRNN_ERR_UNSUPPORTED_MODEL: return cString("the model cannot be streamed: its input is not the MFCC of one segment")
    case CRNN_ERR_ARENA_TOO_SMALL: return cString("the arena is smaller than the model's arena_bytes")
    case CRNN_ERR_BAD_ARGUMENT: return cString("an argument is out of range")
    case CRNN_ERR_NO_WINDOW: return cString("no window has been classified yet")
    case CRNN_ERR_FINISHED: return cString("the stream is finished: call crnn_reset to start a new one")
    default: return cString("unknown status")
    }
}

// MARK: - Opening

/// The validated model with the objects crnn_open builds on it.
struct Opened {
    let model: ModelFile
    let interpreter: Interpreter
    let classifier: SegmentClassifier<Extractor>
}

/// The caller's model bytes; nil for a NULL pointer. `n` is a size_t: negative here means >= 2^63 (2^31 on armv7),
/// which callers refuse with CRNN_ERR_BAD_ARGUMENT first.
func modelBytes(_ p: UnsafeRawPointer?, _ n: Int) -> UnsafeRawBufferPointer? {
    guard let p, n >= 0 else { return nil }
    return UnsafeRawBufferPointer(start: p, count: n)
}

/// Whether a stream keeps each frame's unfloored DCT sums (23 KB for the paper config) so that a window's DCT costs
/// little. A microcontroller build (c-api/build.sh cortex-m: -D CRNN_LOW_RAM) drops them: a window then runs the DCT
/// of its frames as file mode does, the same integers, for RAM.
#if CRNN_LOW_RAM
let streamKeepsDCTSums = false
#else
let streamKeepsDCTSums = true
#endif

/// The interpreter (in `arena` when given), the MFCC front end and the segment classifier of a validated model:
/// the same sequence as crnn-infer's loadModel + makeClassifier.
func openModel(_ model: ModelFile, arena: UnsafeMutableRawBufferPointer?) throws(ModelError) -> Opened {
    let interpreter: Interpreter
    if let arena { interpreter = try Interpreter(model: model, arena: arena) } else { interpreter = try Interpreter(model: model) }
    let extractor = try FixedPointMFCCExtractor(model: model, streamDCTSums: streamKeepsDCTSums)
    let classifier = try SegmentClassifier(interpreter: interpreter, extractor: extractor)
    return Opened(model: model, interpreter: interpreter, classifier: classifier)
}

func fill(_ info: UnsafeMutablePointer<crnn_model_info>, model: ModelFile, arenaBytes: Int) {
    let c = model.featureConfig
    info.pointee = crnn_model_info(
        sample_rate: c.sampleRate, segment_samples: c.segmentSamples, frame_hop: c.hopLength,
        class_count: Int32(model.tensor(model.outputTensor).elementCount),
        version_major: Int32(model.versionMajor), version_minor: Int32(model.versionMinor),
        arena_bytes: arenaBytes, mfcc_scratch_bytes: max(FixedPointMFCC.scratchBytes(config: c), 16))
}

/// What crnn_open checks, without building the interpreter or allocating the front end's buffers: ModelFile
/// (every table), the arena plan, the front-end tables, and SegmentClassifier's input check (an int32 input of
/// one segment's MFCC, frame-major), restated here because SegmentClassifier runs it only on an interpreter.
func validate(_ bytes: UnsafeRawBufferPointer) throws(ModelError) -> (ModelFile, Int) {
    let model = try ModelFile(bytes: bytes)
    _ = try FixedPointMFCC(model: model)
    let config = model.featureConfig
    let input = model.tensor(model.inputTensor)
    if input.type != .int32 || input.elementCount != config.valuesPerSegment || input.dims.0 != config.frameCount {
        throw .wrongInput("model input is not the Q23.8 MFCC [frames x n_mfcc] of its feature configuration")
    }
    return (model, ArenaPlan(model: model).arenaBytes)
}

@_cdecl("crnn_query")
func crnnQuery(_ p: UnsafeRawPointer?, _ n: Int, _ info: UnsafeMutablePointer<crnn_model_info>?) -> crnn_status {
    if n < 0 { return CRNN_ERR_BAD_ARGUMENT }
    guard let bytes = modelBytes(p, n), let info else { return CRNN_ERR_NULL_ARGUMENT }
    do throws(ModelError) {
        let (model, arenaBytes) = try validate(bytes)
        fill(info, model: model, arenaBytes: arenaBytes)
        return CRNN_OK
    } catch {
        return status(of: error)
    }
}

@_cdecl("crnn_model_error")
func crnnModelError(_ p: UnsafeRawPointer?, _ n: Int) -> UnsafePointer<CChar>? {
    if n < 0 { return cString("model size out of range") }
    guard let bytes = modelBytes(p, n) else { return cString("model pointer is NULL") }
    do throws(ModelError) {
        _ = try validate(bytes)
        return nil
    } catch {
        return cString(error.message)
    }
}

// MARK: - The handle

/// What a `crnn_t *` points to (retained while open; crnn_close releases it).
final class Handle {
    let model: ModelFile
    let interpreter: Interpreter
    let classifier: SegmentClassifier<Extractor>
    let hopSamples: Int
    /// Optional only so that crnn_reset can free the old ring before allocating the new one.
    var stream: StreamClassifier<Extractor>!
    var finished = false
    let classCount: Int
    /// The latest window (copies, so that they stay valid whatever the runtime does with its buffers).
    let scores: UnsafeMutableBufferPointer<Int16>
    let logits: UnsafeMutableBufferPointer<Int8>
    var window = crnn_window()
    var hasWindow = false
    /// Labels, each NUL-terminated, and where each starts.
    let labelBytes: UnsafeMutableBufferPointer<CChar>
    let labelStarts: UnsafeMutableBufferPointer<Int>

    init(_ o: Opened, hopSamples: Int) {
        model = o.model
        interpreter = o.interpreter
        classifier = o.classifier
        self.hopSamples = hopSamples
        stream = StreamClassifier(classifier: o.classifier, hopSamples: hopSamples)
        classCount = o.classifier.classCount
        scores = .allocate(capacity: classCount)
        scores.initialize(repeating: 0)
        logits = .allocate(capacity: classCount)
        logits.initialize(repeating: 0)
        // Labels: the model's UTF-8 bytes, or `class<c>` for a model without labels.
        var total = 0
        for c in 0..<classCount { total += Handle.labelLength(o.model, c) + 1 }
        labelBytes = .allocate(capacity: total)
        labelStarts = .allocate(capacity: classCount)
        var at = 0
        for c in 0..<classCount {
            labelStarts[c] = at
            at = Handle.writeLabel(o.model, c, into: labelBytes, at: at)
            labelBytes[at] = 0
            at += 1
        }
    }

    deinit {
        scores.deallocate()
        logits.deallocate()
        labelBytes.deallocate()
        labelStarts.deallocate()
    }

    static func hasLabel(_ m: ModelFile, _ c: Int) -> Bool { c < m.labelCount }

    static func labelLength(_ m: ModelFile, _ c: Int) -> Int {
        if hasLabel(m, c) { return m.label(c).count }
        var digits = 1, v = c
        while v >= 10 { v /= 10; digits += 1 }
        return 5 + digits
    }

    static func writeLabel(_ m: ModelFile, _ c: Int, into b: UnsafeMutableBufferPointer<CChar>, at start: Int) -> Int {
        var at = start
        if hasLabel(m, c) {
            for byte in m.label(c) { b[at] = CChar(bitPattern: byte); at += 1 }
            return at
        }
        let prefix: StaticString = "class"
        for k in 0..<5 { b[at] = CChar(bitPattern: prefix.utf8Start[k]); at += 1 }
        let n = labelLength(m, c) - 5
        var v = c
        for k in stride(from: n - 1, through: 0, by: -1) {
            b[at + k] = CChar(truncatingIfNeeded: 48 + v % 10)
            v /= 10
        }
        return at + n
    }

    /// Copies the window just classified (its probabilities `p`) out of the runtime.
    func record(_ p: UnsafeBufferPointer<Int16>, partial: Bool) {
        for c in 0..<classCount { scores[c] = p[c] }
        let out = interpreter.output
        for c in 0..<classCount { logits[c] = out[c] }
        window = crnn_window(
            index: stream.windowCount - 1, start_sample: partial ? 0 : stream.windowStart,
            end_sample: stream.classifiedEnd, genre: Int32(classifier.top1), partial: partial ? 1 : 0,
            scores_q15: UnsafePointer(scores.baseAddress), logits: UnsafePointer(logits.baseAddress))
        hasWindow = true
    }
}

func handle(_ p: OpaquePointer?) -> Handle? {
    guard let p else { return nil }
    return Unmanaged<Handle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

@_cdecl("crnn_open")
func crnnOpen(_ p: UnsafeRawPointer?, _ n: Int, _ arena: UnsafeMutableRawPointer?, _ arenaBytes: Int, _ hopMicroseconds: UInt32,
              _ out: UnsafeMutablePointer<OpaquePointer?>?) -> crnn_status {
    guard let out else { return CRNN_ERR_NULL_ARGUMENT }
    out.pointee = nil
    if n < 0 || arenaBytes < 0 { return CRNN_ERR_BAD_ARGUMENT }
    guard let bytes = modelBytes(p, n) else { return CRNN_ERR_NULL_ARGUMENT }
    do throws(ModelError) {
        let model = try ModelFile(bytes: bytes)
        var callerArena: UnsafeMutableRawBufferPointer? = nil
        if let arena {
            if UInt(bitPattern: arena) % 16 != 0 { return CRNN_ERR_MISALIGNED }
            if arenaBytes < ArenaPlan(model: model).arenaBytes { return CRNN_ERR_ARENA_TOO_SMALL }
            callerArena = UnsafeMutableRawBufferPointer(start: arena, count: arenaBytes)
        }
        let o = try openModel(model, arena: callerArena)
        let us = hopMicroseconds == 0 ? Int64(1_000_000) : Int64(hopMicroseconds)
        let frames = StreamClassifier<Extractor>.hopFrames(microseconds: us, config: o.classifier.config)
        let h = Handle(o, hopSamples: frames * Int(o.classifier.config.hopLength))
        out.pointee = OpaquePointer(Unmanaged.passRetained(h).toOpaque())
        return CRNN_OK
    } catch {
        return status(of: error)
    }
}

@_cdecl("crnn_close")
func crnnClose(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<Handle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("crnn_info")
func crnnInfo(_ p: OpaquePointer?, _ info: UnsafeMutablePointer<crnn_model_info>?) -> crnn_status {
    guard let h = handle(p), let info else { return CRNN_ERR_NULL_ARGUMENT }
    fill(info, model: h.model, arenaBytes: h.interpreter.arenaBytes)
    return CRNN_OK
}

@_cdecl("crnn_hop_samples")
func crnnHopSamples(_ p: OpaquePointer?) -> Int32 {
    guard let h = handle(p) else { return 0 }
    return Int32(h.hopSamples)
}

// MARK: - Streaming

@_cdecl("crnn_push")
func crnnPush(_ p: OpaquePointer?, _ pcm: UnsafePointer<Int16>?, _ count: Int, _ consumed: UnsafeMutablePointer<Int>?,
              _ ready: UnsafeMutablePointer<Int32>?) -> crnn_status {
    guard let h = handle(p), let consumed, let ready else { return CRNN_ERR_NULL_ARGUMENT }
    consumed.pointee = 0
    ready.pointee = 0
    if h.finished { return CRNN_ERR_FINISHED }
    if count < 0 { return CRNN_ERR_BAD_ARGUMENT }
    if count == 0 { return CRNN_OK }
    guard let pcm else { return CRNN_ERR_NULL_ARGUMENT }
    let took = h.stream.append(UnsafeBufferPointer(start: pcm, count: count))
    consumed.pointee = took
    if h.stream.windowDue {
        let probabilities = h.stream.classifyWindow()
        h.record(probabilities, partial: false)
        ready.pointee = 1
    }
    return CRNN_OK
}

@_cdecl("crnn_finish")
func crnnFinish(_ p: OpaquePointer?, _ ready: UnsafeMutablePointer<Int32>?) -> crnn_status {
    guard let h = handle(p) else { return CRNN_ERR_NULL_ARGUMENT }
    ready?.pointee = 0
    if h.finished { return CRNN_ERR_FINISHED }
    h.finished = true
    if h.stream.finish() {
        h.record(h.classifier.probabilities, partial: true)
        ready?.pointee = 1
    }
    return CRNN_OK
}

@_cdecl("crnn_reset")
func crnnReset(_ p: OpaquePointer?) -> crnn_status {
    guard let h = handle(p) else { return CRNN_ERR_NULL_ARGUMENT }
    h.stream = nil
    h.stream = StreamClassifier(classifier: h.classifier, hopSamples: h.hopSamples)
    h.finished = false
    h.hasWindow = false
    return CRNN_OK
}

// MARK: - Results

@_cdecl("crnn_get_window")
func crnnGetWindow(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<crnn_window>?) -> crnn_status {
    guard let h = handle(p), let out else { return CRNN_ERR_NULL_ARGUMENT }
    if !h.hasWindow { return CRNN_ERR_NO_WINDOW }
    out.pointee = h.window
    return CRNN_OK
}

@_cdecl("crnn_get_clip")
func crnnGetClip(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<crnn_clip>?) -> crnn_status {
    guard let h = handle(p), let out else { return CRNN_ERR_NULL_ARGUMENT }
    let s: StreamClassifier<Extractor> = h.stream
    let c = ClipConfidence(s.clip)
    out.pointee = crnn_clip(
        windows: s.windowCount, samples: s.totalSamples, unclassified_samples: s.unclassifiedSamples,
        genre: Int32(c.top1), confidence_q15: c.probabilityQ15, margin_q15: c.marginQ15,
        uncertain: s.windowCount > 0 && c.isUncertain() ? 1 : 0)
    return CRNN_OK
}

@_cdecl("crnn_get_clip_scores")
func crnnGetClipScores(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?, _ capacity: Int) -> crnn_status {
    guard let h = handle(p), let out else { return CRNN_ERR_NULL_ARGUMENT }
    if capacity < h.classCount { return CRNN_ERR_BAD_ARGUMENT }
    for c in 0..<h.classCount { out[c] = h.stream.clip.meanQ15(c) }
    return CRNN_OK
}

@_cdecl("crnn_label")
func crnnLabel(_ p: OpaquePointer?, _ c: Int32) -> UnsafePointer<CChar>? {
    guard let h = handle(p), c >= 0, Int(c) < h.classCount else { return nil }
    return UnsafePointer(h.labelBytes.baseAddress! + h.labelStarts[Int(c)])
}
