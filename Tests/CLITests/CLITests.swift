import Foundation
import XCTest

/// End-to-end tests of the `crnn-train` executable, run as a subprocess.
final class CRNNTrainCLITests: XCTestCase {
    func testDemoFeaturesShardsAndMFCC() throws {
        let dir = tempDir()
        let demo = try run(["demo", "--out", dir, "--clips-per-genre", "2", "--seconds", "3.5"])
        XCTAssertEqual(demo.status, 0, demo.stderr)
        XCTAssertTrue(demo.stdout.hasPrefix("clips: 8, segments: 8, skipped: 0, audio: "), demo.stdout)
        XCTAssertTrue(demo.stdout.contains("x real time"))

        // Shards 1/2 and 2/2 merge to the same file as one whole extraction.
        let whole = try run(["features", "--data", dir + "/data", "--out", dir + "/all.bin", "--quiet"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        for i in 1...2 {
            let r = try run(["features", "--data", dir + "/data", "--out", dir + "/s\(i).bin", "--shard", "\(i)/2", "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.hasPrefix("clips: 4, segments: 4"), r.stdout)
        }
        let merged = try run(["merge-features", "--out", dir + "/merged.bin", dir + "/s1.bin", dir + "/s2.bin"])
        XCTAssertEqual(merged.status, 0, merged.stderr)
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/all.bin"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/merged.bin"))
        XCTAssertEqual(a.count, b.count)
        XCTAssertEqual(a.dropFirst(20).prefix(64), b.dropFirst(20).prefix(64))  // same FeatureConfig
        XCTAssertEqual(a.dropFirst(84), b.dropFirst(84), "merged shards differ from a whole extraction")

        // mfcc prints 130 rows of 23 numbers, in CSV and JSON.
        let csv = try run(["mfcc", dir + "/data/drone/drone.00000.wav"])
        XCTAssertEqual(csv.status, 0, csv.stderr)
        let rows = csv.stdout.split(separator: "\n")
        XCTAssertEqual(rows.count, 130)
        XCTAssertTrue(rows.allSatisfy { $0.split(separator: ",").count == 23 && $0.split(separator: ",").allSatisfy { Double($0) != nil } })
        let json = try run(["mfcc", dir + "/data/sweep/sweep.00001.wav", "--format", "json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let obj = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        XCTAssertEqual((obj["mfcc"] as! [[Double]]).count, 130)
        XCTAssertEqual((obj["mfcc"] as! [[Double]])[0].count, 23)
        let missingSegment = try run(["mfcc", dir + "/data/drone/drone.00000.wav", "--segment", "1"])
        XCTAssertNotEqual(missingSegment.status, 0)
        XCTAssertTrue(missingSegment.stderr.contains("segment 1 does not exist"), missingSegment.stderr)
    }

    func testBadInputsGiveMessagesNotCrashes() throws {
        let dir = tempDir()
        let missing = try run(["features", "--data", dir + "/nope", "--out", dir + "/x.bin"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("no such folder"), missing.stderr)
        let empty = try run(["features", "--data", dir, "--out", dir + "/x.bin"])
        XCTAssertEqual(empty.status, 2)
        XCTAssertTrue(empty.stderr.contains("no genre sub-folders"), empty.stderr)
        let badShard = try run(["features", "--data", dir, "--out", dir + "/x.bin", "--shard", "3/2"])
        XCTAssertNotEqual(badShard.status, 0)
        XCTAssertTrue(badShard.stderr.contains("--shard"), badShard.stderr)
        XCTAssertTrue(FileManager.default.createFile(atPath: dir + "/bad.flac", contents: Data("not audio".utf8)))
        let bad = try run(["mfcc", dir + "/bad.flac"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("bad.flac"), bad.stderr)
        let notFeatures = try run(["merge-features", "--out", dir + "/m.bin", dir + "/bad.flac"])
        XCTAssertEqual(notFeatures.status, 2)
        XCTAssertTrue(notFeatures.stderr.contains("not a feature file"), notFeatures.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/m.bin"))
    }

    func testHelpExplainsEverySubcommand() throws {
        for sub in ["demo", "features", "merge-features", "mfcc"] {
            let r = try run([sub, "--help"])
            XCTAssertEqual(r.status, 0)
            XCTAssertTrue(r.stdout.contains("USAGE"), sub)
        }
    }
}
