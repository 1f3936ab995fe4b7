// Strict UTF-8 validation of the model file's labels.

/// Strict UTF-8 check (no overlongs, no surrogates, at most U+10FFFF).
package func isValidUTF8(_ b: UnsafeRawBufferPointer) -> Bool {
    var i = 0
    let n = b.count
    while i < n {
        let c = b[i]
        if c < 0x80 { i += 1; continue }
        var need = 0, lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; hi = 0x9F
        case 0xF0: need = 3; lo = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; hi = 0x8F
        default: return false
        }
        if i + need >= n { return false }
        for k in 1...need {
            let d = b[i + k]
            if k == 1 { if d < lo || d > hi { return false } } else if d < 0x80 || d > 0xBF { return false }
        }
        i += need + 1
    }
    return true
}
