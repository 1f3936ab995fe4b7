// Model bytes in 16-byte aligned memory, as ModelFile requires (the host reads files into aligned buffers too).

/// A 16-byte aligned copy of model bytes that outlives the ModelFile/Interpreter built on it.
public final class AlignedBytes {
    public let buffer: UnsafeMutableRawBufferPointer
    public init(_ bytes: [UInt8]) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }
    /// The first `count` bytes (all of them unless the convenience initialiser said otherwise).
    public var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<count]) }
    public private(set) lazy var count: Int = buffer.count
    public convenience init(_ bytes: [UInt8], count: Int) { self.init(bytes); self.count = count }
    deinit { buffer.deallocate() }
}
