import ArgumentParser
import CRNNRuntime
import Features
import Foundation

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the pipeline on a generated demo dataset (needs no outside data).",
        discussion: """
            Writes a small synthetic folder-per-genre dataset (4 genres of generated signals) under --out/data, \
            extracts its MFCC features (and the default recipe's degraded training copies) into --out/features.bin \
            exactly as `crnn-train features` does for GTZAN, \
            then trains a cnn-gru on a track-level split (`crnn-train fit`) into --out/run: model.ckpt, \
            report.md, metrics.json, curves.svg, confusion.svg.
            """)

    @Option(help: "Folder for the demo dataset and its outputs.")
    var out: String = "demo"

    @Option(help: "Clips per genre.")
    var clipsPerGenre: Int = 10

    @Option(help: "Clip length in seconds.")
    var seconds: Double = 9

    @Option(help: "Training epochs (0: features only).")
    var epochs: Int = 30

    @Option(help: ArgumentHelp("Degraded training copies: default (the recipe's), none, or a list (as `crnn-train features --augment`).", valueName: "default|none|list"))
    var augment: String = "default"

    @Option(help: "Seed of the signal generator.")
    var seed: UInt64 = 1

    func run() throws {
        guard clipsPerGenre >= 1, seconds >= 3 else { throw ValidationError("need at least 1 clip per genre and 3 s per clip") }
        let dataDir = out + "/data"
        let n = try DemoDataset.generate(at: dataDir, clipsPerGenre: clipsPerGenre, seconds: seconds, seed: seed)
        warn("generated \(n) clips (\(DemoDataset.genres.joined(separator: ", "))) in \(dataDir)")
        let index: DatasetIndex
        do { index = try DatasetIndex(root: dataDir) } catch { throw badInput(error.description) }
        // The default recipe: clean segments plus the degraded training copies (as `crnn-train features`).
        let (cache, summary) = try DatasetExtractor.extract(index: index, augment: try AugmentationPlan.named(augment))
        for w in summary.warnings { warn("warning: skipped \(w)") }
        if summary.segments == 0 { throw badInput("no segment could be extracted from the demo data") }
        do { try cache.write(to: out + "/features.bin") } catch { throw badInput(error.description) }
        warn("wrote \(out)/features.bin")
        print(summary.line)
        guard epochs > 0 else { return }
        let fit = try FitCommand.parse([
            "--features", out + "/features.bin", "--model", "cnn-gru", "--filters", "16", "--batch", "8",
            "--epochs", "\(epochs)", "--min-epochs", "\(min(epochs, 15))", "--seed", "\(seed)", "--out", out + "/run", "--quiet",
        ])
        try fit.run()
        warn("reports: \(out)/run/report.md, \(out)/run/curves.svg, \(out)/run/confusion.svg")
    }
}
