import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Training

final class MetricsTests: XCTestCase {
    func testConfusionAndPerClassScoresByHand() {
        // truth:     0 0 0 1 1 2
        // predicted: 0 0 1 1 2 2
        let m = ClassificationMetrics(truth: [0, 0, 0, 1, 1, 2], predicted: [0, 0, 1, 1, 2, 2], classCount: 3)
        XCTAssertEqual(m.confusion, [[2, 1, 0], [0, 1, 1], [0, 0, 1]])
        XCTAssertEqual(m.accuracy, 4.0 / 6.0, accuracy: 1e-12)
        let c = m.perClass
        XCTAssertEqual(c[0].precision, 1.0, accuracy: 1e-12)
        XCTAssertEqual(c[0].recall, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(c[0].f1, 0.8, accuracy: 1e-12)
        XCTAssertEqual(c[1].precision, 0.5, accuracy: 1e-12)
        XCTAssertEqual(c[1].recall, 0.5, accuracy: 1e-12)
        XCTAssertEqual(c[2].precision, 0.5, accuracy: 1e-12)
        XCTAssertEqual(c[2].recall, 1.0, accuracy: 1e-12)
        XCTAssertEqual(c.map(\.support), [3, 2, 1])
        XCTAssertEqual(m.macroF1, (0.8 + 0.5 + 2.0 / 3.0) / 3, accuracy: 1e-12)
    }

    func testTrackPredictionAveragesSegmentProbabilities() {
        // Track 0: segments favour class 1 twice weakly and class 0 once strongly -> mean picks class 0.
        let p: [Float] = [0.45, 0.55, 0.45, 0.55, 0.95, 0.05, /* track 1 */ 0.2, 0.8]
        let r = trackPredictions(probabilities: p, classCount: 2, segmentTrack: [0, 0, 0, 1], segmentLabel: [0, 0, 0, 1])
        XCTAssertEqual(r.map(\.predicted), [0, 1])
        XCTAssertEqual(r.map(\.truth), [0, 1])
        XCTAssertEqual(argmaxRows(p, classCount: 2), [1, 1, 0, 1])
    }

    func testReportJSONHasTheDocumentedKeysAndSVGsAreWellFormed() throws {
        let labels = ["a", "b"]
        let history = (1...3).map { EpochRecord(epoch: $0, trainLoss: 1.0 / Double($0), trainAccuracy: 0.5 + 0.1 * Double($0),
                                                 validationLoss: 1.2 / Double($0), validationAccuracy: 0.4 + 0.1 * Double($0),
                                                 learningRate: 1e-3, seconds: 0.5) }
        let r = EvaluationReport(model: "cnn-gru", split: "track", leaky: false, labels: labels,
                                 probabilities: [0.9, 0.1, 0.3, 0.7, 0.6, 0.4], segmentLabels: [0, 1, 1],
                                 segmentTracks: [0, 1, 1], history: history, bestEpoch: 3)
        let obj = try JSONSerialization.jsonObject(with: r.json()) as! [String: Any]
        XCTAssertEqual(obj["segment_accuracy"] as! Double, 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(obj["track_accuracy"] as! Double, 1.0, accuracy: 1e-12)  // track 1: mean (0.45, 0.55) -> b
        XCTAssertNotNil((obj["per_genre"] as! [String: Any])["a"])
        XCTAssertEqual(obj["confusion"] as! [[Int]], [[1, 0], [1, 1]])
        XCTAssertEqual(try EvaluationReport.decode(r.json()).confusion, r.confusion)
        let dir = NSTemporaryDirectory() + "crnn-report-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try r.write(to: dir, title: "test run")
        for f in ["curves.svg", "confusion.svg"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))
            let parser = XMLParser(data: data)
            XCTAssertTrue(parser.parse(), "\(f) is not well-formed XML: \(String(describing: parser.parserError))")
        }
        let md = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        XCTAssertTrue(md.contains("| a | 0.500 | 1.000 | 0.667 | 1 |"), md)
    }
}
