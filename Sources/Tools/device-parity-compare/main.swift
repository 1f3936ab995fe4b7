// Compares `crnn-infer MODEL <wavs> --json` (one object per line) with the device-path answers that
// `crnn-quantize --eval DATASET --report DIR` wrote into DIR/quantize-report.json (`device_tracks`).
// A clip is identical when the genre, the segment count, every segment's genre and every class score agree;
// crnn-infer prints a score as the Q15 mean rounded to 4 decimals (ties up), so the report's `scores_q15`
// value q must print as round(q * 10000 / 32768) ten-thousandths.
//
//   swift build -c release --product device-parity-compare   (tools/device_parity.sh does)
//   .build/release/device-parity-compare REPORT.json INFER.jsonl      (exit 0: all identical, 1: a difference, 2: bad input)
//
// Matching is by file name: the WAV of track T is named T.wav (what `crnn-train convert` writes).
import Foundation

func fail(_ message: String, _ status: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data(("device-parity: " + message + "\n").utf8))
    exit(status)
}

let args = CommandLine.arguments
guard args.count == 3 else { fail("usage: device_parity_compare REPORT.json INFER.jsonl") }
guard let reportData = FileManager.default.contents(atPath: args[1]),
      let report = try? JSONSerialization.jsonObject(with: reportData) as? [String: Any] else {
    fail("\(args[1]): not a JSON report")
}
guard let labels = report["labels"] as? [String], let tracks = report["device_tracks"] as? [[String: Any]], !tracks.isEmpty else {
    fail("\(args[1]): no device_tracks (was --eval a dataset folder?)")
}
guard let inferText = try? String(contentsOfFile: args[2], encoding: .utf8) else { fail("\(args[2]): unreadable") }

var infer: [String: [String: Any]] = [:]
for line in inferText.split(separator: "\n") where !line.isEmpty {
    guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let file = o["file"] as? String else {
        fail("\(args[2]): a line is not a JSON object with \"file\": \(line)")
    }
    let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
    infer[name] = o
}

/// Ten-thousandths crnn-infer prints for a Q15 mean q >= 0: round(q * 10000 / 32768), ties up.
func printed(_ q: Int) -> Int { (2 * q * 10000 + 32768) / 65536 }

var identical = 0
var problems: [String] = []
for t in tracks {
    let id = t["track_id"] as? String ?? "?"
    guard let o = infer[id] else { problems.append("\(id): no crnn-infer answer"); continue }
    if let e = o["error"] as? String { problems.append("\(id): crnn-infer error: \(e)"); continue }
    var diffs: [String] = []
    let genre = t["genre"] as? String ?? "?"
    if (o["genre"] as? String) != genre { diffs.append("genre \(o["genre"] ?? "nil") vs \(genre)") }
    if (o["segments"] as? Int) != (t["segments"] as? Int) { diffs.append("segments \(o["segments"] ?? "nil") vs \(t["segments"] ?? "nil")") }
    if (o["segment_genres"] as? [String]) != (t["segment_genres"] as? [String]) {
        diffs.append("segment genres \(o["segment_genres"] ?? "nil") vs \(t["segment_genres"] ?? "nil")")
    }
    let q15 = t["scores_q15"] as? [Int] ?? []
    let scores = o["scores"] as? [String: Any] ?? [:]
    if q15.count != labels.count || scores.count != labels.count {
        diffs.append("\(scores.count) scores vs \(q15.count) (\(labels.count) classes)")
    } else {
        for (c, name) in labels.enumerated() {
            guard let v = (scores[name] as? NSNumber)?.doubleValue else { diffs.append("no score for \(name)"); continue }
            let got = Int((v * 10000).rounded()), want = printed(q15[c])
            if got != want { diffs.append("\(name) \(v) vs q15 \(q15[c]) (prints \(want))") }
        }
    }
    if diffs.isEmpty { identical += 1 } else { problems.append("\(id): " + diffs.joined(separator: "; ")) }
}
if infer.count != tracks.count { problems.append("crnn-infer answered for \(infer.count) files, the report has \(tracks.count) clips") }
for p in problems { print("  MISMATCH " + p) }
print("device-parity: \(identical)/\(tracks.count) clips identical (genre, segment genres, scores)")
exit(problems.isEmpty ? 0 : 1)
