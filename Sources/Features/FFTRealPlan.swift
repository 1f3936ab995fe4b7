import CFFTW
import Foundation

/// The one lock around FFTW's planner. Plan creation and destruction are not thread-safe in FFTW;
/// executing an existing plan with the new-array functions (`fftwf_execute_dft_r2c`) is.
/// Every FFTW planner call in this module goes through `FFTWPlanner.withLock`.
enum FFTWPlanner {
    private static let lock = NSLock()
    static func withLock<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }
}

/// A single-precision real-to-complex FFT plan of length `n` (FFTW r2c, out-of-place), made once and
/// reusable from any number of threads at the same time through `execute(input:output:)`.
///
/// The plan is made with `FFTW_ESTIMATE`: deterministic (the same algorithm in every process, so features
/// are reproducible bit for bit across runs), and on this machine as fast as a `FFTW_MEASURE` plan for n = 2048.
///
/// Example:
/// ```
/// let plan = FFTRealPlan(length: 2048)
/// let buf = FFTRealPlan.Buffers(length: 2048)   // one per thread or per call
/// plan.execute(input: buf.input, output: buf.output)  // output: 1025 interleaved (re, im) pairs
/// ```
public final class FFTRealPlan: @unchecked Sendable {
    // @unchecked: `plan` is written once in init and destroyed in deinit, both under the planner lock;
    // FFTW documents concurrent new-array execution of one plan as safe.
    private let plan: fftwf_plan
    /// Transform length (real input samples).
    public let length: Int
    /// Number of complex output bins, `length / 2 + 1`.
    public var binCount: Int { length / 2 + 1 }

    /// Makes the plan. `length` must be positive.
    public init(length: Int) {
        precondition(length > 0, "FFT length must be positive")
        self.length = length
        let scratch = Buffers(length: length)
        plan = FFTWPlanner.withLock {
            fftwf_plan_dft_r2c_1d(Int32(length), scratch.input, scratch.output, FFTW_ESTIMATE)
        }
    }

    deinit {
        let p = plan
        FFTWPlanner.withLock { fftwf_destroy_plan(p) }
    }

    /// Transforms `input` (`length` floats) into `output` (`binCount` complex values, interleaved re/im).
    /// Both must come from `fftwf_malloc` (as `Buffers` does) so they have the alignment the plan assumes.
    /// Thread-safe; `input` is not modified.
    @inline(__always)
    public func execute(input: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<fftwf_complex>) {
        fftwf_execute_dft_r2c(plan, input, output)
    }

    /// SIMD-aligned input and output arrays for one transform, freed on deinit. Not shared between threads.
    public final class Buffers {
        public let input: UnsafeMutablePointer<Float>
        public let output: UnsafeMutablePointer<fftwf_complex>
        public init(length: Int) {
            let inRaw = fftwf_malloc(MemoryLayout<Float>.stride * length)!
            let outRaw = fftwf_malloc(MemoryLayout<fftwf_complex>.stride * (length / 2 + 1))!
            input = inRaw.bindMemory(to: Float.self, capacity: length)
            output = outRaw.bindMemory(to: fftwf_complex.self, capacity: length / 2 + 1)
            input.initialize(repeating: 0, count: length)
        }
        deinit {
            fftwf_free(input)
            fftwf_free(output)
        }
        /// The output as `2 * binCount` floats (re, im, re, im, ...).
        public var outputFloats: UnsafeMutablePointer<Float> {
            UnsafeMutableRawPointer(output).assumingMemoryBound(to: Float.self)
        }
    }
}
