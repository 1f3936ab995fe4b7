// PCM16LEDecoder: raw signed 16-bit little-endian mono PCM (what `arecord -f S16_LE -c 1` and
// `sox ... -t raw -e signed -b 16 -c 1 -` write) from byte chunks of any size, e.g. successive `read`s of a
// pipe. A sample split across two chunks is carried over. No allocation.

public struct PCM16LEDecoder {
    var pending: UInt8 = 0
    /// True when the last chunk ended in the middle of a sample (one byte is held back).
    public private(set) var hasPendingByte = false

    public init() {}

    /// Decodes `bytes` (plus a byte held back from the previous call) into `out`, which needs room for
    /// `(bytes.count + 1) / 2` samples. Returns the number of samples written.
    ///
    /// Example: chunks `[0x01]` then `[0x02, 0xFF, 0xFF]` give 0 samples, then `[0x0201, -1]`.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Int16>) -> Int {
        precondition(out.count >= (bytes.count + 1) / 2)
        var i = 0, n = 0
        if hasPendingByte && bytes.count > 0 {
            out[0] = Int16(bitPattern: UInt16(pending) | UInt16(bytes[0]) << 8)
            n = 1; i = 1
            hasPendingByte = false
        }
        while i + 1 < bytes.count {
            out[n] = Int16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8)
            n += 1; i += 2
        }
        if i < bytes.count {
            pending = bytes[i]
            hasPendingByte = true
        }
        return n
    }
}
