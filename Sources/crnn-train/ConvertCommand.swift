import ArgumentParser
import AudioIO
import Features
import Foundation

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert audio files to 16-bit mono WAV at the model's rate (what crnn-infer reads).",
        discussion: """
            Decodes any format libsndfile reads, downmixes to mono and resamples with libsoxr exactly as training \
            does, then writes DIR/<name>.wav (16-bit PCM, round(x * 32768) clamped: 16-bit sources are written back unchanged). With \
            --data, converts a whole folder-per-genre dataset into the same layout under --out-dir.
            """)

    @Argument(help: "Audio files to convert.")
    var audio: [String] = []

    @Option(help: "Convert every clip of this dataset folder (one sub-folder per genre).")
    var data: String?

    @Option(help: "Output folder.")
    var outDir: String

    @Option(help: "Sample rate of the output in Hz.")
    var rate: Int = 22050

    func run() throws {
        guard rate > 0 else { throw ValidationError("--rate must be positive") }
        var jobs: [(String, String)] = audio.map { ($0, outDir + "/" + ((($0 as NSString).lastPathComponent as NSString).deletingPathExtension) + ".wav") }
        if let data {
            let index: DatasetIndex
            do { index = try DatasetIndex(root: data) } catch { throw badInput(error.description) }
            jobs += index.clips.map { (index.path(of: $0), outDir + "/" + index.labels[$0.label] + "/" + $0.trackID + ".wav") }
        }
        guard !jobs.isEmpty else { throw ValidationError("give audio files or --data DIR") }
        var failures = 0
        for (src, dst) in jobs {
            do {
                let x = try AudioDecoder.decodeMono(path: src, sampleRate: rate)
                try FileManager.default.createDirectory(atPath: (dst as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try PCMWAVWriter.write(path: dst, channels: [x], sampleRate: rate)
            } catch {
                warn("error: \(error)")
                failures += 1
            }
        }
        print("converted \(jobs.count - failures) of \(jobs.count) files to \(rate) Hz mono 16-bit WAV in \(outDir)")
        if failures > 0 { throw ExitCode(2) }
    }
}
