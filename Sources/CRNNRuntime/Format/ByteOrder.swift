// Little-endian loads and stores of the model file. Loads: bounds are checked by the callers (ModelFile's
// validation). Stores: append to or patch a byte array (the writer, ModelBuilder).

@inline(__always) func le16(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt16 {
    UInt16(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt16.self))
}
@inline(__always) func le32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
    UInt32(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt32.self))
}
@inline(__always) func le32s(_ b: UnsafeRawBufferPointer, _ o: Int) -> Int32 { Int32(bitPattern: le32(b, o)) }

@inline(__always) func put16(_ b: inout [UInt8], _ v: UInt16) {
    b.append(UInt8(truncatingIfNeeded: v)); b.append(UInt8(truncatingIfNeeded: v >> 8))
}
@inline(__always) func put32(_ b: inout [UInt8], _ v: UInt32) {
    for k in 0..<4 { b.append(UInt8(truncatingIfNeeded: v >> UInt32(8 * k))) }
}
@inline(__always) func set16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) {
    b[at] = UInt8(truncatingIfNeeded: v); b[at + 1] = UInt8(truncatingIfNeeded: v >> 8)
}
@inline(__always) func set32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> UInt32(8 * k)) }
}
