import CRNNRuntime

/// Why a file could not be decoded. `description` names the file and the reason.
public struct AudioError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) { self.path = path; self.reason = reason }
    public var description: String { "\(path): \(reason)" }
}

/// Decodes any format libsndfile reads to mono float samples at a given rate.
public enum AudioDecoder {
    /// Decodes `path`, downmixes to mono by the mean of the channels and resamples to `sampleRate`.
    public static func decodeMono(path: String, sampleRate: Int) throws(AudioError) -> [Float] {
        throw AudioError(path: path, reason: "decoder not built yet")  // replaced by the AudioIO work
    }
}
