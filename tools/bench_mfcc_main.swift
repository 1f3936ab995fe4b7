// Standalone driver for MFCCBenchmark, used by tools/bench_mfcc.py until `crnn-train bench-mfcc` exists.
// Built by the script against a release build of the Features module (see bench_mfcc.py).
import Features
import Foundation

let args = CommandLine.arguments
var segments = 500
if let i = args.firstIndex(of: "--segments"), i + 1 < args.count, let n = Int(args[i + 1]) { segments = n }
do {
    print(try MFCCBenchmark.run(segments: segments).summaryLine)
} catch {
    print("bench-mfcc validation failed: \(error)")
    exit(1)
}
