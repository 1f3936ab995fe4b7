// crnn-infer MODEL --bench [AUDIO.wav] [--runs N] [--json]: median latency per segment of the fixed-point
// MFCC, the convolution blocks, the recurrent layers and the whole path; the streaming front end's cost per
// 1-s hop (frame reuse); real-time factor; memory.
//
// Stage timing without an interpreter hook: the Interpreter runs operators `from ..< operatorCount` only
// (`invoke(from:)`), so a second interpreter that keeps every activation (`keepAllActivations`, so the
// recurrent input is still in its arena after a full run) times the tail from the first GRU/LSTM operator;
// convolution = network - tail (medians). The exact per-stage numbers want a hook in Interpreter (an
// `invoke(range:)` or a per-operator callback with the op index); see docs/crnn-infer.md.
//
// Validates before it times: two runs give identical features and probabilities, and the keep-all
// interpreter gives the same logits as the planned one.

import CRNNRuntime

func medianNanoseconds(runs: Int, _ body: () -> Void) -> Int64 {
    var t = [Int64](repeating: 0, count: runs)
    for r in 0..<runs {
        let a = monotonicNanoseconds()
        body()
        t[r] = monotonicNanoseconds() - a
    }
    t.sort()
    return runs % 2 == 1 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2
}

/// A deterministic 3-s test signal without floating point: a 441 Hz triangle, a slow square and LCG noise.
func fillBenchSignal(_ s: UnsafeMutableBufferPointer<Int16>) {
    var lcg: UInt32 = 12345
    for i in 0..<s.count {
        lcg = lcg &* 1_664_525 &+ 1_013_904_223
        let phase = i % 50
        let triangle = (phase < 25 ? phase : 50 - phase) * 640 - 8000
        let square = (i / 2205) % 2 == 0 ? 3000 : -3000
        let noise = Int(Int16(truncatingIfNeeded: lcg >> 16)) / 16
        s[i] = Int16(triangle + square + noise)
    }
}

func bench(_ o: Options, _ m: LoadedModel, out: Output, err: Output) throws(Exit) {
    let classifier = try makeClassifier(m, err: err)
    let config = classifier.config
    let seg = classifier.segmentSamples
    var keepFile: FileBytes? = nil
    if let path = o.files.first {
        guard let (file, wav) = openWAV(path, err: err) else { throw .badInput }
        do throws(ClassifyError) { _ = try classifier.segmentCount(of: wav) } catch {
            putClassifyError(err, path, error, config)
            throw .badInput
        }
        _ = classifier.loadSegment(0, of: wav)
        keepFile = file
    } else {
        fillBenchSignal(classifier.segment)
    }

    // Validate: deterministic, and the staged interpreter computes the same logits.
    let staged: Interpreter
    do throws(ModelError) { staged = try Interpreter(model: m.model, keepAllActivations: true) } catch {
        fileError(err, m.path, error.message)
        throw .badInput
    }
    classifier.classifySegment(validSamples: seg)
    let firstFeatures = Array(classifier.features), firstProbs = Array(classifier.probabilities)
    classifier.classifySegment(validSamples: seg)
    var stagedSame = true
    do throws(ModelError) { try staged.run(features: classifier.features) } catch { stagedSame = false }
    for i in 0..<staged.output.count where staged.output[i] != classifier.interpreter.output[i] { stagedSame = false }
    if firstFeatures != Array(classifier.features) || firstProbs != Array(classifier.probabilities) || !stagedSame {
        err.put("crnn-infer: bench: validation failed (runs differ, or the staged interpreter disagrees)\n")
        throw .badInput
    }
    var tailStart = -1, recurrentOps = 0
    for i in 0..<m.model.operatorCount {
        let code = m.model.op(i).opcode
        if code == .gru || code == .lstm {
            recurrentOps += 1
            if tailStart < 0 { tailStart = i }
        }
    }
    if tailStart < 0 {  // CNN baseline: the tail is the dense head
        for i in 0..<m.model.operatorCount where m.model.op(i).opcode == .fullyConnected && tailStart < 0 { tailStart = i }
    }

    let runs = o.runs
    let mfcc = medianNanoseconds(runs: runs) { classifier.extractFeatures(validSamples: seg) }
    let network = medianNanoseconds(runs: runs) { classifier.runNetwork() }
    let tail = tailStart < 0 ? 0 : medianNanoseconds(runs: runs) { staged.invoke(from: tailStart) }
    let total = medianNanoseconds(runs: runs) { classifier.classifySegment(validSamples: seg) }
    let conv = max(0, network - tail)
    // Streaming with frame reuse (frontend-version-2 models): the front end's cost per 1-s hop in steady state,
    // the hop's new frames plus the due window's edge frames, floor and DCT. The stream is the segment repeated.
    let hopSamples = StreamClassifier<DeviceExtractor>.hopFrames(microseconds: 1_000_000, config: config) * Int(config.hopLength)
    var streamHop: Int64 = -1
    var streamBytes = seg * 2  // without reuse: a ring of one segment
    if let frames = classifier.extractor.makeStreamingFrontend(hopSamples: hopSamples, idleMemory: UnsafeMutableRawBufferPointer(start: nil, count: 0)) {
        let feats = UnsafeMutableBufferPointer<Int32>.allocate(capacity: config.valuesPerSegment)
        defer { feats.deallocate() }
        var position = 0
        func pushLooped(_ count: Int) {
            var left = count
            while left > 0 {
                let n = min(left, seg - position)
                frames.push(UnsafeBufferPointer(rebasing: UnsafeBufferPointer(classifier.segment)[position..<(position + n)]))
                position = (position + n) % seg
                left -= n
            }
        }
        pushLooped(seg)
        frames.windowFeatures(window: 0, validSamples: seg, into: feats.baseAddress!)
        if Array(feats) != firstFeatures {
            err.put("crnn-infer: bench: validation failed (the streaming frontend's window differs from file mode)\n")
            throw .badInput
        }
        var w: Int64 = 1
        streamHop = medianNanoseconds(runs: runs) {
            pushLooped(hopSamples)
            frames.windowFeatures(window: w, validSamples: seg, into: feats.baseAddress!)
            w += 1
        }
        streamBytes = frames.memoryBytes
    }
    let segmentNs = Int64(seg) * 1_000_000_000  // divided by the rate below
    let rate = Int64(config.sampleRate)
    let arena = classifier.interpreter.arenaBytes
    // Segment audio, features, probabilities, and the fixed-point MFCC's scratch.
    let buffers = seg * 2 + config.valuesPerSegment * 4 + classifier.classCount * 2 + classifier.extractor.scratchBytes
    _ = keepFile

    if o.json {
        let json = JSONWriter(out)
        json.beginObject()
        json.key("runs"); json.number(runs)
        json.key("input")
        if let p = o.files.first { json.string(p) } else { json.string("generated") }
        json.key("mfcc_ms"); json.fixed(mfcc, 1_000_000, decimals: 4)
        json.key("convolution_ms"); json.fixed(conv, 1_000_000, decimals: 4)
        json.key("recurrent_ms"); json.fixed(tail, 1_000_000, decimals: 4)
        json.key("network_ms"); json.fixed(network, 1_000_000, decimals: 4)
        json.key("total_ms"); json.fixed(total, 1_000_000, decimals: 4)
        json.key("real_time_factor"); json.fixed(total * rate, segmentNs, decimals: 6)
        json.key("arena_bytes"); json.number(arena)
        json.key("classifier_buffer_bytes"); json.number(buffers)
        json.key("stream_ring_bytes"); json.number(streamBytes)
        json.key("stream_hop_samples"); json.number(hopSamples)
        json.key("stream_hop_frontend_ms")
        if streamHop >= 0 { json.fixed(streamHop, 1_000_000, decimals: 4) } else { json.null() }
        json.key("stream_frame_reuse"); json.bool(streamHop >= 0)
        json.key("model_bytes"); json.number(m.file.count)
        json.endObject(); json.endLine()
        return
    }
    out.put("model: "); out.put(bytes: m.path); out.put(", "); out.put(m.file.count); out.put(" bytes, ")
    out.put(m.model.operatorCount); out.put(" operators, "); out.put(classifier.classCount); out.put(" classes\n")
    out.put("input: ")
    if let p = o.files.first { out.put(bytes: p); out.put(", segment 0") } else { out.put("generated 3-s signal") }
    out.put("; median of "); out.put(runs); out.put(" runs per stage, per ")
    out.putSeconds(Int64(seg), rate: config.sampleRate); out.put("-s segment\n")
    func line(_ name: StaticString, _ ns: Int64, _ note: StaticString) {
        out.put(name); out.put(fixed: ns, 1_000_000, decimals: 3); out.put(" ms  "); out.put(note); out.newline()
    }
    line("  mfcc (fixed point)   ", mfcc, "")
    line("  convolution          ", conv, "(input quantize + conv blocks = network - recurrent)")
    if recurrentOps > 0 {
        line("  recurrent            ", tail, "(GRU/LSTM layers + dense head)")
    } else {
        line("  dense head           ", tail, "(no recurrent layers in this model)")
    }
    line("  network              ", network, "(+ softmax)")
    line("  total                ", total, "(mfcc + network)")
    if streamHop >= 0 {
        line("  stream, per 1-s hop  ", streamHop, "(front end with frame reuse: new frames + window edges, floor, DCT)")
    } else {
        out.put("  stream, per 1-s hop  = mfcc (this model's frontend version 1 recomputes every frame; re-quantize for reuse)\n")
    }
    out.put("real-time factor: "); out.put(fixed: total * rate, segmentNs, decimals: 5)
    out.put(" ("); out.put(fixed: segmentNs, max(total * rate, 1), decimals: 1); out.put("x faster than real time)\n")
    out.put("memory: arena "); out.put(arena); out.put(" bytes (planned; "); out.put(classifier.interpreter.unplannedBytes)
    out.put(" without reuse), classifier buffers (audio, features, MFCC scratch) "); out.put(buffers); out.put(" bytes, stream ")
    out.put(streamBytes); out.put(streamHop >= 0 ? " bytes (frame rows, history, frame scratch), model " : " bytes (ring of one segment), model "); out.put(m.file.count); out.put(" bytes\n")
}
