// Softmax + sparse categorical cross-entropy, fused (Keras from_logits=True, reduction = mean over
// the batch). logits is (N,K), labels (N) in 0..<K.
import Foundation

public enum SoftmaxCrossEntropy {
    /// Row-wise softmax of (N,K) logits (max-subtracted).
    public static func softmax(_ logits: Tensor) -> Tensor {
        let n = logits.shape[0], k = logits.shape[1]
        var p = logits.data
        for r in 0..<n {
            var mx = -Float.infinity
            for j in 0..<k { mx = max(mx, p[r * k + j]) }
            var s: Float = 0
            for j in 0..<k { p[r * k + j] = exp(p[r * k + j] - mx); s += p[r * k + j] }
            for j in 0..<k { p[r * k + j] /= s }
        }
        return Tensor(shape: logits.shape, data: p)
    }

    /// The mean cross-entropy alone, accumulated in Float64 (for checks).
    public static func lossValue(logits: Tensor, labels: [Int]) -> Double {
        let n = logits.shape[0], k = logits.shape[1]
        var total = 0.0
        for r in 0..<n {
            var mx = -Float.infinity
            for j in 0..<k { mx = max(mx, logits.data[r * k + j]) }
            var s = 0.0
            for j in 0..<k { s += exp(Double(logits.data[r * k + j] - mx)) }
            total += log(s) + Double(mx) - Double(logits.data[r * k + labels[r]])
        }
        return total / Double(n)
    }

    /// loss = mean_n (logsumexp(logits_n) - logits_n[label_n]); dlogits = (softmax - onehot) / N.
    public static func lossAndGradient(logits: Tensor, labels: [Int]) -> (loss: Float, dlogits: Tensor) {
        let n = logits.shape[0], k = logits.shape[1]
        precondition(labels.count == n)
        var d = softmax(logits).data
        for r in 0..<n {
            let label = labels[r]
            precondition(label >= 0 && label < k, "label \(label) out of 0..<\(k)")
            d[r * k + label] -= 1
        }
        let inv = 1 / Float(n)
        for i in d.indices { d[i] *= inv }
        return (Float(lossValue(logits: logits, labels: labels)), Tensor(shape: logits.shape, data: d))
    }
}
