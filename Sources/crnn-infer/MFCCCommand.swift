// crnn-infer MODEL --mfcc AUDIO.wav [--segment K]: the device frontend's Q23.8 MFCC of segment K (before the
// model's normalisation and input quantization) in the CSV layout of `crnn-train mfcc --format csv`:
// one row per frame, nMFCC comma-separated values with 6 decimals, for parity checks against the float MFCC.

import CRNNRuntime

func printMFCC(_ o: Options, _ m: LoadedModel, out: Output, err: Output) throws(Exit) {
    let classifier = try makeClassifier(m, err: err)
    let config = classifier.config
    let path = o.files[0]
    guard let (file, wav) = openWAV(path, err: err) else { throw .badInput }
    let count: Int
    do throws(ClassifyError) { count = try classifier.segmentCount(of: wav) } catch {
        putClassifyError(err, path, error, config)
        throw .badInput
    }
    if o.segment >= count {
        err.put("crnn-infer: "); err.put(bytes: path); err.put(": segment "); err.put(o.segment)
        err.put(" does not exist (the file has "); err.put(count)
        err.put(count == 1 ? " segment)\n" : " segments)\n")
        throw .badInput
    }
    let n = classifier.loadSegment(o.segment, of: wav)
    classifier.extractFeatures(validSamples: n)
    _ = file
    let f = classifier.features, c = Int(config.nMFCC)
    for row in 0..<config.frameCount {
        for k in 0..<c {
            if k > 0 { out.put(",") }
            out.putQ8Decimal6(f[row * c + k])
        }
        out.newline()
    }
}
