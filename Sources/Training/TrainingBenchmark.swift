// Times one training epoch (forward + backward + Adam on every mini-batch) of a model on
// synthetic input, so that a CLI command and tools/reference/keras_bench.py can compare against Keras.
import Foundation

public enum TrainingBenchmark {
    /// Seconds for one epoch of `segments` random (130,23,1) inputs with random labels, in
    /// mini-batches of `batch` (the last one smaller), after one untimed warm-up batch: the median of
    /// `epochs` timed epochs (3, as tools/reference/keras_bench.py does for Keras; on a shared machine a single
    /// epoch is at the mercy of whatever else runs during it).
    /// `threads` is the batch-splitting worker count (OpenBLAS runs single-threaded inside each).
    /// With TRAINING_PROFILE set, prints per-layer seconds per epoch (mean over the timed epochs).
    public static func epochSeconds(model name: String, segments: Int = 800, batch: Int = 32,
                                    filters: Int = 32, threads: Int = 2, seed: UInt64 = 1,
                                    epochs: Int = 3) throws -> Double {
        precondition(epochs >= 1)
        TrainingThreads.configure(workers: threads)
        let model = try Model(named: name, filters: filters, seed: seed)
        let adam = Adam()
        var rng = SeededRNG(seed: seed &+ 7)
        let sample = model.config.inputShape.reduce(1, *)
        let x = (0..<(segments * sample)).map { _ in Float(rng.normal()) }
        let labels = (0..<segments).map { _ in Int(rng.next() % UInt64(model.config.classes)) }
        func batchTensor(_ lo: Int, _ hi: Int) -> Tensor {
            Tensor(shape: [hi - lo] + model.config.inputShape, data: Array(x[(lo * sample)..<(hi * sample)]))
        }
        // Warm-up (first-touch allocations, BLAS thread start).
        model.lossAndGradients(batchTensor(0, min(batch, segments)), labels: Array(labels[0..<min(batch, segments)]))
        if ProcessInfo.processInfo.environment["TRAINING_PROFILE"] != nil { model.profile = [:] }
        var times: [Double] = []
        for _ in 0..<epochs {
            let start = DispatchTime.now().uptimeNanoseconds
            var lo = 0
            while lo < segments {
                let hi = min(lo + batch, segments)
                model.lossAndGradients(batchTensor(lo, hi), labels: Array(labels[lo..<hi]))
                adam.step(model.trainableParameters)
                lo = hi
            }
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        if let profile = model.profile {
            for (k, v) in profile.sorted(by: { $0.value > $1.value }) {
                print(String(format: "  %-32@ %.3f s", k as NSString, v / Double(epochs)))
            }
        }
        return times.sorted()[epochs / 2]
    }
}
