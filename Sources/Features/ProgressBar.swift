import Foundation

/// A thread-safe progress bar on standard error: `label [#####.....] 42/100 (42%) 3.1 items/s ETA 0:19`.
/// On a terminal it redraws in place; otherwise (CI logs) it prints a line at every 10 %.
public final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Int
    private let label: String
    private let unit: String
    private let start = Date()
    private var done = 0
    private var lastDraw = Date.distantPast
    private var lastDecile = -1
    private let interactive = isatty(2) != 0
    private var extra = ""

    public init(total: Int, label: String, unit: String = "items") {
        self.total = max(total, 1)
        self.label = label
        self.unit = unit
    }

    /// Advances by `n` and redraws when due. `status` replaces the text shown after the rate (e.g. a loss).
    public func advance(_ n: Int = 1, status: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        done += n
        if let status { extra = status }
        let now = Date()
        let decile = done * 10 / total
        if interactive {
            if now.timeIntervalSince(lastDraw) > 0.1 || done >= total { draw(now); lastDraw = now }
        } else if decile != lastDecile {
            lastDecile = decile
            draw(now)
        }
    }

    /// Ends the line.
    public func finish(status: String? = nil) {
        lock.lock()
        defer { lock.unlock() }
        if let status { extra = status }
        if interactive { draw(Date()); FileHandle.standardError.write(Data("\n".utf8)) }
        else if lastDecile != 10 { draw(Date()) }
    }

    private func draw(_ now: Date) {
        let elapsed = now.timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = min(width, done * width / total)
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let pct = done * 100 / total
        let tail = extra.isEmpty ? "" : "  " + extra
        let line = "\(label) [\(bar)] \(done)/\(total) (\(pct)%) \(String(format: "%.1f", rate)) \(unit)/s ETA \(Self.clock(remaining))\(tail)"
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line + (interactive ? "" : "\n")).utf8))
    }

    static func clock(_ s: Double) -> String {
        let t = Int(s.rounded())
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%d:%02d", t / 60, t % 60)
    }
}
