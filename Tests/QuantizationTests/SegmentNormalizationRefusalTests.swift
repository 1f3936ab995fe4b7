// crnn-quantize cannot represent a per-segment input normalisation (fit --normalize segment): it must refuse
// such a checkpoint with a clear message instead of writing an int8 model that silently drops the step.
import CRNNRuntime
import Foundation
import XCTest
@testable import Quantization
@testable import Training

final class SegmentNormalizationRefusalTests: XCTestCase {
    func testPerSegmentCheckpointsAreRefusedAndOthersAreNot() throws {
        let url = RegressionTests.fixtures.appendingPathComponent("tiny-gru.ckpt")
        let ckpt = try Checkpoint(bytes: [UInt8](try Data(contentsOf: url)))
        XCTAssertNil(ckpt.meta.inputSegmentNormalization)
        XCTAssertNoThrow(try Quantizer.checkInputRepresentable(ckpt.meta))
        for seg in ["mean-variance", "mean"] {
            var c = ckpt
            c.meta.inputSegmentNormalization = seg
            XCTAssertThrowsError(try Quantizer.checkInputRepresentable(c.meta)) {
                XCTAssertTrue("\($0)".contains("per-segment \(seg)"), "\($0)")
            }
            XCTAssertThrowsError(try Quantizer.build(checkpoint: c, ranges: CalibratedRanges(method: "x", ranges: [:]))) {
                XCTAssertTrue("\($0)".contains("cannot make a faithful int8 model"), "\($0)")
            }
        }
    }
}
