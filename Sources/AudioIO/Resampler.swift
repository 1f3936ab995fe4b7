import CSoxr

/// A one-channel float32 stream resampler over libsoxr with the HQ recipe.
///
/// This is the configuration librosa uses for its default `res_type='soxr_hq'`
/// (python-soxr: `soxr_io_spec(FLOAT32_I, FLOAT32_I)`, `soxr_quality_spec(SOXR_HQ, 0)`,
/// default runtime spec, i.e. one thread). Input is pushed in blocks of any size; the
/// output does not depend on how the input was split into blocks (tested).
///
/// Internal: one instance belongs to one decode, on one thread.
final class SoxrStream {
    private let handle: OpaquePointer
    private let ratio: Double
    private var scratch: [Float] = []
    private(set) var inputCount = 0

    init(from inputRate: Int, to outputRate: Int) throws(AudioFailure) {
        guard inputRate > 0, outputRate > 0 else {
            throw .init("sample rates must be positive (from \(inputRate) Hz to \(outputRate) Hz)")
        }
        var io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I)
        var quality = soxr_quality_spec(UInt(SOXR_HQ), 0)
        var error: soxr_error_t? = nil
        let h = soxr_create(Double(inputRate), Double(outputRate), 1, &error, &io, &quality, nil)
        if let error {
            if let h { soxr_delete(h) }
            throw .init("soxr_create failed: \(String(cString: error))")
        }
        guard let h else { throw .init("soxr_create returned no resampler") }
        handle = h
        ratio = Double(outputRate) / Double(inputRate)
    }

    deinit { soxr_delete(handle) }

    /// Pushes `input` and appends whatever output libsoxr has ready to `output`.
    func process(_ input: UnsafeBufferPointer<Float>, into output: inout [Float]) throws(AudioFailure) {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        inputCount += input.count
        var consumed = 0
        // soxr_process takes only as much input as the output room allows
        // (about olen / ratio), so size the room for the whole block and loop in case.
        while consumed < input.count {
            let remaining = input.count - consumed
            let room = Int((Double(remaining) * ratio).rounded(.up)) + 64
            if scratch.count < room { scratch = [Float](repeating: 0, count: room) }
            var idone = 0
            var odone = 0
            let err = scratch.withUnsafeMutableBufferPointer { out in
                soxr_process(handle, base + consumed, remaining, &idone, out.baseAddress, room, &odone)
            }
            if let err { throw .init("soxr_process failed: \(String(cString: err))") }
            output.append(contentsOf: scratch[0..<odone])
            consumed += idone
            if idone == 0 && odone == 0 {
                throw .init("soxr_process made no progress (\(remaining) samples left)")
            }
        }
    }

    /// Signals the end of input and appends the remaining output (the filter tail).
    func flush(into output: inout [Float]) throws(AudioFailure) {
        let room = 16_384
        if scratch.count < room { scratch = [Float](repeating: 0, count: room) }
        // The tail is a filter length or so; the bound only guards against a library bug.
        for _ in 0..<10_000 {
            var odone = 0
            let err = scratch.withUnsafeMutableBufferPointer { out in
                soxr_process(handle, nil, 0, nil, out.baseAddress, room, &odone)
            }
            if let err { throw .init("soxr_process (flush) failed: \(String(cString: err))") }
            if odone == 0 { return }
            output.append(contentsOf: scratch[0..<odone])
        }
        throw .init("soxr_process (flush) did not finish")
    }
}

/// The output length librosa's `resample(..., fix=True)` gives: `ceil(n * (to / from))`,
/// computed in double precision the way librosa does (`int(np.ceil(n * ratio))`).
func librosaResampledLength(_ n: Int, from inputRate: Int, to outputRate: Int) -> Int {
    let ratio = Double(outputRate) / Double(inputRate)
    return Int((Double(n) * ratio).rounded(.up))
}

/// Trims or zero-pads `y` to `length` (librosa's `util.fix_length`).
func fixLength(_ y: inout [Float], to length: Int) {
    if y.count > length {
        y.removeLast(y.count - length)
    } else if y.count < length {
        y.append(contentsOf: repeatElement(0, count: length - y.count))
    }
}

extension AudioDecoder {
    /// Resamples a mono buffer from `inputRate` to `outputRate` with libsoxr HQ, exactly as
    /// `librosa.resample(x, orig_sr=inputRate, target_sr=outputRate)` does with its default
    /// `res_type='soxr_hq'`: float32 in and out, output length `ceil(x.count * outputRate / inputRate)`
    /// (trimmed or zero-padded to it), and no gain change. Equal rates return `x` unchanged.
    ///
    /// ```swift
    /// // One second of a 1 kHz tone at 44.1 kHz, brought to the model's 22.05 kHz.
    /// let x = (0..<44_100).map { Float(sin(2 * Double.pi * 1000 * Double($0) / 44_100)) }
    /// let y = try AudioDecoder.resample(x, from: 44_100, to: 22_050)
    /// // y.count == 22_050; y is the same tone, aliases and ripple below -100 dB.
    /// ```
    ///
    /// - Throws: `AudioError` with the path `"<memory>"` when a rate is not positive or libsoxr fails.
    public static func resample(_ x: [Float], from inputRate: Int, to outputRate: Int) throws(AudioError) -> [Float] {
        do throws(AudioFailure) {
            if inputRate == outputRate {
                guard inputRate > 0 else { throw AudioFailure("sample rates must be positive (\(inputRate) Hz)") }
                return x
            }
            var y = try resampleUnfixed(x, from: inputRate, to: outputRate, block: 65_536)
            fixLength(&y, to: librosaResampledLength(x.count, from: inputRate, to: outputRate))
            return y
        } catch {
            throw AudioError(path: "<memory>", reason: error.text)
        }
    }

    /// libsoxr's own output (no length fix), feeding the input in blocks of `block` samples.
    /// Internal so that tests can check the raw length and the block-size independence.
    static func resampleUnfixed(_ x: [Float], from inputRate: Int, to outputRate: Int,
                                block: Int) throws(AudioFailure) -> [Float] {
        let stream = try SoxrStream(from: inputRate, to: outputRate)
        var y: [Float] = []
        y.reserveCapacity(librosaResampledLength(x.count, from: inputRate, to: outputRate) + 16)
        let step = max(1, block)
        var start = 0
        while start < x.count {
            let end = min(x.count, start + step)
            let err: AudioFailure? = x.withUnsafeBufferPointer { all in
                do throws(AudioFailure) { try stream.process(UnsafeBufferPointer(rebasing: all[start..<end]), into: &y) } catch { return error }
                return nil
            }
            if let err { throw err }
            start = end
        }
        try stream.flush(into: &y)
        return y
    }
}
