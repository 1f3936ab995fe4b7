import ArgumentParser
import AudioIO
import Features
import Foundation
import Quantization
import Training

struct OutOfPoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oop",
        abstract: "Out-of-pool evaluation: held-out tracks clean and degraded, and other folders (other artists).",
        discussion: """
            Evaluates a checkpoint (and, with --int8, its int8 model on the device path: fixed-point MFCC + int8 \
            network from 16-bit PCM, exactly as crnn-infer) on audio it has not seen (docs/out-of-pool.md):
              clean      the checkpoint's held-out tracks (its validation + test tracks, found in --data)
              degraded   the same tracks through each degradation: resampled through 16 kHz and 8 kHz (libsoxr), \
            Ogg Vorbis (and MP3 where libsndfile writes it), -20 dB gain, white noise at 20 dB SNR, speed +-3 %, \
            a 300-3400 Hz band-pass; deterministic (--seed)
              --extra    every clip of another folder (e.g. gtzan-extra: other artists), minus tracks the model \
            was trained on; its genres must be among the checkpoint's
            Both paths see each clip rounded to 16-bit PCM. Prints a markdown table (or JSON with --json): float \
            track and segment accuracy, device track and segment accuracy and device = float top-1 agreement, \
            per-genre track recall. --out DIR writes oop.md and oop.json.
            """)

    @Option(help: "Checkpoint trained on --data (its held-out track ids are read from it).")
    var checkpoint: String

    @Option(help: "The int8 model file of the checkpoint (crnn-quantize): adds the device-path columns.")
    var int8: String?

    @Option(help: "The dataset folder the checkpoint was trained on (holds the held-out tracks' audio).")
    var data: String

    @Option(help: "Another dataset folder of unseen tracks (repeatable), e.g. ../shared/data/gtzan-extra.")
    var extra: [String] = []

    @Option(help: "Comma-separated subset of the conditions (clean, resample-16k, resample-8k, ogg-vorbis-q0.3, mp3-q0.5, gain-20db, noise-snr20db, speed+3%, speed-3%, bandpass-300-3400); default all.")
    var conditions: String?

    @Option(help: "Seed of the random degradations (noise).")
    var seed: UInt64 = 1

    @Flag(help: "Print the table as JSON instead of markdown.")
    var json = false

    @Option(help: "Write oop.md and oop.json into this folder.")
    var out: String?

    @Flag(help: "No progress bars.")
    var quiet = false

    func run() throws {
        let ckpt: Checkpoint
        do { ckpt = try Checkpoint(contentsOf: checkpoint) } catch { throw badInput(error.description) }
        guard ckpt.meta.split != "random" else {
            throw badInput("\(checkpoint): trained on a random (segment-level) split; its held-out tracks share clips with training")
        }
        var bytes: [UInt8]?
        if let m = int8 {
            guard let d = FileManager.default.contents(atPath: m) else { throw badInput("\(m): cannot read the int8 model") }
            bytes = [UInt8](d)
        }
        let ev: OutOfPoolEvaluator
        do { ev = try OutOfPoolEvaluator(checkpoint: ckpt, int8: bytes) } catch { throw badInput("\(error)") }
        var wanted: Set<String>?
        if let c = conditions { wanted = Set(c.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
        let q = quiet
        let runner = OutOfPoolRunner(evaluator: ev, seed: seed, conditions: wanted,
                                     progress: { q ? nil : ProgressBar(total: $1, label: $0, unit: "segments") })

        // The held-out clips of --data, decoded once.
        let held = Set(ckpt.meta.validationTracks + ckpt.meta.testTracks)
        let clean: [OutOfPoolClip]
        do { clean = try runner.decodeClips(root: data, trackIDs: held) } catch { throw badInput(error.description) }
        guard !clean.isEmpty else {
            throw badInput("\(data) holds none of the checkpoint's \(held.count) held-out tracks (is it the folder it was trained on?)")
        }
        if clean.count < held.count { warn("warning: \(held.count - clean.count) of the \(held.count) held-out tracks are not in \(data)") }

        var rows: [OutOfPoolRow] = []
        do {
            rows = try runner.heldOutRows(clean)
            if let w = wanted, w.contains(where: { $0.hasPrefix("mp3") }), !Degradation.canWriteMP3(sampleRate: Int(ckpt.featureConfig.sampleRate)) {
                warn("warning: this libsndfile cannot write MP3; the mp3 condition is left out")
            }
            for dir in extra {
                let (row, leftOut) = try runner.otherFolderRow(dir)
                if leftOut > 0 { warn("\(dir): \(leftOut) clips left out (the model was trained on them)") }
                rows.append(row)
            }
        } catch { throw badInput(error.description) }

        let table = OutOfPoolTable(model: ckpt.meta.model, checkpoint: checkpoint, int8Model: int8,
                                   input: (ckpt.meta.inputSegmentNormalization.map { "per-segment \($0), then " } ?? "")
                                       + (ckpt.meta.inputMean.isEmpty ? "raw" : "standardised"),
                                   heldOutTracks: clean.map(\.trackID), degradationSeed: seed, rows: rows)
        if let dir = out {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try table.json().write(to: URL(fileURLWithPath: dir + "/oop.json"))
                try Data(("# Out-of-pool evaluation: \(ckpt.meta.model) (\(checkpoint))\n\n" + table.markdown()).utf8)
                    .write(to: URL(fileURLWithPath: dir + "/oop.md"))
            } catch { throw badInput("\(dir): \(error)") }
            warn("wrote \(dir)/oop.md and \(dir)/oop.json")
        }
        if json {
            FileHandle.standardOutput.write(table.json())
            print()
        } else {
            print(table.markdown(), terminator: "")
        }
    }
}

struct OutOfPoolSummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oop-summary",
        abstract: "Mean ± sd per condition over several oop.json tables (e.g. one per seed), as markdown.")

    @Argument(help: "oop.json files written by `crnn-train oop --out`.")
    var tables: [String]

    func run() throws {
        guard !tables.isEmpty else { throw ValidationError("give at least one oop.json") }
        var ts: [OutOfPoolTable] = []
        for p in tables {
            guard let d = FileManager.default.contents(atPath: p) else { throw badInput("\(p): cannot read it") }
            do { ts.append(try OutOfPoolTable.decode(d)) } catch { throw badInput("\(p): not an oop.json table (\(error))") }
        }
        print(OutOfPoolTable.summaryMarkdown(ts), terminator: "")
    }
}
