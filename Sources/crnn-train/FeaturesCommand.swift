import ArgumentParser
import CRNNRuntime
import Features
import Foundation

struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "features",
        abstract: "Extract the MFCCs of every 3-s segment of a dataset into one feature file.",
        discussion: """
            Every clip is cut into full, non-overlapping segments (10 per 30-s GTZAN clip) and featurised on \
            all cores. Unreadable or too-short clips are skipped with a warning. The feature file records the \
            feature configuration, the labels and the track of every segment; `crnn-train fit --features` \
            reads it back without recomputing.

            Large datasets: `--shard i/N` extracts the i-th of N contiguous slices of the clip list (e.g. one \
            per machine); `crnn-train merge-features` concatenates the shards in order. \
            Ends with: clips: N, segments: N, skipped: N, audio: H h, speed: Nx real time (and augmented: N \
            unless --augment none).

            Augmentation (the default recipe; --augment default|none|LIST): besides its clean segments, each clip \
            is also degraded, rounded to 16-bit PCM and featurised. `default` (what `fit` trains on by default, \
            chosen out of pool in docs/out-of-pool.md) makes 5 copies: resample-16k, resample-8k, \
            bandpass-300-3400, noise-snr20db, gain-10db. A LIST names conditions of docs/out-of-pool.md \
            (resample-16k, resample-8k, ogg-vorbis-q0.3, mp3-q0.5, gain-20db, noise-snr20db, speed+3%, speed-3%, \
            bandpass-300-3400; also gain<+|->Ndb, noise-snrNdb, resample-Nk). `none` stores clean segments only (the \
            paper's recipe; a version-1 file, as before). These \
            segments carry their source clip's track id and label and are stored apart from the clean ones: \
            `fit` trains on those of its training tracks only; validation, test, eval, calibration and every other \
            reader see the clean segments only. The file is then version 2 (this build reads 1 and 2).
            """)

    @Option(help: "Dataset folder: one sub-folder per genre with audio files.")
    var data: String

    @Option(help: "Feature file to write (written atomically).")
    var out: String

    @OptionGroup var segments: SegmentArguments

    @Option(help: "Extract only shard i of N (1-based), e.g. 2/4.")
    var shard: String?

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var augmentation: AugmentationArguments

    @Flag(help: "No progress bar.")
    var quiet = false

    func run() throws {
        let config = try segments.config()
        let (si, sn) = try parseShard(shard)
        let plan = try augmentation.plan()

        let index: DatasetIndex
        do { index = try DatasetIndex(root: data) } catch { throw badInput(error.description) }
        let clips = index.shard(si, of: sn)
        if clips.isEmpty { throw badInput("shard \(si)/\(sn) of \(index.clips.count) clips is empty") }
        warn("dataset \(data): \(index.clips.count) clips in \(index.labels.count) genres (\(index.labels.joined(separator: " ")))"
             + (sn > 1 ? "; shard \(si)/\(sn): \(clips.count) clips" : ""))

        let (cache, summary) = try DatasetExtractor.extract(
            index: index, clips: clips, config: config, maxSegments: segments.maxSegments, threads: max(1, threads),
            shard: (si, sn), showProgress: !quiet, augment: plan)
        for w in summary.warnings { warn("warning: skipped \(w)") }
        if summary.segments == 0 { throw badInput("no segment could be extracted from \(data)") }
        do { try cache.write(to: out) } catch { throw badInput(error.description) }
        warn("wrote \(out): \(cache.segmentCount) segments x \(config.frameCount) frames x \(config.nMFCC) MFCCs"
             + (cache.augmented.isEmpty ? "" : " + \(cache.augmentedSegmentCount) augmented (training only) from \(cache.augmented.count) degraded copies"))
        print(summary.line)
    }
}

/// What each clip gives: segments of --segment-seconds at --sample-rate, at most --max-segments of them.
struct SegmentArguments: ParsableArguments {
    @Option(help: "Segment length in seconds (whole number of samples at the model rate).")
    var segmentSeconds: Double = 3

    @Option(help: "Sample rate of the features in Hz (default 22050, the paper's); e.g. 16000 for a model fed by a 16-kHz microphone. The audio is resampled to it (libsoxr); n_fft, hop, mels and MFCCs stay, f_max is half the rate.")
    var sampleRate: Int = 22050

    @Option(help: "Keep at most this many segments per clip (default: all full segments).")
    var maxSegments: Int?

    /// The feature configuration, after the usage checks of these options.
    func config() throws -> FeatureConfig {
        let config = try featureConfig(sampleRate: sampleRate, segmentSeconds: segmentSeconds)
        if let m = maxSegments, m < 1 { throw ValidationError("--max-segments must be at least 1") }
        return config
    }
}

/// The degraded training copies `features` extracts besides the clean segments.
struct AugmentationArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Degraded copies of every clip for training: default (the recipe's 5: resample-16k,resample-8k,bandpass-300-3400,noise-snr20db,gain-10db), none (clean only, the paper's recipe), or a comma-separated list.", valueName: "default|none|list"))
    var augment: String = "default"

    @Option(help: "With --augment: this many distinct degradations per clip, drawn at random (seeded) from the list (default: all of them).")
    var augmentPerClip: Int?

    @Option(help: "With --augment: seed of the per-clip draw and of the noise.")
    var augmentSeed: UInt64 = 1

    /// The plan (nil: clean segments only), after the usage checks of these options.
    func plan() throws -> AugmentationPlan? {
        let plan: AugmentationPlan?
        do { plan = try AugmentationPlan.named(augment, perClip: augmentPerClip, seed: augmentSeed) }
        catch { throw ValidationError(error.description) }
        if let k = augmentPerClip, k < 1 { throw ValidationError("--augment-per-clip must be at least 1") }
        if plan == nil && augmentPerClip != nil { throw ValidationError("--augment-per-clip contradicts --augment none") }
        return plan
    }
}

func parseShard(_ s: String?) throws -> (Int, Int) {
    guard let s else { return (1, 1) }
    let parts = s.split(separator: "/")
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else {
        throw ValidationError("--shard takes i/N with 1 <= i <= N, e.g. 2/4")
    }
    return (i, n)
}

struct MergeFeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-features",
        abstract: "Concatenate feature files (e.g. the shards of `features --shard i/N`) into one.")

    @Option(help: "Feature file to write.")
    var out: String

    @Argument(help: "Feature files, in order.")
    var parts: [String]

    func run() throws {
        guard !parts.isEmpty else { throw ValidationError("give at least one feature file") }
        do {
            let merged = try FeatureCache.concatenate(parts.map { p throws(DatasetError) in try FeatureCache(contentsOf: p) })
            try merged.write(to: out)
            print("merged \(parts.count) files: \(merged.tracks.count) tracks, \(merged.segmentCount) segments -> \(out)")
        } catch { throw badInput(error.description) }
    }
}

/// Prints `error: <message>` on standard error and returns the exit status for bad input (2).
func badInput(_ message: String) -> ExitCode {
    warn("error: " + message)
    return ExitCode(2)
}
