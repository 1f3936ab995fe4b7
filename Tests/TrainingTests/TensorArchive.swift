// A tiny file of named float32 tensors, shared with tools/reference/keras_parity.py:
//   bytes 0..<8   "TNSRARC1"
//   bytes 8..<16  UInt64 little-endian: length L of the JSON header
//   L bytes       JSON {"meta": {string: string}, "tensors": [{"name", "shape", "offset"}]}
//   the data      float32 little-endian; each tensor at `offset` bytes from the end of the header
import Foundation
@testable import Training

struct TensorArchive {
    var meta: [String: String] = [:]
    var tensors: [(name: String, tensor: Tensor)] = []

    struct Entry: Codable { var name: String; var shape: [Int]; var offset: Int }
    struct Header: Codable { var meta: [String: String]; var tensors: [Entry] }
    enum ArchiveError: Error { case badMagic, truncated }

    subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    mutating func add(_ name: String, _ t: Tensor) { tensors.append((name, t)) }

    func write(to url: URL) throws {
        var entries: [Entry] = []
        var offset = 0
        for (name, t) in tensors {
            entries.append(Entry(name: name, shape: t.shape, offset: offset))
            offset += 4 * t.count
        }
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let header = try enc.encode(Header(meta: meta, tensors: entries))
        var data = Data("TNSRARC1".utf8)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        for (_, t) in tensors {
            for v in t.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        try data.write(to: url, options: .atomic)
    }

    init() {}

    init(contentsOf url: URL) throws {
        let data = try Data(contentsOf: url)
        guard data.count >= 16, data.prefix(8) == Data("TNSRARC1".utf8) else { throw ArchiveError.badMagic }
        let bytes = [UInt8](data)
        var len: UInt64 = 0
        for i in 0..<8 { len |= UInt64(bytes[8 + i]) << (8 * UInt64(i)) }
        let hEnd = 16 + Int(len)
        guard bytes.count >= hEnd else { throw ArchiveError.truncated }
        let header = try JSONDecoder().decode(Header.self, from: Data(bytes[16..<hEnd]))
        meta = header.meta
        for e in header.tensors {
            let n = e.shape.reduce(1, *)
            let start = hEnd + e.offset
            guard start + 4 * n <= bytes.count else { throw ArchiveError.truncated }
            var values = [Float](repeating: 0, count: n)
            for i in 0..<n {
                let p = start + 4 * i
                let bits = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
                values[i] = Float(bitPattern: bits)
            }
            tensors.append((e.name, Tensor(shape: e.shape, data: values)))
        }
    }
}
