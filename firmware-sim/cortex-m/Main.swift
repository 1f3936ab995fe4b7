// Entry of the bare-metal Cortex-M image (firmware-sim/run, docs/microcontroller.md): the model is read in place
// from flash, and the test audio, also in flash, is pushed into the runtime's StreamClassifier 512 samples at a
// time, as a microphone's DMA would deliver it. Each input is one segment, so one window. Prints, through
// semihosting, per window its Q23.8 MFCC (one line per frame), one line with the Q15 probabilities, the int8
// logits and the instructions it took; then the first two inputs once more as one continuous 6-s stream (windows
// every hop); then the memory figures and a self-test of the convolution kernel. firmware-sim/run compares the
// windows with the host. The board services (board.h) are C; this file is compiled with CRNNRuntime's sources as
// one module (so it may call the runtime's internal kernels).

/// The chunk a microphone DMA would hand over: 512 samples (23 ms at 22050 Hz).
let dmaChunk = 512

func put(_ s: StaticString) { cm_put_bytes(s.utf8Start, UInt32(s.utf8CodeUnitCount)) }
func put(_ v: Int) { cm_put_int(Int64(v)) }
func put(_ v: Int64) { cm_put_int(v) }
func fail(_ s: StaticString) -> Never {
    put("cortex-m: error: "); put(s); put("\n")
    cm_exit(1)
}

/// The fast convolution with the selected micro-kernel against the reference `conv2dS8`, byte for byte, on
/// pseudo-random operands of shapes that cover the micro-kernels' paths (one input channel; kw * Cin not a
/// multiple of 4: 3 (`rowThreeTaps`), 7, 9, 15 and 25 (the last taps one at a time after 1, 2, 3 and 6 quads);
/// cnn-gru's 32 -> 32 layers; a 5 x 5 kernel). Returns how many shapes matched.
func convSelfTest() -> (passed: Int, total: Int) {
    let shapes: [(h: Int, w: Int, c: Int, k: Int, kh: Int, kw: Int, ph: Int, pw: Int)] = [
        (9, 7, 1, 32, 3, 3, 2, 2), (8, 5, 3, 16, 3, 3, 1, 1), (12, 12, 32, 32, 3, 3, 3, 3),
        (7, 6, 32, 32, 3, 3, 4, 4), (6, 9, 5, 16, 5, 5, 2, 1), (8, 7, 5, 16, 3, 3, 2, 2), (6, 5, 7, 16, 3, 1, 1, 1),
    ]
    var seed: UInt32 = 0x1234_5678
    func next() -> Int8 { seed = seed &* 1_664_525 &+ 1_013_904_223; return Int8(truncatingIfNeeded: seed >> 24) }
    var passed = 0
    for s in shapes {
        let p = Conv2dS8Params(inputHeight: s.h, inputWidth: s.w, inputChannels: s.c, outputChannels: s.k,
                               kernelHeight: s.kh, kernelWidth: s.kw, inputZeroPoint: -3, outputZeroPoint: 5,
                               poolHeight: s.ph, poolWidth: s.pw)
        let input = UnsafeMutableBufferPointer<Int8>.allocate(capacity: s.h * s.w * s.c)
        let weights = UnsafeMutableBufferPointer<Int8>.allocate(capacity: s.k * s.kh * s.kw * s.c)
        let bias = UnsafeMutableBufferPointer<Int32>.allocate(capacity: s.k)
        let mult = UnsafeMutableBufferPointer<Int32>.allocate(capacity: s.k)
        let shift = UnsafeMutableBufferPointer<Int32>.allocate(capacity: s.k)
        let ref = UnsafeMutableBufferPointer<Int8>.allocate(capacity: p.outputCount)
        let fast = UnsafeMutableBufferPointer<Int8>.allocate(capacity: p.outputCount)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(conv2dS8FastScratchSize(p), 16), alignment: 16)
        for i in 0..<input.count { input[i] = next() }
        for i in 0..<weights.count { weights[i] = next() }
        for c in 0..<s.k {
            bias[c] = Int32(next()) &* 97
            mult[c] = (1 << 30) &+ Int32(c) &* 1_000_003
            shift[c] = -9
        }
        let rq = ChannelRequant(multipliers: UnsafeBufferPointer(mult), shifts: UnsafeBufferPointer(shift))
        conv2dS8(p, input: UnsafeBufferPointer(input), weights: UnsafeBufferPointer(weights), bias: UnsafeBufferPointer(bias),
                 requant: rq, output: ref, scratch: scratch)
        conv2dS8Fast(p, input: UnsafeBufferPointer(input), weights: UnsafeBufferPointer(weights),
                     bias: UnsafeBufferPointer(bias), requant: rq, output: fast, scratch: scratch)
        var same = true, distinct = 0
        for i in 0..<p.outputCount {
            if ref[i] != fast[i] { same = false }
            if ref[i] != ref[0] { distinct += 1 }
        }
        if same && distinct > 0 { passed += 1 }  // a constant output would test nothing
        input.deallocate(); weights.deallocate(); bias.deallocate(); mult.deallocate(); shift.deallocate()
        ref.deallocate(); fast.deallocate(); scratch.deallocate()
    }
    return (passed, shapes.count)
}

@_cdecl("cm_main")
func cmMain() -> Int32 {
    // Timer calibration: a loop of a known instruction count, to show that one tick is 40 instructions under
    // `-icount shift=0` (1 instruction = 1 ns of virtual time, 25 MHz timer).
    let calTicks = Int(cm_calibrate())
    put("cortex-m: calibration "); put(Int(cm_calibration_instructions())); put(" instructions = ")
    put(calTicks); put(" ticks of "); put(Int(cm_timer_ns_per_tick())); put(" ns\n")

    let heapStart = Int(cm_heap_in_use())
    guard let base = cm_model_data() else { fail("no model in flash") }
    let flashModel = UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: Int(cm_model_size()))
    let model: ModelFile
    do throws(ModelError) { model = try ModelFile(bytes: flashModel) } catch { fail("the model in flash does not load") }
    if model.bytes.baseAddress != flashModel.baseAddress { fail("the model was copied") }
    let heapModel = Int(cm_heap_in_use())

    let interpreter: Interpreter
    do throws(ModelError) { interpreter = try Interpreter(model: model) } catch { fail("interpreter") }
    let heapInterpreter = Int(cm_heap_in_use())
    let extractor: FixedPointMFCCExtractor
    // A stream without the frames' DCT sums (StreamingMFCC): 23 KB less RAM, the same features.
    do throws(ModelError) { extractor = try FixedPointMFCCExtractor(model: model, streamDCTSums: false) } catch { fail("frontend") }
    let heapFrontend = Int(cm_heap_in_use())
    let classifier: SegmentClassifier<FixedPointMFCCExtractor>
    do throws(ModelError) { classifier = try SegmentClassifier(interpreter: interpreter, extractor: extractor) } catch {
        fail("classifier")
    }
    let heapClassifier = Int(cm_heap_in_use())

    let config = classifier.config
    let hop = StreamClassifier<FixedPointMFCCExtractor>.hopFrames(microseconds: 1_000_000, config: config)
        * Int(config.hopLength)
    let inputs = Int(cm_input_count()), samples = Int(cm_input_samples())
    guard let pcm = cm_pcm_data() else { fail("no audio in flash") }
    if samples != classifier.segmentSamples { fail("each input in flash must be exactly one segment") }
    put("cortex-m: model "); put(flashModel.count); put(" bytes read in place at 0x")
    cm_put_hex(UInt32(UInt(bitPattern: base))); put("; "); put(inputs); put(" inputs of "); put(samples)
    put(" samples at "); put(Int(config.sampleRate)); put(" Hz, "); put(dmaChunk); put("-sample chunks, hop ")
    put(hop); put(" samples\n")

    var heapStream = 0
    var timing = WindowTiming()
    for input in 0..<inputs {
        // The MFCC, compared with the host's, is printed from the network's input as each window runs
        // (`classifyWindow(inspectingFeatures:)`), so no segment of features is kept.
        let stream = StreamClassifier(classifier: classifier, hopSamples: hop)
        if input == 0 { heapStream = Int(cm_heap_in_use()) }
        feed(stream, pcm + input * samples, count: samples, tag: "", id: { _ in input }, timing: &timing)
    }
    // A continuous stream: the first two inputs back to back (adjacent in flash), 6 s, so that windows start every
    // hop inside the ring and span the two recordings. Lines `swindow W ..`, `smfcc W ..`, then the clip estimate.
    let streamed = min(2, inputs) * samples
    let stream = StreamClassifier(classifier: classifier, hopSamples: hop)
    feed(stream, pcm, count: streamed, tag: "s", id: { $0 }, timing: &timing)
    put("sclip "); put(Int(stream.windowCount)); put(" 0 q15")
    for c in 0..<stream.clip.classCount { put(" "); put(Int(stream.clip.meanQ15(c))) }
    put(" | top "); put(stream.clip.top1); put("\n")
    let windows = timing.windows, minTicks = timing.minTicks, maxTicks = timing.maxTicks, sumTicks = timing.sumTicks
    if windows == 0 { fail("no window classified") }
    // Where the instructions go, in the last window: the front end (with frame reuse: the hop's new frames, edges,
    // floor and DCT) up to the features, then the network.
    let ns = Int64(cm_timer_ns_per_tick())
    put("cortex-m: instructions per window min "); put(minTicks * ns); put(" mean "); put(sumTicks * ns / windows)
    put(" max "); put(maxTicks * ns); put(" over "); put(Int(windows)); put(" windows\n")
    put("cortex-m: instructions frontend "); put(timing.lastFrontTicks * ns); put(" network "); put(timing.lastNetworkTicks * ns)
    put(" (one segment)\n")
    put("cortex-m: heap model "); put(heapModel - heapStart)
    put(" arena+interpreter "); put(heapInterpreter - heapModel)
    put(" arena "); put(interpreter.arenaBytes)
    put(" frontend "); put(heapFrontend - heapInterpreter)
    put(" frontend-scratch "); put(extractor.scratchStorage == nil ? 0 : extractor.scratchBytes)
    put(" classifier "); put(heapClassifier - heapFrontend)
    put(" stream "); put(heapStream - heapClassifier)
    put(" peak-region "); put(Int(cm_heap_high_water()))
    put(" stack-peak "); put(Int(cm_stack_peak())); put(" stack-size "); put(Int(cm_stack_size())); put("\n")
    // After the memory figures, so that its buffers do not count in them.
    let conv = convSelfTest()
    put("cortex-m: conv self-test "); put(conv2dSelectedMicroKernelName); put(" micro-kernel against conv2dS8: ")
    put(conv.passed); put("/"); put(conv.total); put(" shapes bit-exact\n")
    if conv.passed != conv.total { fail("the fast convolution differs from the reference") }
    return 0
}

struct WindowTiming {
    var minTicks = Int64.max, maxTicks: Int64 = 0, sumTicks: Int64 = 0, windows: Int64 = 0
    var lastFrontTicks: Int64 = 0, lastNetworkTicks: Int64 = 0
}

/// Pushes `count` samples from flash into `stream`, `dmaChunk` at a time, classifying each window as it becomes due
/// (timed, less the printing of its MFCC) and printing it; then `finish`.
func feed(_ stream: StreamClassifier<FixedPointMFCCExtractor>, _ audio: UnsafePointer<Int16>, count: Int,
          tag: StaticString, id: (Int) -> Int, timing: inout WindowTiming) {
    var offset = 0
    while offset < count {
        let chunk = UnsafeBufferPointer(start: audio + offset, count: min(dmaChunk, count - offset))
        var used = 0
        while used < chunk.count {
            used += stream.append(UnsafeBufferPointer(rebasing: chunk[used...]))
            if stream.windowDue {
                let w = id(Int(stream.windowCount))
                var tA: UInt32 = 0, tB: UInt32 = 0
                let t0 = cm_timer_ticks()
                let p = stream.classifyWindow(inspectingFeatures: { f in
                    tA = cm_timer_ticks()
                    putMFCC(tag, w, f, perFrame: Int(stream.classifier.config.nMFCC))
                    tB = cm_timer_ticks()
                })
                let t1 = cm_timer_ticks()
                let front = Int64(tA &- t0), network = Int64(t1 &- tB), ticks = front + network
                timing.minTicks = min(timing.minTicks, ticks); timing.maxTicks = max(timing.maxTicks, ticks)
                timing.sumTicks += ticks; timing.windows += 1
                timing.lastFrontTicks = front; timing.lastNetworkTicks = network
                putWindow(tag, w, stream, p, ticks: ticks)
            }
        }
        offset += chunk.count
    }
    if stream.finish() { putWindow(tag, id(0), stream, stream.classifier.probabilities, ticks: 0) }  // (no MFCC lines)
}

/// `mfcc ID FRAME v0 v1 ..` per frame (Q23.8); the lines of the continuous stream start with `s`.
func putMFCC(_ tag: StaticString, _ input: Int, _ f: UnsafeBufferPointer<Int32>, perFrame: Int) {
    for frame in 0..<(f.count / perFrame) {
        put(tag); put("mfcc "); put(input); put(" "); put(frame)
        for k in 0..<perFrame { put(" "); put(Int(f[frame * perFrame + k])) }
        put("\n")
    }
}

/// `window ID W q15 p0 .. | logits l0 .. | top T | ticks K`; ID is the input, or the window for the continuous
/// stream, whose lines start with `s`.
func putWindow(_ tag: StaticString, _ input: Int, _ s: StreamClassifier<FixedPointMFCCExtractor>, _ p: UnsafeBufferPointer<Int16>, ticks: Int64) {
    put(tag); put("window "); put(input); put(" "); put(Int(s.windowCount - 1)); put(" q15")
    for v in p { put(" "); put(Int(v)) }
    put(" | logits")
    for v in s.classifier.interpreter.output { put(" "); put(Int(v)) }
    put(" | top "); put(s.classifier.top1)
    put(" | ticks "); put(ticks); put("\n")
}
