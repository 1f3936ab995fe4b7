// Splitting independent work (e.g. the samples of a batch) over the cores.
// Each chunk writes a disjoint part of the output, so results do not depend on the split.
import Dispatch

enum Parallel {
    /// Worker count for the non-BLAS loops (this machine class has 2 cores).
    nonisolated(unsafe) static var workers = 2

    /// Runs body(range) over `count` items cut into at most `workers` contiguous chunks.
    /// Work below `minItems` runs on the calling thread.
    static func forEachChunk(_ count: Int, minItems: Int = 2, _ body: (Range<Int>) -> Void) {
        let chunks = min(workers, count)
        if chunks <= 1 || count < minItems {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = count * c / chunks, hi = count * (c + 1) / chunks
                box.value(lo..<hi)
            }
        }
    }
}

/// Carries a non-Sendable value (a pointer, a closure over disjoint outputs) into concurrent code.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
