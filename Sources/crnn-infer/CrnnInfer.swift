// crnn-infer: the board's program. Command logic for the host build (main.swift passes CommandLine's
// arguments) and the Embedded Swift build (firmware-sim supplies a `@_cdecl("main")` that passes argv).
// No Foundation, no String comparisons, no floating point: arguments are UTF-8 byte arrays.

import CLibc
import CRNNRuntime

let crnnInferVersion: StaticString = "crnn-infer 0.1.0 (model format 1.x, CRNNRuntime int8)"

/// How the program ends: 0 ok, 1 usage, 2 bad input (the message is already written).
struct Exit: Error {
    var status: Int32
    static let usage = Exit(status: 1)
    static let badInput = Exit(status: 2)
}

enum Mode { case classify, stream, bench, mfcc }

struct Options {
    var mode = Mode.classify
    var model: [UInt8] = []
    var files: [[UInt8]] = []
    var json = false
    var topK = 1, topKGiven = false
    var hopMicroseconds: Int64 = 1_000_000, hopGiven = false
    var segment = 0, segmentGiven = false
    var runs = 31, runsGiven = false
    var stats = false
    /// A clip whose top genre's mean probability is below this (Q15) is reported uncertain.
    var uncertainBelowQ15 = ClipConfidence.defaultThresholdQ15, uncertainGiven = false
}

/// Runs crnn-infer with `arguments` (argument 0 is the program name). Returns the exit status.
func crnnInferMain(arguments: [[UInt8]]) -> Int32 {
    let out = Output(fd: 1), err = Output(fd: 2)
    defer { out.flush(); err.flush() }
    do throws(Exit) {
        let options = try parseArguments(arguments, out: out, err: err)
        guard let o = options else { return 0 }  // --help / --version
        let loaded = try loadModel(o.model, err: err)
        switch o.mode {
        case .classify: try classifyFiles(o, loaded, out: out, err: err)
        case .stream: try streamStdin(o, loaded, out: out, err: err)
        case .bench: try bench(o, loaded, out: out, err: err)
        case .mfcc: try printMFCC(o, loaded, out: out, err: err)
        }
        if o.stats { printStats(err: err) }
        return 0
    } catch {
        return error.status
    }
}

func printStats(err: Output) {
    err.put("crnn-infer: stats: max RSS ")
    err.put(peakResidentKilobytes())
    err.put(" kB\n")
}

// MARK: - Arguments

func printUsage(_ o: Output) {
    o.put("""
        USAGE:
          crnn-infer MODEL AUDIO.wav... [--json] [--top-k K]
          crnn-infer MODEL --stream [--hop SECONDS] [--json]     (raw s16le mono PCM on stdin)
          crnn-infer MODEL --bench [AUDIO.wav] [--runs N] [--json]
          crnn-infer MODEL --mfcc AUDIO.wav [--segment K]
          crnn-infer --help | --version

        Classifies music by genre with an int8 CRNN model file (made by crnn-quantize): fixed-point MFCC
        of each 3-s segment, int8 network, Q15 probabilities; a file's genre is the mean of its segments'.

        OPTIONS:
          --json            one JSON object per line (per file; per window in --stream)
          --top-k K         print the K most likely genres (default 1; JSON always has all scores)
          --stream          classify standard input: raw signed 16-bit little-endian mono PCM at the
                            model's rate, e.g. `arecord -r 22050 -f S16_LE -c 1 | crnn-infer M --stream`;
                            one window of one segment every hop, plus a running clip estimate
          --hop SECONDS     stream hop (default 1), rounded to whole 512-sample frames
          --bench           median latency per segment: MFCC, convolution, recurrent layers, total;
                            real-time factor, arena and model bytes (AUDIO.wav: its first segment)
          --runs N          timed runs per stage for --bench (default 31)
          --mfcc            print the fixed-point MFCC of one segment as CSV (frames x coefficients,
                            6 decimals), the layout of `crnn-train mfcc --format csv`
          --segment K       segment for --mfcc (0-based, default 0)
          --uncertain-below P  report a clip as uncertain when its top genre's mean probability
                            is below P (0-1; default 0.55, calibrated out of pool: docs/out-of-pool.md);
                            JSON gains confidence, margin (lead over the runner-up) and uncertain
          --stats           print the peak resident memory (kB) to stderr at the end
          --help, --version

        WAV input: RIFF/RIFX, PCM 8/16/24/32-bit, float 32, WAVE_FORMAT_EXTENSIBLE, any channel count
        (downmixed), at the model's sample rate (convert with `sox in.wav -r 22050 out.wav`).
        EXIT STATUS: 0 ok, 1 usage error, 2 bad input (unreadable or corrupt model or audio).

        """)
}

func usageError(_ err: Output, _ message: StaticString, _ detail: [UInt8] = []) -> Exit {
    err.put("crnn-infer: ")
    err.put(message)
    if !detail.isEmpty { err.put(": "); err.put(bytes: detail) }
    err.put("\n(run `crnn-infer --help` for usage)\n")
    return .usage
}

/// Parses a non-negative decimal integer (at most 9 digits).
func parseInt(_ s: [UInt8]) -> Int? {
    if s.isEmpty || s.count > 9 { return nil }
    var v = 0
    for c in s {
        if c < 48 || c > 57 { return nil }
        v = v * 10 + Int(c - 48)
    }
    return v
}

/// Parses seconds such as `1`, `0.5`, `2.25` into microseconds (at most 6 decimals, at most 100000 s).
func parseMicroseconds(_ s: [UInt8]) -> Int64? {
    var whole: Int64 = 0, frac: Int64 = 0, fracDigits = 0, seenDot = false, digits = 0
    for c in s {
        if c == 46 && !seenDot { seenDot = true; continue }
        if c < 48 || c > 57 { return nil }
        digits += 1
        if seenDot {
            if fracDigits == 6 { return nil }
            frac = frac * 10 + Int64(c - 48)
            fracDigits += 1
        } else {
            whole = whole * 10 + Int64(c - 48)
            if whole > 100_000 { return nil }
        }
    }
    if digits == 0 { return nil }
    for _ in fracDigits..<6 { frac *= 10 }
    return whole * 1_000_000 + frac
}

/// Returns nil when the program should exit 0 right away (--help, --version).
func parseArguments(_ args: [[UInt8]], out: Output, err: Output) throws(Exit) -> Options? {
    var o = Options()
    var positional: [[UInt8]] = []
    var modes = 0
    var i = 1
    var onlyPositional = false
    func value(_ name: StaticString) throws(Exit) -> [UInt8] {
        i += 1
        if i >= args.count { throw usageError(err, "missing value after option", Array(UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))) }
        return args[i]
    }
    while i < args.count {
        let a = args[i]
        if onlyPositional || a.first != 45 || a.count == 1 {  // "-" alone is a file name
            positional.append(a)
        } else if bytesEqual(a, "--") {
            onlyPositional = true
        } else if bytesEqual(a, "--help") || bytesEqual(a, "-h") {
            printUsage(out)
            return nil
        } else if bytesEqual(a, "--version") {
            out.put(crnnInferVersion)
            out.newline()
            return nil
        } else if bytesEqual(a, "--json") {
            o.json = true
        } else if bytesEqual(a, "--stats") {
            o.stats = true
        } else if bytesEqual(a, "--stream") {
            o.mode = .stream; modes += 1
        } else if bytesEqual(a, "--bench") {
            o.mode = .bench; modes += 1
        } else if bytesEqual(a, "--mfcc") {
            o.mode = .mfcc; modes += 1
        } else if bytesEqual(a, "--top-k") {
            let v = try value("--top-k")
            guard let k = parseInt(v), k >= 1 else { throw usageError(err, "--top-k needs a whole number >= 1", v) }
            o.topK = k; o.topKGiven = true
        } else if bytesEqual(a, "--hop") {
            let v = try value("--hop")
            guard let us = parseMicroseconds(v), us > 0 else { throw usageError(err, "--hop needs seconds > 0 (e.g. 1 or 0.5)", v) }
            o.hopMicroseconds = us; o.hopGiven = true
        } else if bytesEqual(a, "--segment") {
            let v = try value("--segment")
            guard let k = parseInt(v) else { throw usageError(err, "--segment needs a whole number >= 0", v) }
            o.segment = k; o.segmentGiven = true
        } else if bytesEqual(a, "--uncertain-below") {
            let v = try value("--uncertain-below")
            guard let us = parseMicroseconds(v), us <= 1_000_000 else { throw usageError(err, "--uncertain-below needs a probability in [0, 1] (e.g. 0.5)", v) }
            o.uncertainBelowQ15 = Int32((us * 32768 + 500_000) / 1_000_000); o.uncertainGiven = true
        } else if bytesEqual(a, "--runs") {
            let v = try value("--runs")
            guard let k = parseInt(v), k >= 1, k <= 100_000 else { throw usageError(err, "--runs needs a whole number in 1...100000", v) }
            o.runs = k; o.runsGiven = true
        } else {
            throw usageError(err, "unknown option", a)
        }
        i += 1
    }
    if modes > 1 { throw usageError(err, "--stream, --bench and --mfcc exclude each other") }
    if positional.isEmpty { throw usageError(err, "missing MODEL (the .crnn file made by crnn-quantize)") }
    o.model = positional[0]
    o.files = Array(positional[1...])
    switch o.mode {
    case .classify:
        if o.files.isEmpty { throw usageError(err, "no audio files given (or use --stream, --bench, --mfcc)") }
    case .stream:
        if !o.files.isEmpty { throw usageError(err, "--stream reads raw PCM from standard input; give no audio files") }
    case .bench:
        if o.files.count > 1 { throw usageError(err, "--bench takes at most one audio file") }
    case .mfcc:
        if o.files.count != 1 { throw usageError(err, "--mfcc takes exactly one audio file") }
        if o.json { throw usageError(err, "--mfcc prints CSV only") }
    }
    if o.topKGiven && o.mode != .classify { throw usageError(err, "--top-k applies to classifying files") }
    if o.hopGiven && o.mode != .stream { throw usageError(err, "--hop applies to --stream") }
    if o.segmentGiven && o.mode != .mfcc { throw usageError(err, "--segment applies to --mfcc") }
    if o.runsGiven && o.mode != .bench { throw usageError(err, "--runs applies to --bench") }
    if o.uncertainGiven && o.mode != .classify && o.mode != .stream {
        throw usageError(err, "--uncertain-below applies to classifying files and --stream")
    }
    return o
}

// MARK: - Model

/// The model file bytes, the validated model and its interpreter (the bytes outlive both).
final class LoadedModel {
    let path: [UInt8]
    let file: FileBytes
    let model: ModelFile
    let interpreter: Interpreter

    init(path: [UInt8], file: FileBytes, model: ModelFile, interpreter: Interpreter) {
        self.path = path; self.file = file; self.model = model; self.interpreter = interpreter
    }

    var classCount: Int { model.tensor(model.outputTensor).elementCount }

    /// Writes the label of class `c` (or `class<c>` for a model without labels).
    func putLabel(_ o: Output, _ c: Int) {
        if model.labelCount == 0 { o.put("class"); o.put(c) } else { o.put(raw: model.label(c)) }
    }

    func putJSONLabel(_ o: Output, _ c: Int) {
        if model.labelCount == 0 { o.put("\""); putLabel(o, c); o.put("\"") } else { o.putJSONString(model.label(c)) }
    }
}

func fileError(_ err: Output, _ path: [UInt8], _ message: StaticString) {
    err.put("crnn-infer: "); err.put(bytes: path); err.put(": "); err.put(message); err.newline()
}

func loadModel(_ path: [UInt8], err: Output) throws(Exit) -> LoadedModel {
    let file: FileBytes
    do throws(IOFailure) { file = try readWholeFile(path) } catch {
        err.put("crnn-infer: cannot read model "); err.put(bytes: path); err.put(": ")
        error.write(to: err); err.newline()
        throw .badInput
    }
    do throws(ModelError) {
        let model = try ModelFile(bytes: file.raw)
        let interpreter = try Interpreter(model: model)
        return LoadedModel(path: path, file: file, model: model, interpreter: interpreter)
    } catch {
        fileError(err, path, error.message)
        throw .badInput
    }
}

/// The classifier of a loaded model with the device frontend (the fixed-point MFCC).
func makeClassifier(_ m: LoadedModel, err: Output) throws(Exit) -> SegmentClassifier<DeviceExtractor> {
    let extractor = try makeDeviceExtractor(m, err: err)
    do throws(ModelError) { return try SegmentClassifier(interpreter: m.interpreter, extractor: extractor) } catch {
        fileError(err, m.path, error.message)
        throw .badInput
    }
}

// MARK: - Audio files

/// Reads and validates a WAV file; on failure writes the message and returns nil.
func openWAV(_ path: [UInt8], err: Output) -> (FileBytes, WAVFile)? {
    let file: FileBytes
    do throws(IOFailure) { file = try readWholeFile(path) } catch {
        err.put("crnn-infer: cannot read "); err.put(bytes: path); err.put(": ")
        error.write(to: err); err.newline()
        return nil
    }
    do throws(WAVError) { return (file, try WAVFile(bytes: file.raw)) } catch {
        fileError(err, path, error.message)
        return nil
    }
}

/// Writes the message of a ClassifyError for `path` with the numbers and the fix.
func putClassifyError(_ err: Output, _ path: [UInt8], _ e: ClassifyError, _ config: FeatureConfig) {
    err.put("crnn-infer: "); err.put(bytes: path); err.put(": ")
    switch e {
    case .sampleRateMismatch(let audio, let model):
        err.put("sample rate "); err.put(audio); err.put(" Hz, but the model needs "); err.put(model)
        err.put(" Hz: convert with `sox "); err.put(bytes: path); err.put(" -r "); err.put(model)
        err.put(" out.wav` or record at that rate (`arecord -r "); err.put(model); err.put(" -f S16_LE -c 1 out.wav`)\n")
    case .tooShort(let samples, let segment):
        err.putSeconds(samples, rate: config.sampleRate)
        err.put(" s of audio is shorter than one ")
        err.putSeconds(Int64(segment), rate: config.sampleRate)
        err.put("-s segment: nothing to classify\n")
    }
}
