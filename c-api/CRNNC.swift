// The C API of CRNNRuntime (c-api/include/crnn.h): @_cdecl functions over the runtime's public types, compiled
// together with CRNNRuntime's sources as Embedded Swift into libcrnn.a (c-api/build.sh). The header is imported
// as the bridging header, so the C structs here are the header's own. Nothing throws across the boundary: every
// ModelError is mapped to a crnn_status, every argument is checked before the runtime sees it.
//
// The streaming part uses only StreamClassifier's public surface (init(classifier:hopSamples:), append,
// windowDue, classifyWindow, finish, clip and its counters), the same calls as crnn-infer --stream, so the
// scores are those of crnn-infer bit for bit.

typealias Extractor = FixedPointMFCCExtractor

// MARK: - Status codes

/// The numeric values of crnn.h's `crnn_status` (the C enum is imported as a struct; these keep the Swift side
/// readable and are checked against the header by c-api/check.sh through the example's output).
enum Status: Int32 {
    case ok = 0, nullArgument, misaligned, truncated, badMagic, unsupportedVersion, corrupt, invalidModel,
         unsupportedModel, arenaTooSmall, badArgument, noWindow, finished
}

func cStatus(_ s: Status) -> crnn_status { crnn_status(rawValue: UInt32(s.rawValue)) }

func status(of e: ModelError) -> Status {
    switch e {
    case .misalignedBuffer: return .misaligned
    case .truncated: return .truncated
    case .badMagic: return .badMagic
    case .newerVersion, .badVersion: return .unsupportedVersion
    case .checksumMismatch: return .corrupt
    case .wrongInput: return .unsupportedModel
    default: return .invalidModel
    }
}

/// A NUL-terminated static C string from a string literal (Swift emits literals NUL-terminated).
func cString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("crnn_status_string")
func crnnStatusString(_ s: crnn_status) -> UnsafePointer<CChar> {
    guard let v = Status(rawValue: Int32(bitPattern: s.rawValue)) else { return cString("unknown status") }
    switch v {
    case .ok: return cString("ok")
    case .nullArgument: return cString("a required pointer argument is NULL")
    case .misaligned: return cString("the model buffer or the arena is not 16-byte aligned")
    case .truncated: return cString("the model is truncated (shorter than its header or its declared size)")
    case .badMagic: return cString("not a CRNN model file (wrong magic bytes)")
    case .unsupportedVersion: return cString("the model format version is not supported by this library")
    case .corrupt: return cString("the model is corrupt (CRC32 mismatch)")
    case .invalidModel: return cString("the model is invalid (a structural check failed; crnn_model_error says which)")
    case .unsupportedModel: return cString("the model cannot be streamed: its input is not the MFCC of one segment")
    case .arenaTooSmall: return cString("the arena is smaller than the model's arena_bytes")
    case .badArgument: return cString("an argument is out of range")
    case .noWindow: return cString("no window has been classified yet")
    case .finished: return cString("the stream is finished: call crnn_reset to start a new one")
    }
}

// MARK: - Opening

/// The validated model with the objects crnn_open builds, or the first error.
struct Opened {
    let model: ModelFile
    let interpreter: Interpreter
    let classifier: SegmentClassifier<Extractor>
}

func modelBytes(_ p: UnsafeRawPointer?, _ n: Int) -> UnsafeRawBufferPointer? {
    guard let p, n >= 0 else { return nil }
    return UnsafeRawBufferPointer(start: p, count: n)
}

/// ModelFile, then the interpreter (in `arena` when given), the MFCC front end and the segment classifier: the
/// same sequence as crnn-infer's loadModel + makeClassifier.
func openModel(_ bytes: UnsafeRawBufferPointer, arena: UnsafeMutableRawBufferPointer?) throws(ModelError) -> Opened {
    let model = try ModelFile(bytes: bytes)
    let interpreter: Interpreter
    if let arena { interpreter = try Interpreter(model: model, arena: arena) } else { interpreter = try Interpreter(model: model) }
    let extractor = try FixedPointMFCCExtractor(model: model)
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
    guard let bytes = modelBytes(p, n), let info else { return cStatus(.nullArgument) }
    do throws(ModelError) {
        let (model, arenaBytes) = try validate(bytes)
        fill(info, model: model, arenaBytes: arenaBytes)
        return cStatus(.ok)
    } catch {
        return cStatus(status(of: error))
    }
}

@_cdecl("crnn_model_error")
func crnnModelError(_ p: UnsafeRawPointer?, _ n: Int) -> UnsafePointer<CChar>? {
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
    guard let out else { return cStatus(.nullArgument) }
    out.pointee = nil
    guard let bytes = modelBytes(p, n) else { return cStatus(.nullArgument) }
    do throws(ModelError) {
        let model = try ModelFile(bytes: bytes)
        var callerArena: UnsafeMutableRawBufferPointer? = nil
        if let arena {
            if UInt(bitPattern: arena) % 16 != 0 { return cStatus(.misaligned) }
            if arenaBytes < ArenaPlan(model: model).arenaBytes { return cStatus(.arenaTooSmall) }
            callerArena = UnsafeMutableRawBufferPointer(start: arena, count: arenaBytes)
        }
        let o = try openModel(bytes, arena: callerArena)
        let us = hopMicroseconds == 0 ? Int64(1_000_000) : Int64(hopMicroseconds)
        let frames = StreamClassifier<Extractor>.hopFrames(microseconds: us, config: o.classifier.config)
        let h = Handle(o, hopSamples: frames * Int(o.classifier.config.hopLength))
        out.pointee = OpaquePointer(Unmanaged.passRetained(h).toOpaque())
        return cStatus(.ok)
    } catch {
        return cStatus(status(of: error))
    }
}

@_cdecl("crnn_close")
func crnnClose(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<Handle>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("crnn_info")
func crnnInfo(_ p: OpaquePointer?, _ info: UnsafeMutablePointer<crnn_model_info>?) -> crnn_status {
    guard let h = handle(p), let info else { return cStatus(.nullArgument) }
    fill(info, model: h.model, arenaBytes: h.interpreter.arenaBytes)
    return cStatus(.ok)
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
    guard let h = handle(p), let consumed, let ready else { return cStatus(.nullArgument) }
    consumed.pointee = 0
    ready.pointee = 0
    if h.finished { return cStatus(.finished) }
    if count < 0 { return cStatus(.badArgument) }
    if count == 0 { return cStatus(.ok) }
    guard let pcm else { return cStatus(.nullArgument) }
    let took = h.stream.append(UnsafeBufferPointer(start: pcm, count: count))
    consumed.pointee = took
    if h.stream.windowDue {
        let probabilities = h.stream.classifyWindow()
        h.record(probabilities, partial: false)
        ready.pointee = 1
    }
    return cStatus(.ok)
}

@_cdecl("crnn_finish")
func crnnFinish(_ p: OpaquePointer?, _ ready: UnsafeMutablePointer<Int32>?) -> crnn_status {
    guard let h = handle(p) else { return cStatus(.nullArgument) }
    ready?.pointee = 0
    if h.finished { return cStatus(.finished) }
    h.finished = true
    if h.stream.finish() {
        h.record(h.classifier.probabilities, partial: true)
        ready?.pointee = 1
    }
    return cStatus(.ok)
}

@_cdecl("crnn_reset")
func crnnReset(_ p: OpaquePointer?) -> crnn_status {
    guard let h = handle(p) else { return cStatus(.nullArgument) }
    h.stream = nil
    h.stream = StreamClassifier(classifier: h.classifier, hopSamples: h.hopSamples)
    h.finished = false
    h.hasWindow = false
    return cStatus(.ok)
}

// MARK: - Results

@_cdecl("crnn_get_window")
func crnnGetWindow(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<crnn_window>?) -> crnn_status {
    guard let h = handle(p), let out else { return cStatus(.nullArgument) }
    if !h.hasWindow { return cStatus(.noWindow) }
    out.pointee = h.window
    return cStatus(.ok)
}

@_cdecl("crnn_get_clip")
func crnnGetClip(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<crnn_clip>?) -> crnn_status {
    guard let h = handle(p), let out else { return cStatus(.nullArgument) }
    let s: StreamClassifier<Extractor> = h.stream
    let c = ClipConfidence(s.clip)
    out.pointee = crnn_clip(
        windows: s.windowCount, samples: s.totalSamples, unclassified_samples: s.unclassifiedSamples,
        genre: Int32(c.top1), confidence_q15: c.probabilityQ15, margin_q15: c.marginQ15,
        uncertain: s.windowCount > 0 && c.isUncertain() ? 1 : 0)
    return cStatus(.ok)
}

@_cdecl("crnn_get_clip_scores")
func crnnGetClipScores(_ p: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?, _ capacity: Int) -> crnn_status {
    guard let h = handle(p), let out else { return cStatus(.nullArgument) }
    if capacity < h.classCount { return cStatus(.badArgument) }
    for c in 0..<h.classCount { out[c] = h.stream.clip.meanQ15(c) }
    return cStatus(.ok)
}

@_cdecl("crnn_label")
func crnnLabel(_ p: OpaquePointer?, _ c: Int32) -> UnsafePointer<CChar>? {
    guard let h = handle(p), c >= 0, Int(c) < h.classCount else { return nil }
    return UnsafePointer(h.labelBytes.baseAddress! + h.labelStarts[Int(c)])
}
