import Foundation

/// One epoch of training history: the numbers `curves.svg` plots and `metrics.json` records.
public struct EpochRecord: Equatable, Sendable, Codable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var validationLoss: Double
    public var validationAccuracy: Double
    public var learningRate: Double
    public var seconds: Double
    // Made by the training loop only, with the memberwise initialiser Swift synthesises.
}

/// SVG plots of a training run, self-contained (no scripts, no external fonts), as the paper's figures.
public enum SVGPlots {
    /// Training vs validation accuracy (left) and loss (right) per epoch: the paper's Figs. 8 and 10.
    public static func curves(_ history: [EpochRecord], title: String) -> String {
        let w = 900.0, h = 380.0
        var s = header(w, h)
        s += text(w / 2, 24, esc(title), size: 16, anchor: "middle", bold: true)
        let acc = panel(x: 60, y: 50, w: 370, h: 270, history: history, title: "accuracy",
                        train: history.map(\.trainAccuracy), val: history.map(\.validationAccuracy), fixedRange: (0, 1))
        let lossMax = max(history.map(\.trainLoss).max() ?? 1, history.map(\.validationLoss).max() ?? 1)
        let loss = panel(x: 500, y: 50, w: 370, h: 270, history: history, title: "loss",
                         train: history.map(\.trainLoss), val: history.map(\.validationLoss), fixedRange: (0, niceCeil(lossMax)))
        s += acc + loss
        // Legend
        s += "<line x1=\"330\" y1=\"360\" x2=\"360\" y2=\"360\" stroke=\"#1f77b4\" stroke-width=\"2.5\"/>"
        s += text(366, 364, "training", size: 12)
        s += "<line x1=\"460\" y1=\"360\" x2=\"490\" y2=\"360\" stroke=\"#d62728\" stroke-width=\"2.5\" stroke-dasharray=\"6 3\"/>"
        s += text(496, 364, "validation", size: 12)
        return s + "</svg>\n"
    }

    /// A confusion matrix as a heat map with counts: the paper's Figs. 9 and 11 (rows = true genre).
    public static func confusion(_ m: [[Int]], labels: [String], title: String) -> String {
        let n = m.count
        let cell = 46.0, left = 110.0, top = 70.0
        let w = left + cell * Double(n) + 30, h = top + cell * Double(n) + 90
        var s = header(w, h)
        s += text(w / 2, 24, esc(title), size: 16, anchor: "middle", bold: true)
        s += text(left + cell * Double(n) / 2, h - 20, "predicted genre", size: 13, anchor: "middle")
        s += "<text x=\"18\" y=\"\(fmt(top + cell * Double(n) / 2))\" font-size=\"13\" font-family=\"sans-serif\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(fmt(top + cell * Double(n) / 2)))\">true genre</text>"
        for i in 0..<n {
            let rowTotal = max(1, m[i].reduce(0, +))
            for j in 0..<n {
                let frac = Double(m[i][j]) / Double(rowTotal)
                let x = left + cell * Double(j), y = top + cell * Double(i)
                let shade = Int(255 - frac * 200)
                let color = i == j ? "rgb(\(shade),\(shade),255)" : "rgb(255,\(shade),\(shade))"
                s += "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(cell))\" height=\"\(fmt(cell))\" fill=\"\(m[i][j] == 0 ? "#fafafa" : color)\" stroke=\"#ccc\"/>"
                s += text(x + cell / 2, y + cell / 2 + 5, "\(m[i][j])", size: 13, anchor: "middle", bold: i == j)
            }
            s += text(left - 6, top + cell * Double(i) + cell / 2 + 4, esc(labels[i]), size: 12, anchor: "end")
            let lx = left + cell * Double(i) + cell / 2, ly = top + cell * Double(n) + 8
            s += "<text x=\"\(fmt(lx))\" y=\"\(fmt(ly))\" font-size=\"12\" font-family=\"sans-serif\" text-anchor=\"end\" transform=\"rotate(-45 \(fmt(lx)) \(fmt(ly)))\">\(esc(labels[i]))</text>"
        }
        return s + "</svg>\n"
    }

    // MARK: Pieces

    static func panel(x: Double, y: Double, w: Double, h: Double, history: [EpochRecord], title: String,
                      train: [Double], val: [Double], fixedRange: (Double, Double)) -> String {
        var s = "<rect x=\"\(fmt(x))\" y=\"\(fmt(y))\" width=\"\(fmt(w))\" height=\"\(fmt(h))\" fill=\"white\" stroke=\"#333\"/>"
        s += text(x + w / 2, y - 8, title, size: 13, anchor: "middle", bold: true)
        let epochs = history.map { Double($0.epoch) }
        let x0 = epochs.first ?? 1, x1 = max(epochs.last ?? 1, x0 + 1)
        let (y0, y1) = fixedRange.1 > fixedRange.0 ? fixedRange : (0, 1)
        func px(_ e: Double) -> Double { x + (e - x0) / (x1 - x0) * w }
        func py(_ v: Double) -> Double { y + h - (min(max(v, y0), y1) - y0) / (y1 - y0) * h }
        for k in 0...4 {
            let v = y0 + (y1 - y0) * Double(k) / 4
            s += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(py(v)))\" x2=\"\(fmt(x + w))\" y2=\"\(fmt(py(v)))\" stroke=\"#eee\"/>"
            s += text(x - 6, py(v) + 4, String(format: "%.2f", v), size: 11, anchor: "end")
        }
        let ticks = max(1, Int(x1 - x0) / 5)
        var e = Int(x0)
        while Double(e) <= x1 {
            s += text(px(Double(e)), y + h + 16, "\(e)", size: 11, anchor: "middle")
            e += ticks
        }
        s += text(x + w / 2, y + h + 34, "epoch", size: 12, anchor: "middle")
        func path(_ vs: [Double]) -> String {
            zip(epochs, vs).enumerated().map { i, p in "\(i == 0 ? "M" : "L")\(fmt(px(p.0))) \(fmt(py(p.1)))" }.joined(separator: " ")
        }
        if !history.isEmpty {
            s += "<path d=\"\(path(train))\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2.5\"/>"
            s += "<path d=\"\(path(val))\" fill=\"none\" stroke=\"#d62728\" stroke-width=\"2.5\" stroke-dasharray=\"6 3\"/>"
        }
        return s
    }

    static func niceCeil(_ v: Double) -> Double {
        guard v > 0, v.isFinite else { return 1 }
        let p = pow(10, floor(log10(v)))
        for m in [1.0, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10] where m * p >= v { return m * p }
        return 10 * p
    }

    static func header(_ w: Double, _ h: Double) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(w))\" height=\"\(fmt(h))\" viewBox=\"0 0 \(fmt(w)) \(fmt(h))\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
    }

    static func text(_ x: Double, _ y: Double, _ t: String, size: Int, anchor: String = "start", bold: Bool = false) -> String {
        "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" font-size=\"\(size)\" font-family=\"sans-serif\" text-anchor=\"\(anchor)\"\(bold ? " font-weight=\"bold\"" : "")>\(t)</text>"
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    static func esc(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
