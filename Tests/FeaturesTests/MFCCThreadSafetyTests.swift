import Dispatch
import Features
import XCTest

/// One extractor used from many threads at once gives exactly the serial results.
final class MFCCThreadSafetyTests: XCTestCase {
    func testConcurrentCallsEqualSerialResults() throws {
        let extractor = try MFCCExtractor()
        let n = 66150
        // 12 different segments: tones at different pitches plus deterministic pseudo-random noise.
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        let segments: [[Float]] = (0..<12).map { s in
            (0..<n).map { i in
                rng = rng &* 6364136223846793005 &+ 1442695040888963407
                let noise = Float(Int64(bitPattern: rng) >> 40) / Float(1 << 23)
                return 0.3 * Float(sin(Double(i) * 0.01 * Double(s + 1))) + 0.05 * noise
            }
        }
        let serial = segments.map { extractor.mfcc(segment: $0) }
        let jobs = 48
        let results = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: jobs)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        let base = results.baseAddress!
        let box = SendablePointer(base)
        // Each iteration writes only its own slot.
        DispatchQueue.concurrentPerform(iterations: jobs) { j in
            box.pointer[j] = extractor.mfcc(segment: segments[j % segments.count])
        }
        for j in 0..<jobs {
            XCTAssertEqual(results[j], serial[j % segments.count], "job \(j) differs from the serial result")
        }
        // Distinct extractors made concurrently (plan creation under the planner lock) agree too.
        let made = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: 8)
        made.initialize(repeating: [])
        defer { made.deallocate() }
        let madeBox = SendablePointer(made.baseAddress!)
        DispatchQueue.concurrentPerform(iterations: 8) { j in
            let e = try! MFCCExtractor()
            madeBox.pointer[j] = e.mfcc(segment: segments[j])
        }
        for j in 0..<8 { XCTAssertEqual(made[j], serial[j]) }
    }
}

private struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ p: UnsafeMutablePointer<T>) { pointer = p }
}
