// Splitting independent work (the samples of a batch) over the cores.
//
// The trainer runs OpenBLAS single-threaded and splits each batch into `workers` contiguous chunks
// itself (DispatchQueue.concurrentPerform): the conv GEMMs of a chunk run on one core, and the
// element-wise loops of a chunk on the same core, with no BLAS threads spinning between calls.
// Per-chunk partial weight gradients are summed in chunk order, so a result depends on the worker
// count only: pin it (TrainingThreads.configure) where a run must repeat bit for bit.
import COpenBLAS
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

public enum TrainingThreads {
    nonisolated(unsafe) private static var configured = false

    /// Uses `workers` threads for the trainer's batch-split loops and makes OpenBLAS single-threaded.
    public static func configure(workers: Int) {
        precondition(workers >= 1)
        Parallel.workers = workers
        openblas_set_num_threads(1)
        keepFreedMemoryInHeap()
        configured = true
    }

    /// Every layer returns freshly allocated activation and gradient arrays (up to ~15 MB at batch 32).
    /// glibc serves blocks that large with mmap and gives them back on free (or trims the heap top), so
    /// each batch page-faulted ~25 MB of zeroed pages again (about 3x the page faults, +20 % epoch time
    /// once the layers stopped keeping their big im2col matrices). Raising the mmap and trim thresholds
    /// keeps freed blocks in the heap for reuse. Memory is not lost: it stays available to this process.
    private static func keepFreedMemoryInHeap() {
        #if canImport(Glibc)
        // mallopt is declared in <malloc.h>, which the Glibc module does not export: look it up.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }  // RTLD_DEFAULT
        let mallopt = unsafeBitCast(sym, to: Mallopt.self)
        let mmapThreshold: Int32 = -3, trimThreshold: Int32 = -1   // M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
        _ = mallopt(mmapThreshold, 256 << 20)
        _ = mallopt(trimThreshold, 512 << 20)
        #endif
    }

    public static var workers: Int { Parallel.workers }

    /// Called by Model.init: the default is 2 workers (this project's machines have 2 cores).
    static func configureDefaultIfNeeded() {
        if !configured { configure(workers: 2) }
    }
}

enum Parallel {
    nonisolated(unsafe) static var workers = 2

    /// The number of chunks `forEachChunk(count)` uses.
    static func chunks(_ count: Int) -> Int { max(1, min(workers, count)) }

    /// Runs body(chunkIndex, range) over `count` items cut into `chunks(count)` contiguous chunks.
    static func forEachChunk(_ count: Int, _ body: (Int, Range<Int>) -> Void) {
        let chunks = chunks(count)
        if chunks == 1 {
            body(0, 0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                box.value(c, (count * c / chunks)..<(count * (c + 1) / chunks))
            }
        }
    }
}

/// Carries a non-Sendable value (a pointer, a closure over disjoint outputs) into concurrent code.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
