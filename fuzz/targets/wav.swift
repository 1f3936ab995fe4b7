// Fuzz target `wav`: an untrusted WAV file through WAVFile validation and readMono over every frame, in
// blocks of a size chosen by the input's length (so block boundaries move), plus reads at and past the end.
import CRNNRuntime

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWAV(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    withAligned(data, size) { raw in
        guard let wav = try? WAVFile(bytes: raw) else { return }
        precondition(wav.frameCount >= 0 && wav.channels >= 1 && wav.blockAlign >= 1)
        precondition(wav.dataOffset + wav.frameCount * wav.blockAlign <= raw.count, "data past the buffer")
        let block = 1 + size % 509
        let out = UnsafeMutableBufferPointer<Int16>.allocate(capacity: block)
        defer { out.deallocate() }
        var frame = 0
        while frame < wav.frameCount {
            let n = wav.readMono(from: frame, into: out)
            precondition(n > 0 && n <= block, "readMono made no progress inside the file")
            frame += n
        }
        precondition(wav.readMono(from: wav.frameCount, into: out) == 0, "read past the end returned samples")
        _ = wav.readMono(from: Int(Int32.max), into: out)
    }
    return 0
}
