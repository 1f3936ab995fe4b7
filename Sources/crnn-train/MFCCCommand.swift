import ArgumentParser
import AudioIO
import CRNNRuntime
import Features
import Foundation

enum MatrixFormat: String, ExpressibleByArgument, CaseIterable { case csv, json }

struct MFCCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mfcc",
        abstract: "Print the float MFCC matrix (130 frames x 23 coefficients) of one 3-s segment of a file.",
        discussion: """
            For parity checks against librosa (librosa.feature.mfcc(y=seg, sr=22050, n_mfcc=23).T) and against \
            the fixed-point MFCC of `crnn-infer --mfcc`. Rows are frames, columns coefficients; values in dB-scaled \
            MFCC units. Segment K covers samples K*66150 ..< (K+1)*66150 after decoding to mono at 22050 Hz.
            """)

    @Argument(help: "Audio file (any format libsndfile reads).")
    var audio: String

    @Option(help: "Segment index (0-based).")
    var segment: Int = 0

    @Option(help: "Output format: csv (rows = frames) or json.")
    var format: MatrixFormat = .csv

    func run() throws {
        let config = FeatureConfig.paper
        let samples: [Float]
        do { samples = try AudioDecoder.decodeMono(path: audio, sampleRate: Int(config.sampleRate)) } catch {
            throw badInput(error.description)
        }
        let count = config.segmentCount(sampleCount: samples.count)
        guard segment >= 0, segment < count else {
            throw badInput("\(audio): segment \(segment) does not exist (the file has \(count) full 3-s segment\(count == 1 ? "" : "s"))")
        }
        let m = try MFCCExtractor(config: config).mfcc(segment: DatasetExtractor.segment(segment, of: samples, config: config))
        let c = Int(config.nMFCC)
        var out = ""
        switch format {
        case .csv:
            for f in 0..<config.frameCount {
                out += (0..<c).map { String(format: "%.6f", m[f * c + $0]) }.joined(separator: ",") + "\n"
            }
        case .json:
            let rows = (0..<config.frameCount).map { f in
                "[" + (0..<c).map { String(format: "%.6f", m[f * c + $0]) }.joined(separator: ",") + "]"
            }
            out = "{\"file\":\(jsonString(audio)),\"segment\":\(segment),\"frames\":\(config.frameCount),"
                + "\"coefficients\":\(c),\"mfcc\":[\(rows.joined(separator: ","))]}\n"
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }
}

func jsonString(_ s: String) -> String {
    var r = "\""
    for ch in s.unicodeScalars {
        switch ch {
        case "\"": r += "\\\""
        case "\\": r += "\\\\"
        case "\n": r += "\\n"
        case "\t": r += "\\t"
        default:
            if ch.value < 0x20 { r += String(format: "\\u%04x", ch.value) } else { r.unicodeScalars.append(ch) }
        }
    }
    return r + "\""
}
