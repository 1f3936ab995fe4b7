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
    var segmentTop1: [Int32] = []
    var failed = false
    let message = Output(fd: -1)  // a failed file's message, for stderr and the JSON line
    for path in o.files {
        message.buffer.removeAll(keepingCapacity: true)
        var ok = false
        if let (file, wav) = openWAV(path, err: message) {
            do throws(ClassifyError) {
                let count = try classifier.segmentCount(of: wav)
                scores.reset()
                segmentTop1.removeAll(keepingCapacity: true)
                for k in 0..<count {
                    let n = classifier.loadSegment(k, of: wav)
                    scores.add(classifier.classifySegment(validSamples: n))
                    segmentTop1.append(Int32(classifier.top1))
                }
                ok = true
                if o.json {
                    putFileJSON(out, m, path: path, scores: scores, segmentTop1: segmentTop1, topK: o.topK,
                                frames: Int64(wav.frameCount), rate: wav.sampleRate)
                } else {
                    putFileText(out, m, path: path, scores: scores, topK: o.topK)
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
                if text.last == 10 { text.removeLast() }
                let prefix = 12
                if text.count > prefix { text.removeFirst(prefix) }
                out.put("{\"file\":"); out.putJSONString(path); out.put(",\"error\":"); out.putJSONString(text); out.put("}\n")
            }
        }
        out.flush()
        err.flush()
    }
    if failed { throw .badInput }
}

/// `path: blues 0.8734, jazz 0.0712 (10 segments)`
func putFileText(_ out: Output, _ m: LoadedModel, path: [UInt8], scores: ClipScores, topK: Int) {
    out.put(bytes: path)
    out.put(": ")
    for r in 0..<topK {
        let c = scores.rank(r)
        if r > 0 { out.put(", ") }
        m.putLabel(out, c)
        out.byte(32)
        out.putQ15(scores.meanQ15(c))
    }
    out.put(" (")
    out.put(scores.count)
    out.put(scores.count == 1 ? " segment)\n" : " segments)\n")
}

/// Writes `"scores":{"blues":0.8734,...}` (all classes, model order).
func putScoresJSON(_ out: Output, _ m: LoadedModel, _ key: StaticString, _ scores: ClipScores) {
    out.byte(34); out.put(key); out.put("\":{")
    for c in 0..<scores.classCount {
        if c > 0 { out.byte(44) }
        m.putJSONLabel(out, c)
        out.byte(58)
        out.putQ15(scores.meanQ15(c))
    }
    out.byte(125)
}

func putFileJSON(_ out: Output, _ m: LoadedModel, path: [UInt8], scores: ClipScores, segmentTop1: [Int32],
                 topK: Int, frames: Int64, rate: Int32) {
    out.put("{\"file\":"); out.putJSONString(path)
    out.put(",\"genre\":"); m.putJSONLabel(out, scores.top1)
    out.byte(44); putScoresJSON(out, m, "scores", scores)
    out.put(",\"top\":[")
    for r in 0..<topK {
        let c = scores.rank(r)
        if r > 0 { out.byte(44) }
        out.put("{\"genre\":"); m.putJSONLabel(out, c); out.put(",\"score\":"); out.putQ15(scores.meanQ15(c)); out.byte(125)
    }
    out.put("],\"segments\":"); out.put(scores.count)
    out.put(",\"segment_genres\":[")
    for (k, c) in segmentTop1.enumerated() {
        if k > 0 { out.byte(44) }
        m.putJSONLabel(out, Int(c))
    }
    out.put("],\"seconds\":"); out.putSeconds(frames, rate: rate)
    out.put(",\"sample_rate\":"); out.put(rate)
    out.put("}\n")
}
