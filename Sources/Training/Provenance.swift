import Foundation

/// Paths as artifacts record them (checkpoint provenance, reports): never the absolute paths of the machine that made
/// them. A path under the working directory becomes relative to it (`runs/x/features.bin`); one outside it keeps its
/// last two components behind `.../` (`.../shipped3/features.bin`: where it came from, not where it lived); a
/// relative path is kept. The program of a command line keeps its name only (`crnn-train`).
public enum ProvenancePath {
    public static func relative(_ path: String, to base: String = FileManager.default.currentDirectoryPath) -> String {
        guard path.hasPrefix("/") else { return path }
        let root = base.hasSuffix("/") ? base : base + "/"
        if path.hasPrefix(root) { return String(path.dropFirst(root.count)) }
        let parts = path.split(separator: "/")
        return parts.count <= 2 ? parts.joined(separator: "/") : ".../" + parts.suffix(2).joined(separator: "/")
    }

    /// A command line (words joined by single spaces) with every absolute path word made `relative`, and the
    /// program's path reduced to its name.
    public static func relativeCommand(_ command: String, to base: String = FileManager.default.currentDirectoryPath) -> String {
        var words = command.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard !words.isEmpty else { return command }
        words[0] = words[0].split(separator: "/").last.map(String.init) ?? words[0]
        for i in words.indices.dropFirst() { words[i] = relative(words[i], to: base) }
        return words.joined(separator: " ")
    }

    /// Checkpoint provenance with `command` through `relativeCommand` and every other value that is an absolute
    /// path through `relative` (dates and free text are unchanged).
    public static func relativized(_ provenance: [String: String],
                                   to base: String = FileManager.default.currentDirectoryPath) -> [String: String] {
        var out = provenance
        for (k, v) in provenance {
            out[k] = k == "command" ? relativeCommand(v, to: base) : relative(v, to: base)
        }
        return out
    }
}
