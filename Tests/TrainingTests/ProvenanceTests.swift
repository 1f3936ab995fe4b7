import XCTest
import Training

/// Artifacts record paths relative to the working directory, never the absolute paths of the machine that made them.
final class ProvenanceTests: XCTestCase {
    func testPathsUnderTheWorkingDirectoryBecomeRelative() {
        XCTAssertEqual(ProvenancePath.relative("/work/main/runs/a/features.bin", to: "/work/main"), "runs/a/features.bin")
        XCTAssertEqual(ProvenancePath.relative("/work/main/runs/a/features.bin", to: "/work/main/"), "runs/a/features.bin")
        XCTAssertEqual(ProvenancePath.relative("/tmp/shipped3/features.bin", to: "/work/main"), ".../shipped3/features.bin")
        XCTAssertEqual(ProvenancePath.relative("/work/mainly/x", to: "/work/main"), ".../mainly/x")
        XCTAssertEqual(ProvenancePath.relative("/x.bin", to: "/work/main"), "x.bin")
        XCTAssertEqual(ProvenancePath.relative("data/gtzan", to: "/work/main"), "data/gtzan")
    }

    func testCommandAndProvenance() {
        let command = "/work/main/.build/x86_64-unknown-linux-gnu/release/crnn-train fit --features /tmp/shipped3/features.bin "
            + "--model cnn-gru --out /work/main/runs/gru --quiet"
        XCTAssertEqual(ProvenancePath.relativeCommand(command, to: "/work/main"),
                       "crnn-train fit --features .../shipped3/features.bin --model cnn-gru --out runs/gru --quiet")
        let p = ProvenancePath.relativized(["command": command, "date": "2026-11-25T03:27:29Z",
                                            "source": "/tmp/shipped3/features.bin"], to: "/work/main")
        XCTAssertEqual(p["date"], "2026-11-25T03:27:29Z")
        XCTAssertEqual(p["source"], ".../shipped3/features.bin")
        XCTAssertTrue(p["command"]!.hasPrefix("crnn-train fit --features .../shipped3/features.bin"))
    }
}
