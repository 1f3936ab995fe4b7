import AudioIO
import Foundation
import XCTest

/// The models shipped in models/ stay readable and runnable by this build (a format or runtime change that
/// breaks them fails here): the int8 file through crnn-quantize inspect and crnn-infer, the checkpoint through
/// crnn-train predict, on a generated clip.
final class ShippedModelTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testShippedModelsLoadAndClassify() throws {
        let dir = tempDir()
        // 4 s of a tone at each model's rate (the 16-kHz model is the microphone-rate one).
        func toneFile(rate: Int) throws -> String {
            let wav = dir + "/tone-\(rate).wav"
            let x: [Float] = (0..<(rate * 4)).map { (i: Int) -> Float in
                let t = Double(i)
                let tone: Double = 0.3 * sin(t * 2 * Double.pi * 220 / Double(rate))
                return Float(tone + 0.1 * sin(t * 0.9 * 22050 / Double(rate)))
            }
            try PCMWAVWriter.write(path: wav, channels: [x], sampleRate: rate)
            return wav
        }
        for (name, rate) in [("cnn-gru", 22050), ("cnn-lstm", 22050), ("cnn-gru-16k", 16000)] {
            let wav = try toneFile(rate: rate)
            let crnn = Self.root.appendingPathComponent("models/\(name).crnn").path
            let ckpt = Self.root.appendingPathComponent("models/\(name).ckpt").path
            guard FileManager.default.fileExists(atPath: crnn) else { XCTFail("models/\(name).crnn is missing"); continue }
            let inspect = try runCLI(["inspect", crnn], binary: "crnn-quantize")
            XCTAssertEqual(inspect.status, 0, inspect.stderr)
            XCTAssertTrue(inspect.stdout.contains("labels (10): blues, classical, country"), inspect.stdout)
            let infer = try runBinary("crnn-infer", [crnn, wav, "--json"])
            XCTAssertEqual(infer.status, 0, infer.stderr)
            let obj = try JSONSerialization.jsonObject(with: Data(infer.stdout.utf8)) as! [String: Any]
            XCTAssertEqual((obj["scores"] as! [String: Double]).count, 10)
            XCTAssertEqual(obj["segments"] as? Int, 1)
            if rate != 22050 {  // audio at another rate is refused, naming both rates
                let wrong = try runBinary("crnn-infer", [crnn, try toneFile(rate: 22050)])
                XCTAssertNotEqual(wrong.status, 0)
                XCTAssertTrue(wrong.stderr.contains("22050") && wrong.stderr.contains("\(rate)"), wrong.stderr)
            }
            let predict = try runCLI(["predict", "--checkpoint", ckpt, wav, "--json"])
            XCTAssertEqual(predict.status, 0, predict.stderr)
            XCTAssertTrue(predict.stdout.contains("\"segments\":1"), predict.stdout)
            // Both say how sure they are, the same way (top genre's mean probability below 0.55 = uncertain).
            let p = try JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as! [String: Any]
            for o in [obj, p] {
                let conf = try XCTUnwrap(o["confidence"] as? Double), margin = try XCTUnwrap(o["margin"] as? Double)
                XCTAssertEqual(conf, (o["scores"] as! [String: Double]).values.max()!, accuracy: 1e-6)
                XCTAssertTrue((0...conf).contains(margin))
                if abs(conf - 18022.0 / 32768) > 0.0001 { XCTAssertEqual(o["uncertain"] as? Bool, conf < 18022.0 / 32768) }
            }
        }
    }
}
