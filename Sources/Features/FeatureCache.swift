import CRNNRuntime
import Foundation

/// One track (clip) of a feature file: its segments are `firstSegment ..< firstSegment + segmentCount`.
public struct FeatureTrack: Equatable, Sendable {
    public var trackID: String
    public var relativePath: String
    public var label: Int
    public var firstSegment: Int
    public var segmentCount: Int
    /// Index of each segment inside its clip (segment k covers samples k*L ..< (k+1)*L).
    public init(trackID: String, relativePath: String, label: Int, firstSegment: Int, segmentCount: Int) {
        self.trackID = trackID
        self.relativePath = relativePath
        self.label = label
        self.firstSegment = firstSegment
        self.segmentCount = segmentCount
    }
}

/// The segments of one degraded copy of a clip (`crnn-train features --augment`): training material only.
///
/// It belongs to the clean track `tracks[source]` and carries that track's id and label, so a split by track
/// keeps it on its source's side. Its segments are numbered after all clean segments
/// (`firstSegment >= FeatureCache.segmentCount`), so every consumer that walks `0 ..< segmentCount`,
/// `tracks`, `segmentLabels` or `segmentTracks` sees the clean data only, exactly as before augmentation existed.
public struct AugmentedTrack: Equatable, Sendable {
    /// Index of the clean source track in `FeatureCache.tracks`.
    public var source: Int
    /// The degradation's name (`Degradation.description`, e.g. `resample-8k`).
    public var condition: String
    public var trackID: String
    public var label: Int
    /// Global segment index (after the clean segments) and count.
    public var firstSegment: Int
    public var segmentCount: Int
    // Made by FeatureCache only (appendAugmented, the reader), with the memberwise initialiser Swift synthesises.
}

/// MFCC features of a whole dataset, as extracted once by `crnn-train features` and read back by training.
///
/// File layout (little-endian), version 1 (written whenever the file holds no augmented segments, so older
/// builds keep reading such files); version 2 is version 1 plus an augmentation section before the checksum:
/// ```
/// 0   magic "CRNNFEAT" (8 bytes)
/// 8   u32 version (1)
/// 12  u32 shard index (1-based), u32 shard count
/// 20  64 bytes FeatureConfig (its own versioned encoding)
/// 84  u32 label count, u32 track count, u32 segment count, u32 frames, u32 coefficients
/// 104 labels: u32 byte length + UTF-8 each
///     tracks: u32 len + UTF-8 track id, u32 len + UTF-8 relative path, u32 label, u32 first segment, u32 count
///     segment data: segment count x frames x coefficients float32 (frame-major per segment)
///     [version 2 only] u32 augmented-copy count A, u32 augmented segment count S
///         A x (u32 source track index, u32 len + UTF-8 condition, u32 first (from 0, in the augmented
///         segments), u32 count), then S x frames x coefficients float32
///     u32 FNV-1a checksum of everything before it
/// ```
/// The reader checks magic, version, every count against the file size and the checksum, and gives a
/// `DatasetError` naming the file and the problem.
public struct FeatureCache: Sendable {
    public static let magic: [UInt8] = Array("CRNNFEAT".utf8)
    /// The newest version this build writes (and every version it reads: 1 and 2).
    public static let version: UInt32 = 2

    public var config: FeatureConfig
    public var labels: [String]
    public var tracks: [FeatureTrack]
    /// `segmentCount * valuesPerSegment` floats.
    public var values: [Float]
    public var shardIndex: Int
    public var shardCount: Int
    /// Degraded copies of clean tracks (training material only; see `AugmentedTrack`). Empty unless the file
    /// was extracted with `--augment`.
    public var augmented: [AugmentedTrack]
    /// `augmentedSegmentCount * valuesPerSegment` floats: the segments of `augmented`, in order.
    public var augmentedValues: [Float]

    public init(config: FeatureConfig, labels: [String], tracks: [FeatureTrack], values: [Float],
                shardIndex: Int = 1, shardCount: Int = 1, augmented: [AugmentedTrack] = [], augmentedValues: [Float] = []) {
        self.config = config
        self.labels = labels
        self.tracks = tracks
        self.values = values
        self.shardIndex = shardIndex
        self.shardCount = shardCount
        self.augmented = augmented
        self.augmentedValues = augmentedValues
    }

    public var valuesPerSegment: Int { config.valuesPerSegment }
    /// The number of CLEAN segments (augmented ones are numbered after them).
    public var segmentCount: Int { values.count / max(1, valuesPerSegment) }
    public var augmentedSegmentCount: Int { augmentedValues.count / max(1, valuesPerSegment) }

    /// The label of every segment, clean then augmented (indexable by any segment number).
    public var allSegmentLabels: [Int] {
        var out = segmentLabels
        out.reserveCapacity(segmentCount + augmentedSegmentCount)
        for a in augmented { out += [Int](repeating: a.label, count: a.segmentCount) }
        return out
    }

    /// The augmented segments whose source track id is in `trackIDs` and in none of `excluding` (so a track
    /// whose clean segments also sit in validation or test, as in the leaky random split, contributes none).
    public func augmentedSegments(ofTracks trackIDs: [String], excluding: [String] = []) -> [Int] {
        let want = Set(trackIDs).subtracting(excluding)
        return augmented.filter { want.contains($0.trackID) }.flatMap { $0.firstSegment ..< $0.firstSegment + $0.segmentCount }
    }

    /// Appends the segments of a degraded copy of `tracks[source]` (frame-major values, whole segments).
    public mutating func appendAugmented(source: Int, condition: String, values v: [Float]) {
        let n = v.count / max(1, valuesPerSegment)
        augmented.append(AugmentedTrack(source: source, condition: condition, trackID: tracks[source].trackID,
                                        label: tracks[source].label, firstSegment: segmentCount + augmentedSegmentCount,
                                        segmentCount: n))
        augmentedValues += v
    }

    /// The label of every segment, in order.
    public var segmentLabels: [Int] {
        var out = [Int](repeating: 0, count: segmentCount)
        for t in tracks { for s in t.firstSegment ..< t.firstSegment + t.segmentCount { out[s] = t.label } }
        return out
    }

    /// The track index of every segment, in order.
    public var segmentTracks: [Int] {
        var out = [Int](repeating: 0, count: segmentCount)
        for (i, t) in tracks.enumerated() { for s in t.firstSegment ..< t.firstSegment + t.segmentCount { out[s] = i } }
        return out
    }

    /// The features of segment `s` (frame-major, `frameCount x nMFCC`).
    /// Segment numbers from `segmentCount` on are augmented ones.
    public func segment(_ s: Int) -> ArraySlice<Float> {
        let v = valuesPerSegment
        if s < segmentCount { return values[s * v ..< (s + 1) * v] }
        let a = s - segmentCount
        return augmentedValues[a * v ..< (a + 1) * v]
    }

    // MARK: Writing

    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.bytes(Self.magic)
        w.u32(augmented.isEmpty ? 1 : 2)
        w.u32(UInt32(shardIndex))
        w.u32(UInt32(shardCount))
        w.bytes(config.encodedBytes)
        w.u32(UInt32(labels.count))
        w.u32(UInt32(tracks.count))
        w.u32(UInt32(segmentCount))
        w.u32(UInt32(config.frameCount))
        w.u32(UInt32(config.nMFCC))
        for l in labels { w.string(l) }
        for t in tracks {
            w.string(t.trackID)
            w.string(t.relativePath)
            w.u32(UInt32(t.label))
            w.u32(UInt32(t.firstSegment))
            w.u32(UInt32(t.segmentCount))
        }
        values.withUnsafeBytes { w.bytes($0) }  // float32 little-endian on every supported host
        if !augmented.isEmpty {
            w.u32(UInt32(augmented.count))
            w.u32(UInt32(augmentedSegmentCount))
            for a in augmented {
                w.u32(UInt32(a.source))
                w.string(a.condition)
                w.u32(UInt32(a.firstSegment - segmentCount))
                w.u32(UInt32(a.segmentCount))
            }
            augmentedValues.withUnsafeBytes { w.bytes($0) }
        }
        w.u32(fnv1a(w.data))
        return w.data
    }

    /// Writes atomically (temporary file in the same folder, then rename).
    public func write(to path: String) throws(DatasetError) {
        try writeAtomically(encoded(), to: path)
    }

    // MARK: Reading

    public init(contentsOf path: String) throws(DatasetError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DatasetError("\(path): cannot read feature file (missing or unreadable)")
        }
        do { try self.init(bytes: [UInt8](data)) } catch { throw DatasetError("\(path): \(error.description)") }
    }

    public init(bytes: [UInt8]) throws(DatasetError) {
        var r = ByteReader(bytes: bytes)
        guard bytes.count >= 8, Array(bytes[0..<8]) == Self.magic else {
            throw DatasetError("not a feature file (bad magic; expected one written by `crnn-train features`)")
        }
        r.offset = 8
        let version = try r.u32()
        guard version == 1 || version == 2 else {
            throw DatasetError("feature file version \(version) is not supported (this build reads versions 1 and 2); re-extract with this crnn-train")
        }
        guard bytes.count >= 4 else { throw DatasetError("truncated feature file") }
        let stored = bytes[bytes.count - 4 ..< bytes.count].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        guard stored == fnv1a(bytes[0 ..< bytes.count - 4]) else {
            throw DatasetError("feature file is corrupt or truncated (checksum mismatch)")
        }
        let shardIndex = Int(try r.u32()), shardCount = Int(try r.u32())
        guard let config = FeatureConfig(bytes: try r.take(FeatureConfig.encodedByteCount)) else {
            throw DatasetError("feature file holds an unknown or invalid feature configuration")
        }
        let labelCount = Int(try r.u32()), trackCount = Int(try r.u32()), segmentCount = Int(try r.u32())
        let frames = Int(try r.u32()), coeffs = Int(try r.u32())
        guard frames == config.frameCount, coeffs == Int(config.nMFCC) else {
            throw DatasetError("feature file shape \(frames)x\(coeffs) disagrees with its configuration")
        }
        guard labelCount <= 10_000, trackCount <= 10_000_000, segmentCount <= 100_000_000 else {
            throw DatasetError("feature file counts are implausible (corrupt header)")
        }
        var labels: [String] = []
        for _ in 0..<labelCount { labels.append(try r.string()) }
        var tracks: [FeatureTrack] = []
        var next = 0
        for _ in 0..<trackCount {
            let id = try r.string(), rel = try r.string()
            let label = Int(try r.u32()), first = Int(try r.u32()), count = Int(try r.u32())
            guard label < labelCount, first == next, count >= 0 else {
                throw DatasetError("feature file track table is inconsistent (track \(id))")
            }
            next += count
            tracks.append(FeatureTrack(trackID: id, relativePath: rel, label: label, firstSegment: first, segmentCount: count))
        }
        guard next == segmentCount else { throw DatasetError("feature file track table does not cover its \(segmentCount) segments") }
        // A valid configuration can declare 2^40 values per segment: check the product before using it.
        // Version 2 appends the augmentation section after the clean values.
        let (floatCount, overflow) = segmentCount.multipliedReportingOverflow(by: config.valuesPerSegment)
        guard !overflow, floatCount <= (r.remaining - 4) / 4,
              version == 2 ? r.remaining >= floatCount * 4 + 4 : r.remaining == floatCount * 4 + 4 else {
            throw DatasetError("feature file size disagrees with its header (\(r.remaining - 4) data bytes for \(segmentCount) segments of \(config.valuesPerSegment) values)")
        }
        func floats(_ count: Int, _ r: inout ByteReader) -> [Float] {
            var out = [Float](repeating: 0, count: count)
            out.withUnsafeMutableBytes { dst in
                bytes.withUnsafeBytes { src in
                    dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[r.offset ..< r.offset + count * 4]))
                }
            }
            r.offset += count * 4
            return out
        }
        let values = floats(floatCount, &r)
        var augmented: [AugmentedTrack] = []
        var augmentedValues: [Float] = []
        if version == 2 {
            let count = Int(try r.u32()), augSegments = Int(try r.u32())
            guard count <= 100_000_000, augSegments <= 1_000_000_000 else { throw DatasetError("feature file augmentation counts are implausible (corrupt)") }
            var nextAug = 0
            for _ in 0..<count {
                let source = Int(try r.u32()), condition = try r.string()
                let first = Int(try r.u32()), n = Int(try r.u32())
                guard source < tracks.count, first == nextAug else {
                    throw DatasetError("feature file augmentation table is inconsistent (copy \(condition) of track \(source))")
                }
                nextAug += n
                augmented.append(AugmentedTrack(source: source, condition: condition, trackID: tracks[source].trackID,
                                                label: tracks[source].label, firstSegment: segmentCount + first, segmentCount: n))
            }
            let (augFloats, augOverflow) = augSegments.multipliedReportingOverflow(by: config.valuesPerSegment)
            guard nextAug == augSegments, !augOverflow, augFloats <= (r.remaining - 4) / 4, r.remaining == augFloats * 4 + 4 else {
                throw DatasetError("feature file augmentation section disagrees with its size")
            }
            augmentedValues = floats(augFloats, &r)
        }
        self.init(config: config, labels: labels, tracks: tracks, values: values, shardIndex: shardIndex, shardCount: shardCount,
                  augmented: augmented, augmentedValues: augmentedValues)
    }

    // MARK: Concatenation of shards

    /// Concatenates feature files (e.g. the shards of `crnn-train features --shard i/N`) in the order given.
    /// All parts must share the feature configuration and labels.
    public static func concatenate(_ parts: [FeatureCache]) throws(DatasetError) -> FeatureCache {
        guard let first = parts.first else { throw DatasetError("nothing to concatenate") }
        var out = FeatureCache(config: first.config, labels: first.labels, tracks: [], values: [])
        for (i, p) in parts.enumerated() {
            guard p.config == first.config else { throw DatasetError("part \(i + 1) was extracted with another feature configuration") }
            guard p.labels == first.labels else { throw DatasetError("part \(i + 1) has other labels (\(p.labels) vs \(first.labels))") }
            let base = out.segmentCount
            for var t in p.tracks { t.firstSegment += base; out.tracks.append(t) }
            out.values.append(contentsOf: p.values)
        }
        // Augmented copies follow all clean segments: renumber sources and segments.
        var trackBase = 0
        for p in parts {
            for a in p.augmented {
                let v = p.valuesPerSegment, from = a.firstSegment - p.segmentCount
                out.appendAugmented(source: trackBase + a.source, condition: a.condition,
                                    values: Array(p.augmentedValues[from * v ..< (from + a.segmentCount) * v]))
            }
            trackBase += p.tracks.count
        }
        let ids = out.tracks.map(\.relativePath)
        if Set(ids).count != ids.count { throw DatasetError("the parts overlap: some tracks appear twice") }
        return out
    }
}

// MARK: - Small binary helpers (host side)

/// 32-bit FNV-1a hash: the checksum of feature files and checkpoints.
public func fnv1a<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    var h: UInt32 = 2_166_136_261
    for b in bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
    return h
}

struct ByteWriter {
    var data: [UInt8] = []
    mutating func u32(_ v: UInt32) { for i in 0..<4 { data.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
    mutating func bytes<C: Collection>(_ b: C) where C.Element == UInt8 { data.append(contentsOf: b) }
    mutating func bytes(_ b: UnsafeRawBufferPointer) { data.append(contentsOf: b) }
    mutating func string(_ s: String) { let u = Array(s.utf8); u32(UInt32(u.count)); data.append(contentsOf: u) }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset = 0
    var remaining: Int { bytes.count - offset }
    mutating func take(_ n: Int) throws(DatasetError) -> [UInt8] {
        guard n >= 0, n <= remaining else { throw DatasetError("truncated (needed \(n) bytes at offset \(offset))") }
        defer { offset += n }
        return Array(bytes[offset ..< offset + n])
    }
    mutating func u32() throws(DatasetError) -> UInt32 {
        let b = try take(4)
        return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
    }
    mutating func string() throws(DatasetError) -> String {
        let n = Int(try u32())
        guard n <= 4096 else { throw DatasetError("implausible string length \(n) at offset \(offset - 4)") }
        return String(decoding: try take(n), as: UTF8.self)
    }
}

/// Writes `bytes` so that `path` always holds either its previous complete content or the new one, even
/// when the process is killed or the machine loses power mid-write: the bytes go to a temporary file in the
/// same folder (`.NAME.PID.tmp`), which is fsync'ed, then renamed over `path`, then the folder is fsync'ed
/// (so the rename itself is durable). `midWrite`, when given, runs after the first half of the bytes is in
/// the temporary file (a test hook: a test can pause there and kill the process mid-write).
public func writeAtomically(_ bytes: [UInt8], to path: String, midWrite: (() -> Void)? = nil) throws(DatasetError) {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent()
    let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    func failure(_ what: String) -> DatasetError {
        let reason = String(cString: strerror(errno))
        return DatasetError("\(path): \(what) (\(reason))")
    }
    do {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    } catch {
        throw DatasetError("\(path): cannot create folder (\(error.localizedDescription))")
    }
    let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw failure("cannot create temporary file") }
    var ok = true, what = ""
    bytes.withUnsafeBytes { raw in
        var done = 0
        let half = raw.count / 2
        while done < raw.count {
            let end = midWrite != nil && done < half ? half : raw.count
            let n = write(fd, raw.baseAddress! + done, end - done)
            if n < 0 {
                if errno == EINTR { continue }
                ok = false; what = "cannot write"; return
            }
            done += n
            if done == half, let midWrite { midWrite() }
        }
    }
    if ok, fsync(fd) != 0 { ok = false; what = "cannot fsync" }
    if close(fd) != 0, ok { ok = false; what = "cannot close" }
    guard ok else {
        let e = failure(what)
        unlink(tmp.path)
        throw e
    }
    guard rename(tmp.path, url.path) == 0 else {
        let e = failure("cannot rename temporary file into place")
        unlink(tmp.path)
        throw e
    }
    // Make the rename durable. A folder that cannot be opened or synced (some network file systems) only
    // loses durability across a power cut, not atomicity: not an error.
    let dfd = open(dir.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dfd >= 0 {
        _ = fsync(dfd)
        _ = close(dfd)
    }
}

/// Removes temporary files that `writeAtomically` left in `dir` for the given file names when a process
/// was killed mid-write (`.NAME.PID.tmp`, any PID but this process's). Returns the names removed.
@discardableResult
public func removeStaleTemporaryFiles(in dir: String, for names: [String]) -> [String] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
    let mine = ".\(getpid()).tmp"
    var removed: [String] = []
    for e in entries where e.hasSuffix(".tmp") && !e.hasSuffix(mine) {
        guard names.contains(where: { e.hasPrefix(".\($0).") }) else { continue }
        let middle = e.dropFirst(1).dropLast(4)          // NAME.PID
        guard let dot = middle.lastIndex(of: "."), names.contains(String(middle[..<dot])),
              middle[middle.index(after: dot)...].allSatisfy(\.isNumber) else { continue }
        if unlink(dir + "/" + e) == 0 { removed.append(e) }
    }
    return removed.sorted()
}
