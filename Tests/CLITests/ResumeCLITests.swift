import Features
import Foundation
import XCTest

/// `crnn-train fit` killed with SIGKILL at seeded random moments (in start-up, mid-epoch, right after an
/// epoch's log line, and while model.ckpt's and last.ckpt's temporary files are half written), then resumed
/// with --resume until it finishes, ends with the same history, epoch for epoch, as one uninterrupted run of
/// the same binary with the same seed (OPENBLAS_NUM_THREADS=1), and with the same final weights.
final class ResumeCLITests: XCTestCase {
    /// A running `crnn-train` with its standard output and error going to files.
    final class Child {
        let process = Process()
        let errPath: String
        init(_ args: [String], env extra: [String: String], logs: String) throws {
            errPath = logs + ".err"
            process.executableURL = crnnTrainBinary()
            process.arguments = args
            var env = ProcessInfo.processInfo.environment
            env["OPENBLAS_NUM_THREADS"] = "1"
            for (k, v) in extra { env[k] = v }
            process.environment = env
            FileManager.default.createFile(atPath: logs + ".out", contents: nil)
            FileManager.default.createFile(atPath: errPath, contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: logs + ".out")
            process.standardError = FileHandle(forWritingAtPath: errPath)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        var stderr: String { (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "" }
        /// Epoch lines (`epoch N/M: ...`) logged so far.
        var epochLines: Int { stderr.split(separator: "\n").filter { $0.hasPrefix("epoch ") }.count }
        /// SIGKILL if still running; true when it was killed (false: it had already exited).
        func kill() -> Bool {
            let running = process.isRunning
            if running { _ = Foundation.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            return running && process.terminationReason == .uncaughtSignal
        }
        /// Waits until `done()` or the process exits; false if it exited first (or after `timeout` s).
        func wait(until done: () -> Bool, timeout: Double = 60) -> Bool {
            let end = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < end {
                if done() { return true }
                usleep(2_000)
            }
            return done() && process.isRunning
        }
        func finish() -> Int32 { process.waitUntilExit(); return process.terminationStatus }
    }

    func history(_ dir: String) throws -> [[String: Any]] {
        let m = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/metrics.json"))) as! [String: Any]
        return m["history"] as! [[String: Any]]
    }

    /// Everything of a history entry but its wall time.
    func figures(_ h: [[String: Any]]) -> [[Double]] {
        h.map { e in [Double(e["epoch"] as! Int)] + ["train_loss", "train_accuracy", "validation_loss", "validation_accuracy", "learning_rate"].map { e[$0] as! Double } }
    }

    func temporaryFiles(_ dir: String, _ name: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix(".\(name).") && $0.hasSuffix(".tmp") }
    }

    func testKilledRunResumesToTheSameHistory() throws {
        let dir = tempDir()
        try makeDemoDataset(dir)
        let epochs = 8
        // Dropout (0.1, always on), time and frequency masks and mixup on: every random stream matters.
        let common = ["fit", "--features", dir + "/features.bin", "--model", "cnn-gru", "--filters", "4", "--units", "6",
                      "--batch", "4", "--epochs", "\(epochs)", "--min-epochs", "1", "--patience", "100", "--seed", "5",
                      "--time-mask", "10", "--freq-mask", "3", "--mixup", "0.4", "--quiet"]

        // The uninterrupted run.
        let refDir = dir + "/ref"
        let t0 = Date()
        let ref = try Child(common + ["--out", refDir], env: [:], logs: dir + "/ref")
        XCTAssertEqual(ref.finish(), 0, ref.stderr)
        let seconds = Date().timeIntervalSince(t0)
        let reference = try history(refDir)
        XCTAssertEqual(reference.map { $0["epoch"] as! Int }, Array(1...epochs))

        // The killed run. Plan per launch: kill while model.ckpt's temporary file is half written (the first
        // launch: epoch 1 always improves, so model.ckpt is written), kill at a random moment after start
        // (start-up included), kill a random time after a random epoch line (before, during or after that
        // epoch's checkpoint writes), kill while last.ckpt is half written; the last launch runs to the end.
        enum Kill { case after(Double), afterEpoch(Int, Double), midWrite(String), none }
        var rng = SeededGenerator(seed: 20_261_203)
        let epochTime = seconds / Double(epochs)
        let plan: [Kill] = [.midWrite("model.ckpt"), .after(rng.uniform(0, 0.4) * seconds),
                            .afterEpoch(2, rng.uniform(0, 1) * epochTime), .midWrite("last.ckpt"),
                            .afterEpoch(1, rng.uniform(0, 1) * epochTime), .after(rng.uniform(0.2, 0.5) * seconds),
                            .afterEpoch(1, rng.uniform(0, 0.3) * epochTime), .none]
        let runDir = dir + "/run"
        var kills = 0, midWriteKills = 0, resumedAfter: [Int] = []
        var finished = false
        for (i, k) in plan.enumerated() where !finished {
            var env: [String: String] = [:]
            if case .midWrite = k { env["CRNN_TEST_CHECKPOINT_PAUSE_MS"] = "1500" }
            let before = FileManager.default.contents(atPath: runDir + "/last.ckpt")
            let beforeBest = FileManager.default.contents(atPath: runDir + "/model.ckpt")
            let child = try Child(common + ["--out", runDir] + (i == 0 ? [] : ["--resume"]), env: env, logs: dir + "/launch\(i)")
            var killed = false
            switch k {
            // Delays come from the reference run's speed; each launch is also capped in epochs (so that a
            // machine that got faster meanwhile still reaches the mid-write launches before the end).
            case .after(let s):
                let end = Date().addingTimeInterval(s)
                _ = child.wait(until: { Date() >= end || child.epochLines >= 2 })
                killed = child.kill()
            case .afterEpoch(let n, let s):
                if child.wait(until: { child.epochLines >= n }) {
                    let end = Date().addingTimeInterval(s)
                    _ = child.wait(until: { Date() >= end || child.epochLines >= n + 1 })
                }
                killed = child.kill()
            case .midWrite(let name):
                // The temporary file of `name` exists and holds the first half of the checkpoint (the hook
                // pauses there): kill now.
                let tmp = { self.temporaryFiles(runDir, name).first { file in
                    ((try? FileManager.default.attributesOfItem(atPath: runDir + "/" + file))?[.size] as? Int ?? 0) > 0 } }
                if child.wait(until: { tmp() != nil }) {
                    killed = child.kill()
                    XCTAssertTrue(killed)
                    midWriteKills += 1
                    XCTAssertNotNil(tmp(), "the half-written temporary file stays behind")
                    // The target still holds its previous complete content.
                    XCTAssertEqual(FileManager.default.contents(atPath: runDir + "/last.ckpt"), before)
                    if name == "model.ckpt" { XCTAssertEqual(FileManager.default.contents(atPath: runDir + "/model.ckpt"), beforeBest) }
                } else {
                    killed = child.kill()
                }
            case .none:
                break
            }
            let status = child.finish()
            let log = child.stderr
            if killed {
                kills += 1
            } else {
                XCTAssertEqual(status, 0, log)
                finished = true
            }
            if let r = log.range(of: "resuming after epoch ") {
                resumedAfter.append(Int(log[r.upperBound...].prefix { $0.isNumber })!)
            }
            if i > 0 { XCTAssertFalse(log.contains("note:"), log) }
            print("launch \(i) \(k): \(killed ? "killed" : "finished") after \(log.split(separator: "\n").filter { $0.hasPrefix("epoch ") }.count) epoch lines; "
                  + log.split(separator: "\n").filter { $0.hasPrefix("resuming") || $0.hasPrefix("no ") || $0.hasPrefix("removed") }.joined(separator: "; "))
        }
        XCTAssertTrue(finished, "the last launch runs to the end")
        XCTAssertGreaterThanOrEqual(kills, 4)
        XCTAssertEqual(midWriteKills, 2, "both mid-write kills happened")
        XCTAssertTrue(resumedAfter.contains { (1..<epochs).contains($0) }, "resumed mid-run at least once: \(resumedAfter)")

        // Every epoch exactly once, with the uninterrupted run's figures, bit for bit.
        let resumed = try history(runDir)
        XCTAssertEqual(resumed.map { $0["epoch"] as! Int }, Array(1...epochs))
        XCTAssertEqual(figures(resumed), figures(reference))
        XCTAssertEqual(temporaryFiles(runDir, "last.ckpt") + temporaryFiles(runDir, "model.ckpt"), [], "leftovers removed")

        // Same final and best weights: their class probabilities on two clips agree exactly.
        let clips = [dir + "/data/drone/drone.00000.wav", dir + "/data/pulse/pulse.00003.wav"]
        for ckpt in ["model.ckpt", "last.ckpt"] {
            let a = try run(["predict", "--checkpoint", refDir + "/" + ckpt, "--json"] + clips)
            let b = try run(["predict", "--checkpoint", runDir + "/" + ckpt, "--json"] + clips)
            XCTAssertEqual(a.status, 0, a.stderr)
            XCTAssertEqual(b.stdout, a.stdout, ckpt)
        }
    }
}
