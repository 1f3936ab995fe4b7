// crnn-infer MODEL --stream [--hop SECONDS] [--json]: raw s16le mono PCM on standard input, one window of
// one segment classified every hop, printed as it comes with the running clip estimate. Constant memory:
// every buffer (read chunk, decoded samples, the ring of one segment, features, arena) is allocated before
// the first read; the loop allocates nothing (the output buffer keeps its capacity).

import CLibc
import CRNNRuntime

func streamStdin(_ o: Options, _ m: LoadedModel, out: Output, err: Output) throws(Exit) {
    let classifier = try makeClassifier(m, err: err)
    let config = classifier.config
    let rate = config.sampleRate
    let hopFrames = StreamClassifier<DeviceExtractor>.hopFrames(microseconds: o.hopMicroseconds, config: config)
    let hop = hopFrames * Int(config.hopLength)
    let stream = StreamClassifier(classifier: classifier, hopSamples: hop)

    err.put("crnn-infer: stream: raw s16le mono at "); err.put(rate); err.put(" Hz on stdin; window ")
    err.putSeconds(Int64(config.segmentSamples), rate: rate); err.put(" s, hop "); err.put(hopFrames)
    err.put(" frames = "); err.putSeconds(Int64(hop), rate: rate); err.put(" s\n")
    err.flush()

    let chunkBytes = 1 << 16
    let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkBytes, alignment: 16)
    let samples = UnsafeMutableBufferPointer<Int16>.allocate(capacity: chunkBytes / 2 + 1)
    defer { chunk.deallocate(); samples.deallocate() }
    var decoder = PCM16LEDecoder()
    var totalBytes: Int64 = 0
    while true {
        let n = read(0, chunk.baseAddress!, chunkBytes)
        if n < 0 {
            err.put("crnn-infer: error reading standard input: ")
            IOFailure(errnoValue: currentErrno(), fixed: "read error").write(to: err)
            err.newline()
            throw .badInput
        }
        if n == 0 { break }
        totalBytes += Int64(n)
        let count = decoder.decode(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(chunk)[0..<n]), into: samples)
        var used = 0
        while used < count {
            used += stream.append(UnsafeBufferPointer(rebasing: samples[used..<count]))
            if stream.windowDue {
                let p = stream.classifyWindow()
                putWindow(out, m, stream, p, json: o.json, partial: false, uncertainBelowQ15: o.uncertainBelowQ15)
                out.flush()
            }
        }
    }
    if totalBytes == 0 {
        err.put("crnn-infer: no audio on standard input: expected raw signed 16-bit little-endian mono PCM at ")
        err.put(rate); err.put(" Hz, e.g. `arecord -r "); err.put(rate)
        err.put(" -f S16_LE -c 1 | crnn-infer MODEL --stream` or `sox in.wav -t raw -r "); err.put(rate)
        err.put(" -e signed -b 16 -c 1 - | crnn-infer MODEL --stream`\n")
        throw .badInput
    }
    if stream.finish() {
        putWindow(out, m, stream, classifier.probabilities, json: o.json, partial: true, uncertainBelowQ15: o.uncertainBelowQ15)
    }
    if decoder.hasPendingByte {
        err.put("crnn-infer: 1 trailing byte ignored (the input is not a whole number of 16-bit samples)\n")
    }
    if stream.windowCount == 0 {
        err.put("crnn-infer: ")
        err.putSeconds(stream.totalSamples, rate: rate)
        err.put(" s of audio on standard input is shorter than one ")
        err.putSeconds(Int64(config.segmentSamples), rate: rate)
        err.put("-s segment: nothing classified\n")
        throw .badInput
    }
    putStreamSummary(out, m, stream, json: o.json, uncertainBelowQ15: o.uncertainBelowQ15)
    let rest = stream.unclassifiedSamples
    if rest > 0 {
        err.put("crnn-infer: last "); err.putSeconds(rest, rate: rate)
        err.put(" s not classified: shorter than a hop after the last window (ends at ")
        err.putSeconds(stream.classifiedEnd, rate: rate); err.put(" s)\n")
    }
}

/// One window's line: text `window 3 [2.995-5.995 s]: blues 0.8734 | clip: blues 0.8012 (4 windows)`,
/// or a JSON object (docs/crnn-infer.md).
func putWindow(_ out: Output, _ m: LoadedModel, _ s: StreamClassifier<DeviceExtractor>, _ p: UnsafeBufferPointer<Int16>,
               json: Bool, partial: Bool, uncertainBelowQ15: Int32) {
    let rate = s.classifier.config.sampleRate
    let start = partial ? 0 : s.windowStart
    let end = s.classifiedEnd
    let top = s.classifier.top1
    if json {
        let json = JSONWriter(out)
        json.beginObject()
        json.key("window"); json.number(s.windowCount - 1)
        json.key("start"); json.seconds(start, rate: rate)
        json.key("end"); json.seconds(end, rate: rate)
        if partial { json.key("partial"); json.bool(true) }
        json.key("genre"); json.value { m.putJSONLabel(out, top) }
        json.key("scores")
        json.beginObject()
        for c in 0..<s.classifier.classCount {
            json.key { m.putJSONLabel(out, c) }
            json.q15(Int32(p[c]))
        }
        json.endObject()
        json.key("clip_genre"); json.value { m.putJSONLabel(out, s.clip.top1) }
        putScoresJSON(json, m, "clip_scores", s.clip)
        json.key("windows"); json.number(s.windowCount)
        putConfidenceJSON(json, s.clip, uncertainBelowQ15: uncertainBelowQ15, prefix: "clip_")
        json.endObject(); json.endLine()
    } else {
        out.put("window "); out.put(s.windowCount - 1); out.put(" [")
        out.putSeconds(start, rate: rate); out.put("-"); out.putSeconds(end, rate: rate)
        out.put(partial ? " s, zero-padded]: " : " s]: ")
        m.putLabel(out, top); out.put(" "); out.putQ15(Int32(p[top]))
        out.put(" | clip: "); m.putLabel(out, s.clip.top1); out.put(" "); out.putQ15(s.clip.meanQ15(s.clip.top1))
        out.put(" ("); out.put(s.windowCount); out.put(s.windowCount == 1 ? " window)\n" : " windows)\n")
    }
}

func putStreamSummary(_ out: Output, _ m: LoadedModel, _ s: StreamClassifier<DeviceExtractor>, json: Bool, uncertainBelowQ15: Int32) {
    let rate = s.classifier.config.sampleRate
    if json {
        let json = JSONWriter(out)
        json.beginObject()
        json.key("final"); json.bool(true)
        json.key("genre"); json.value { m.putJSONLabel(out, s.clip.top1) }
        putScoresJSON(json, m, "scores", s.clip)
        json.key("windows"); json.number(s.windowCount)
        json.key("seconds"); json.seconds(s.totalSamples, rate: rate)
        json.key("unclassified_seconds"); json.seconds(s.unclassifiedSamples, rate: rate)
        putConfidenceJSON(json, s.clip, uncertainBelowQ15: uncertainBelowQ15)
        json.endObject(); json.endLine()
    } else {
        out.put("clip: "); m.putLabel(out, s.clip.top1); out.put(" "); out.putQ15(s.clip.meanQ15(s.clip.top1))
        out.put(" over "); out.put(s.windowCount); out.put(s.windowCount == 1 ? " window, " : " windows, ")
        out.putSeconds(s.totalSamples, rate: rate)
        out.put(s.windowCount > 0 && ClipConfidence(s.clip).isUncertain(thresholdQ15: uncertainBelowQ15) ? " s of audio; uncertain\n" : " s of audio\n")
    }
}
