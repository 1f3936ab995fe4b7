// crnn-infer MODEL AUDIO.wav... [--json] [--top-k K]: each file cut into segments (FeatureConfig's rule),
// each segment classified, the file's genre the mean of the segment probabilities (argmax of the exact
// integer sums, ties to the lower class index).

import CRNNRuntime

func classifyFiles(_ o: Options, _ m: LoadedModel, out: Output, err: Output) throws(Exit) {
    let classifier = try makeClassifier(m, err: err)
    let classes = classifier.classCount
    if o.topK > classes {
        err.put("crnn-infer: --top-k "); err.put(o.topK); err.put(" exceeds the model's "); err.put(classes)
        err.put(" classes\n")
        throw .usage
    }
    var scores = ClipScores(classes: classes)
    // Each segment's top-1 class, for the JSON line; grown to the longest file's segment count.
    var segmentTop1 = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 0)
    defer { segmentTop1.deallocate() }
    var failed = false
    let message = Output(fd: -1)  // a failed file's message, for stderr and the JSON line
    for path in o.files {
        message.buffer.removeAll(keepingCapacity: true)
        var ok = false
        if let (file, wav) = openWAV(path, err: message) {
            do throws(ClassifyError) {
                let needed = try classifier.segmentCount(of: wav)
                if segmentTop1.count < needed {
                    segmentTop1.deallocate()
                    segmentTop1 = .allocate(capacity: needed)
                }
                let count = try classifier.classify(wav, scores: &scores, segmentTop1: segmentTop1)
                ok = true
                if o.json {
                    putFileJSON(out, m, path: path, scores: scores,
                                segmentTop1: UnsafeBufferPointer(rebasing: segmentTop1[0..<count]), topK: o.topK,
                                frames: Int64(wav.frameCount), rate: wav.sampleRate, uncertainBelowQ15: o.uncertainBelowQ15)
                } else {
                    putFileText(out, m, path: path, scores: scores, topK: o.topK, uncertainBelowQ15: o.uncertainBelowQ15)
                }
            } catch {
                putClassifyError(message, path, error, classifier.config)
            }
            _ = file  // keeps the bytes alive while `wav` is used
        }
        if !ok {
            failed = true
            err.put(bytes: message.buffer)
            if o.json {
                // The message without its "crnn-infer: " prefix and final newline.
                var text = message.buffer
                if text.last == UInt8(ascii: "\n") { text.removeLast() }
                let prefix = 12
                if text.count > prefix { text.removeFirst(prefix) }
                let json = JSONWriter(out)
                json.beginObject()
                json.key("file"); json.string(path)
                json.key("error"); json.string(text)
                json.endObject(); json.endLine()
            }
        }
        out.flush()
        err.flush()
    }
    if failed { throw .badInput }
}

/// `path: blues 0.8734, jazz 0.0712 (10 segments)`, or `(10 segments; uncertain)` when the top genre's mean
/// probability is below the threshold.
func putFileText(_ out: Output, _ m: LoadedModel, path: [UInt8], scores: ClipScores, topK: Int, uncertainBelowQ15: Int32) {
    out.put(bytes: path)
    out.put(": ")
    for r in 0..<topK {
        let c = scores.rank(r)
        if r > 0 { out.put(", ") }
        m.putLabel(out, c)
        out.put(" ")
        out.putQ15(scores.meanQ15(c))
    }
    out.put(" (")
    out.put(scores.count)
    out.put(scores.count == 1 ? " segment" : " segments")
    out.put(ClipConfidence(scores).isUncertain(thresholdQ15: uncertainBelowQ15) ? "; uncertain)\n" : ")\n")
}

/// The members `"confidence":P,"margin":M,"uncertain":B` (the top genre's mean probability, its lead over the
/// runner-up, and whether it is below the threshold).
func putConfidenceJSON(_ json: JSONWriter, _ scores: ClipScores, uncertainBelowQ15: Int32, prefix: StaticString = "") {
    let c = ClipConfidence(scores)
    json.key(prefix, "confidence"); json.q15(c.probabilityQ15)
    json.key(prefix, "margin"); json.q15(c.marginQ15)
    json.key(prefix, "uncertain"); json.bool(c.isUncertain(thresholdQ15: uncertainBelowQ15))
}

/// Writes the member `"key":{"blues":0.8734,...}` (all classes, model order).
func putScoresJSON(_ json: JSONWriter, _ m: LoadedModel, _ key: StaticString, _ scores: ClipScores) {
    json.key(key)
    json.beginObject()
    for c in 0..<scores.classCount {
        json.key { m.putJSONLabel(json.out, c) }
        json.q15(scores.meanQ15(c))
    }
    json.endObject()
}

/// One line per file: `{"file":...,"genre":...,"scores":{...},"top":[...],"segments":N,"segment_genres":[...],
/// "seconds":S,"sample_rate":R}`.
func putFileJSON(_ out: Output, _ m: LoadedModel, path: [UInt8], scores: ClipScores, segmentTop1: UnsafeBufferPointer<Int32>,
                 topK: Int, frames: Int64, rate: Int32, uncertainBelowQ15: Int32) {
    let json = JSONWriter(out)
    json.beginObject()
    json.key("file"); json.string(path)
    json.key("genre"); json.value { m.putJSONLabel(out, scores.top1) }
    putScoresJSON(json, m, "scores", scores)
    json.key("top")
    json.beginArray()
    for r in 0..<topK {
        let c = scores.rank(r)
        json.beginObject()
        json.key("genre"); json.value { m.putJSONLabel(out, c) }
        json.key("score"); json.q15(scores.meanQ15(c))
        json.endObject()
    }
    json.endArray()
    json.key("segments"); json.number(scores.count)
    json.key("segment_genres")
    json.beginArray()
    for c in segmentTop1 { json.value { m.putJSONLabel(out, Int(c)) } }
    json.endArray()
    json.key("seconds"); json.seconds(frames, rate: rate)
    json.key("sample_rate"); json.number(rate)
    putConfidenceJSON(json, scores, uncertainBelowQ15: uncertainBelowQ15)
    json.endObject(); json.endLine()
}
