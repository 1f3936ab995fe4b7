import CSndFile
import Foundation
import XCTest

// MARK: - Temporary files

/// A fresh directory under the system temp dir, removed by `remove()`.
struct TempDir {
    let url: URL

    init(_ label: String = "AudioIOTests") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// The package root, found from this file's location (Tests/AudioIOTests/<file>).
func packageRoot(filePath: String = #filePath) -> URL {
    URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}

// MARK: - Writing sound files with libsndfile

/// Interleaved sample data in the type handed to libsndfile's writer.
enum Samples {
    case float([Float])
    case int16([Int16])
    /// 32-bit containers; for a 24-bit file, the sample is in the top 24 bits (v << 8).
    case int32([Int32])

    var count: Int {
        switch self {
        case .float(let x): return x.count
        case .int16(let x): return x.count
        case .int32(let x): return x.count
        }
    }
}

/// Whether this libsndfile build can write `format` at this rate and channel count.
func canWrite(format: Int32, sampleRate: Int, channels: Int) -> Bool {
    var info = SF_INFO()
    info.samplerate = Int32(sampleRate)
    info.channels = Int32(channels)
    info.format = format
    return sf_format_check(&info) != 0
}

struct WriteError: Error, CustomStringConvertible {
    let description: String
}

/// Writes `samples` (interleaved, `channels` per frame) as a `format` file at `path`.
func writeSound(_ path: String, format: Int32, sampleRate: Int, channels: Int, samples: Samples) throws {
    var info = SF_INFO()
    info.samplerate = Int32(sampleRate)
    info.channels = Int32(channels)
    info.format = format
    guard sf_format_check(&info) != 0 else {
        throw WriteError(description: "libsndfile cannot write format 0x\(String(format, radix: 16))")
    }
    guard let handle = sf_open(path, Int32(SFM_WRITE), &info) else {
        throw WriteError(description: "sf_open(write) \(path): \(String(cString: sf_strerror(nil)))")
    }
    let frames = sf_count_t(samples.count / channels)
    let written: sf_count_t
    switch samples {
    case .float(let x): written = x.withUnsafeBufferPointer { sf_writef_float(handle, $0.baseAddress, frames) }
    case .int16(let x): written = x.withUnsafeBufferPointer { sf_writef_short(handle, $0.baseAddress, frames) }
    case .int32(let x): written = x.withUnsafeBufferPointer { sf_writef_int(handle, $0.baseAddress, frames) }
    }
    let closeResult = sf_close(handle)
    guard written == frames, closeResult == 0 else {
        throw WriteError(description: "wrote \(written) of \(frames) frames to \(path) (close \(closeResult))")
    }
}

/// Names of the major formats this libsndfile build knows (for the report in the test log).
func majorFormatNames() -> [String] {
    var count: Int32 = 0
    sf_command(nil, Int32(SFC_GET_FORMAT_MAJOR_COUNT), &count, Int32(MemoryLayout<Int32>.size))
    var names: [String] = []
    for i in 0..<count {
        var fi = SF_FORMAT_INFO()
        fi.format = i
        sf_command(nil, Int32(SFC_GET_FORMAT_MAJOR), &fi, Int32(MemoryLayout<SF_FORMAT_INFO>.size))
        if let name = fi.name { names.append(String(cString: name)) }
    }
    return names
}

// MARK: - Signals

/// `amplitude * sin(2π f n / rate + phase)` for n in 0..<count, computed in Double.
func sine(_ frequency: Double, rate: Int, count: Int, amplitude: Double = 0.5, phase: Double = 0) -> [Float] {
    (0..<count).map { n in Float(amplitude * sin(2 * Double.pi * frequency * Double(n) / Double(rate) + phase)) }
}

/// Interleaves equal-length channels.
func interleave(_ channels: [[Float]]) -> [Float] {
    let n = channels[0].count
    var out = [Float](repeating: 0, count: n * channels.count)
    for (c, ch) in channels.enumerated() { for i in 0..<n { out[i * channels.count + c] = ch[i] } }
    return out
}

// MARK: - Measurements

/// Least-squares fit of `a cos(ωn) + b sin(ωn) + c` to `y[range]` (n is the absolute index)
/// by the 3x3 normal equations in Double.
struct ToneFit {
    let cosCoef: Double
    let sinCoef: Double
    let offset: Double
    /// RMS of y - fit over the range.
    let residualRMS: Double
    var amplitude: Double { (cosCoef * cosCoef + sinCoef * sinCoef).squareRoot() }
    /// RMS of the fitted tone (amplitude / √2).
    var toneRMS: Double { amplitude / 2.squareRoot() }
    /// Everything except the tone, relative to the tone, in dB.
    var spuriousDB: Double { 20 * log10(residualRMS / toneRMS) }
}

func fitTone(_ y: [Float], frequency: Double, rate: Int, range: Range<Int>) -> ToneFit {
    let w = 2 * Double.pi * frequency / Double(rate)
    var m = [[Double]](repeating: [0, 0, 0], count: 3)
    var r = [0.0, 0.0, 0.0]
    for n in range {
        let basis = [cos(w * Double(n)), sin(w * Double(n)), 1.0]
        for i in 0..<3 {
            r[i] += basis[i] * Double(y[n])
            for j in 0..<3 { m[i][j] += basis[i] * basis[j] }
        }
    }
    let coef = solve3(m, r)
    var sq = 0.0
    for n in range {
        let fit = coef[0] * cos(w * Double(n)) + coef[1] * sin(w * Double(n)) + coef[2]
        let e = Double(y[n]) - fit
        sq += e * e
    }
    return ToneFit(cosCoef: coef[0], sinCoef: coef[1], offset: coef[2],
                   residualRMS: (sq / Double(range.count)).squareRoot())
}

/// Gaussian elimination with partial pivoting for a 3x3 system.
private func solve3(_ a0: [[Double]], _ b0: [Double]) -> [Double] {
    var a = a0, b = b0
    for col in 0..<3 {
        let p = (col..<3).max { abs(a[$0][col]) < abs(a[$1][col]) }!
        a.swapAt(col, p); b.swapAt(col, p)
        for row in (col + 1)..<3 {
            let f = a[row][col] / a[col][col]
            for k in col..<3 { a[row][k] -= f * a[col][k] }
            b[row] -= f * b[col]
        }
    }
    var x = [0.0, 0.0, 0.0]
    for row in stride(from: 2, through: 0, by: -1) {
        var s = b[row]
        for k in (row + 1)..<3 { s -= a[row][k] * x[k] }
        x[row] = s / a[row][row]
    }
    return x
}

/// Amplitude of the component at `frequency` in `y[range]` by a Hann-windowed single-bin DFT,
/// scaled so that a sine of amplitude A reads A.
func dftAmplitude(_ y: [Float], frequency: Double, rate: Int, range: Range<Int>) -> Double {
    let w = 2 * Double.pi * frequency / Double(rate)
    let len = Double(range.count)
    var re = 0.0, im = 0.0, wsum = 0.0
    for (i, n) in range.enumerated() {
        let win = 0.5 - 0.5 * cos(2 * Double.pi * Double(i) / len)
        let v = win * Double(y[n])
        re += v * cos(w * Double(n))
        im -= v * sin(w * Double(n))
        wsum += win
    }
    return 2 * (re * re + im * im).squareRoot() / wsum
}

/// The frequency on a grid (`step` Hz, from `step` to just below Nyquist) where the windowed DFT is largest.
func peakFrequency(_ y: [Float], rate: Int, range: Range<Int>, step: Double) -> Double {
    var best = 0.0, bestAmp = -1.0
    var f = step
    while f < Double(rate) / 2 {
        let a = dftAmplitude(y, frequency: f, rate: rate, range: range)
        if a > bestAmp { bestAmp = a; best = f }
        f += step
    }
    return best
}

func rms(_ y: [Float], _ range: Range<Int>) -> Double {
    var s = 0.0
    for n in range { s += Double(y[n]) * Double(y[n]) }
    return (s / Double(range.count)).squareRoot()
}

func dB(_ ratio: Double) -> Double { 20 * log10(ratio) }
