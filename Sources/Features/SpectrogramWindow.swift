import Foundation
/// Analysis windows for the spectrogram.
public enum SpectrogramWindow {
    /// The periodic Hann window of `length` samples, `0.5 - 0.5 cos(2 pi n / length)` for n in 0..<length,
    /// computed in Float64 and rounded to Float32. This is `scipy.signal.get_window('hann', length,
    /// fftbins=True)`, librosa's default window (periodic, so w[0] = 0 and w[length/2] = 1).
    public static func hannPeriodic(length: Int) -> [Float] {
        precondition(length > 0)
        return (0..<length).map { n in
            Float(0.5 - 0.5 * cos(2.0 * Double.pi * Double(n) / Double(length)))
        }
    }
}
