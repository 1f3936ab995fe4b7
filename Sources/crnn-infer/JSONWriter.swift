// JSONWriter: the JSON lines of crnn-infer, written straight into an `Output` (no Foundation, no String).
// The writer places the commas and colons; callers name keys and write values:
//
//     let json = JSONWriter(out)
//     json.beginObject()
//     json.key("file"); json.string(path)
//     json.key("segments"); json.number(12)
//     json.endObject(); json.endLine()          // {"file":"a.wav","segments":12}
//
// Numbers are written by Output's exact integer formatting (Q15 scores, seconds, fixed decimals).

import CRNNRuntime

final class JSONWriter {
    let out: Output
    /// Per open object or array: whether the next member is its first (no comma before it).
    private var first: [Bool] = []
    /// A key was just written: the next value follows its colon without a comma.
    private var afterKey = false

    init(_ out: Output) { self.out = out }

    // MARK: Structure

    func beginObject() { separator(); out.put("{"); first.append(true) }
    func endObject() { first.removeLast(); out.put("}") }
    func beginArray() { separator(); out.put("["); first.append(true) }
    func endArray() { first.removeLast(); out.put("]") }
    /// Ends a JSON line (one object per line).
    func endLine() { out.put("\n") }

    /// `"name":` (after a comma unless it is the object's first member).
    func key(_ name: StaticString) {
        separator()
        out.put("\""); out.put(name); out.put("\":")
        afterKey = true
    }

    /// `"<prefix><name>":`, e.g. `"clip_" + "confidence"`.
    func key(_ prefix: StaticString, _ name: StaticString) {
        separator()
        out.put("\""); out.put(prefix); out.put(name); out.put("\":")
        afterKey = true
    }

    /// A key that is itself a JSON string the caller writes (e.g. a class label): `"blues":`.
    func key(_ writeString: () -> Void) {
        separator()
        writeString()
        out.put(":")
        afterKey = true
    }

    // MARK: Values

    func number(_ v: Int64) { separator(); out.put(v) }
    func number(_ v: Int) { number(Int64(v)) }
    func number(_ v: Int32) { number(Int64(v)) }
    /// `numerator / denominator` with `decimals` digits (Output.put(fixed:)).
    func fixed(_ numerator: Int64, _ denominator: Int64, decimals: Int) {
        separator(); out.put(fixed: numerator, denominator, decimals: decimals)
    }
    /// A Q0.15 probability, 4 decimals.
    func q15(_ p: Int32) { separator(); out.putQ15(p) }
    /// Seconds of `samples` at `rate`, 3 decimals.
    func seconds(_ samples: Int64, rate: Int32) { separator(); out.putSeconds(samples, rate: rate) }
    func bool(_ v: Bool) { separator(); out.put(v ? "true" : "false") }
    func null() { separator(); out.put("null") }
    func string(_ s: UnsafeRawBufferPointer) { separator(); out.putJSONString(s) }
    func string(_ s: [UInt8]) { s.withUnsafeBytes { string($0) } }
    func string(_ s: StaticString) { separator(); out.put("\""); out.put(s); out.put("\"") }
    /// A value the caller writes itself (e.g. a class label as a JSON string).
    func value(_ write: () -> Void) { separator(); write() }

    private func separator() {
        if afterKey { afterKey = false; return }
        guard let isFirst = first.last else { return }
        if isFirst { first[first.count - 1] = false } else { out.put(",") }
    }
}

extension Output {
    /// A JSON string literal of UTF-8 bytes. Quotes, backslashes and control characters are escaped; a byte
    /// sequence that is not valid UTF-8 (possible in Linux file names) has each byte >= 0x80 written as
    /// `\u00XX` (read as Latin-1) so the line stays valid JSON.
    func putJSONString(_ s: UnsafeRawBufferPointer) {
        put("\"")
        let valid = isValidUTF8(s)
        for b in s {
            switch b {
            case UInt8(ascii: "\""): put("\\\"")
            case UInt8(ascii: "\\"): put("\\\\")
            case UInt8(ascii: "\n"): put("\\n")
            case UInt8(ascii: "\t"): put("\\t")
            case UInt8(ascii: "\r"): put("\\r")
            default:
                if b < 0x20 || (!valid && b >= 0x80) {
                    put("\\u00"); hexDigit(b >> 4); hexDigit(b & 15)
                } else {
                    byte(b)
                }
            }
        }
        put("\"")
    }

    func putJSONString(_ s: [UInt8]) { s.withUnsafeBytes { putJSONString($0) } }
}
