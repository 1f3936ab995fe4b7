import Foundation

/// One audio file of a folder-per-genre dataset.
public struct DatasetClip: Equatable, Sendable {
    /// Path relative to the dataset root, e.g. `blues/blues.00000.flac`.
    public var relativePath: String
    /// The file's stem, e.g. `blues.00000`: the track id used by splits and reports.
    public var trackID: String
    /// Index into `DatasetIndex.labels`.
    public var label: Int

    public init(relativePath: String, trackID: String, label: Int) {
        self.relativePath = relativePath
        self.trackID = trackID
        self.label = label
    }
}

/// Errors about a dataset folder or a feature file; `description` says what and where.
public struct DatasetError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A folder-per-genre dataset: `ROOT/<genre>/<any name>.<audio extension>`, GTZAN's layout
/// (`blues/blues.00000.wav`). Labels are the genre folder names in sorted order; a clip's track id is
/// its file stem. Hidden files and files without an audio extension are ignored.
///
/// Example: `try DatasetIndex(root: "../shared/data/gtzan-mini").clips.count == 100`.
public struct DatasetIndex: Sendable {
    /// File extensions read as audio (lower-cased): the formats libsndfile decodes.
    public static let audioExtensions: Set<String> = [
        "wav", "wave", "flac", "ogg", "oga", "opus", "mp3", "au", "snd", "aif", "aiff", "aifc", "caf", "w64", "rf64",
    ]

    public let root: String
    public let labels: [String]
    /// Clips sorted by label, then by file name.
    public let clips: [DatasetClip]

    public init(root: String) throws(DatasetError) {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir) else {
            throw DatasetError("\(root): no such folder")
        }
        guard isDir.boolValue else { throw DatasetError("\(root): not a folder (expected one sub-folder per genre)") }
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: root) } catch {
            throw DatasetError("\(root): cannot list folder (\(error.localizedDescription))")
        }
        let genreFolders = entries.filter { name in
            var d: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: root + "/" + name, isDirectory: &d) && d.boolValue
        }.sorted()
        guard !genreFolders.isEmpty else {
            throw DatasetError("\(root): no genre sub-folders (expected ROOT/<genre>/<track>.<wav|flac|...>)")
        }
        var clips: [DatasetClip] = []
        var labels: [String] = []
        for genre in genreFolders {
            let files = ((try? fm.contentsOfDirectory(atPath: root + "/" + genre)) ?? []).filter { name in
                !name.hasPrefix(".") && Self.audioExtensions.contains((name as NSString).pathExtension.lowercased())
            }.sorted()
            if files.isEmpty { continue }
            let label = labels.count
            labels.append(genre)
            for f in files {
                clips.append(DatasetClip(relativePath: genre + "/" + f,
                                         trackID: (f as NSString).deletingPathExtension, label: label))
            }
        }
        guard !clips.isEmpty else { throw DatasetError("\(root): no audio files in any genre folder") }
        self.root = root
        self.labels = labels
        self.clips = clips
    }

    /// Full path of a clip.
    public func path(of clip: DatasetClip) -> String { root + "/" + clip.relativePath }

    /// The clips of shard `index` (1-based) of `count`: a contiguous slice, so shards concatenate in order.
    public func shard(_ index: Int, of count: Int) -> ArraySlice<DatasetClip> {
        precondition(count >= 1 && index >= 1 && index <= count)
        let n = clips.count
        return clips[(index - 1) * n / count ..< index * n / count]
    }
}
