import AudioIO
import Foundation

/// A small synthetic folder-per-genre dataset that needs nothing from outside: four "genres" of
/// generated signals, different enough in timbre and rhythm for a classifier to learn.
///
/// - `drone`: sustained harmonic tones with slow tremolo.
/// - `noise`: band-limited noise bursts.
/// - `pulse`: a click/kick train at 80-160 BPM over a quiet bass tone.
/// - `sweep`: repeated chirps; written as 44.1 kHz stereo to exercise downmixing and resampling.
///
/// Example: `try DemoDataset.generate(at: "demo", clipsPerGenre: 8, seconds: 6, seed: 1)` writes
/// `demo/drone/drone.00000.wav` ... `demo/sweep/sweep.00007.wav`.
public enum DemoDataset {
    public static let genres = ["drone", "noise", "pulse", "sweep"]

    @discardableResult
    public static func generate(at root: String, clipsPerGenre: Int = 8, seconds: Double = 6, seed: UInt64 = 1) throws -> Int {
        var rng = SeededGenerator(seed: seed)
        var written = 0
        for genre in genres {
            let dir = root + "/" + genre
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for k in 0..<clipsPerGenre {
                let stereo44k = genre == "sweep"
                let sr = stereo44k ? 44100 : 22050
                let n = Int(seconds * Double(sr))
                let x = signal(genre, n: n, sr: Double(sr), rng: &rng)
                let path = dir + "/" + String(format: "%@.%05d.wav", genre, k)
                if stereo44k {
                    let right = x.enumerated().map { i, v in 0.8 * v + 0.05 * Float(sin(Double(i) * 0.001)) }
                    try PCMWAVWriter.write(path: path, channels: [x, right], sampleRate: sr)
                } else {
                    try PCMWAVWriter.write(path: path, channels: [x], sampleRate: sr)
                }
                written += 1
            }
        }
        return written
    }

    static func signal(_ genre: String, n: Int, sr: Double, rng: inout SeededGenerator) -> [Float] {
        var x = [Float](repeating: 0, count: n)
        switch genre {
        case "drone":
            let f0 = rng.uniform(80, 400), trem = rng.uniform(0.2, 2), amp = rng.uniform(0.2, 0.5)
            for i in 0..<n {
                let t = Double(i) / sr
                var v = 0.0
                for h in 1...5 { v += sin(2 * .pi * f0 * Double(h) * t) / Double(h * h) }
                x[i] = Float(amp * v * (0.75 + 0.25 * sin(2 * .pi * trem * t)))
            }
        case "noise":
            let burst = rng.uniform(0.1, 0.5), alpha = rng.uniform(0.05, 0.6), amp = rng.uniform(0.2, 0.6)
            var lp = 0.0
            for i in 0..<n {
                let t = Double(i) / sr
                let white = rng.uniform(-1, 1)
                lp += alpha * (white - lp)
                let gate = (t.truncatingRemainder(dividingBy: burst * 2) < burst) ? 1.0 : 0.15
                x[i] = Float(amp * gate * lp / max(alpha, 0.2))
            }
        case "pulse":
            let bpm = rng.uniform(80, 160), bass = rng.uniform(40, 90), amp = rng.uniform(0.3, 0.7)
            let period = 60 / bpm
            for i in 0..<n {
                let t = Double(i) / sr
                let since = t.truncatingRemainder(dividingBy: period)
                let kick = exp(-since * 30) * sin(2 * .pi * (bass * 1.5) * since * (1 + 2 * exp(-since * 40)))
                x[i] = Float(amp * (kick + 0.1 * sin(2 * .pi * bass * t)))
            }
        default:  // sweep
            let f1 = rng.uniform(200, 800), f2 = rng.uniform(2000, 6000), len = rng.uniform(0.3, 1.2)
            let amp = rng.uniform(0.2, 0.5)
            var phase = 0.0
            for i in 0..<n {
                let t = Double(i) / sr
                let u = t.truncatingRemainder(dividingBy: len) / len
                let f = f1 * pow(f2 / f1, u)
                phase += 2 * .pi * f / sr
                x[i] = Float(amp * sin(phase) * (0.5 + 0.5 * sin(.pi * u)))
            }
        }
        return x
    }
}
