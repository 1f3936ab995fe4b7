// Files through the C library only (fopen/fread: open(2) is variadic and cannot be called from Swift without
// Glibc's overlay), a monotonic clock, and the process's peak resident set from /proc.

import CLibc

/// A whole file in one 16-byte aligned allocation (the model reader requires the alignment).
final class FileBytes {
    let storage: UnsafeMutableRawBufferPointer
    let count: Int

    init(storage: UnsafeMutableRawBufferPointer, count: Int) {
        self.storage = storage
        self.count = count
    }

    deinit { storage.deallocate() }

    var raw: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(storage)[0..<count]) }
}

/// Why a file could not be read: the C library's message (strerror) or a fixed one.
struct IOFailure: Error {
    var errnoValue: Int32
    var fixed: StaticString

    func write(to out: Output) {
        if errnoValue != 0, let m = strerror(errnoValue) {
            var n = 0
            while m[n] != 0 { out.byte(UInt8(bitPattern: m[n])); n += 1 }
        } else {
            out.put(fixed)
        }
    }
}

func currentErrno() -> Int32 {
    #if os(macOS)
    return __error().pointee
    #else
    return __errno_location().pointee
    #endif
}

/// Reads a whole file (regular file or pipe) into aligned memory.
func readWholeFile(_ path: [UInt8]) throws(IOFailure) -> FileBytes {
    var cPath = path
    cPath.append(0)
    let f: UnsafeMutablePointer<FILE>? = cPath.withUnsafeBufferPointer { p in
        p.withMemoryRebound(to: CChar.self) { fopen($0.baseAddress!, "rb") }
    }
    guard let file = f else { throw IOFailure(errnoValue: currentErrno(), fixed: "cannot open") }
    defer { fclose(file) }
    var capacity = 1 << 16
    if fseek(file, 0, SEEK_END) == 0 {
        let size = ftell(file)
        if size >= 0 && Int64(size) < Int64(Int.max / 2) { capacity = max(Int(size) + 1, 16) }
        rewind(file)
    }
    var storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    var count = 0
    while true {
        if count == storage.count {
            if storage.count > Int.max / 4 {
                storage.deallocate()
                throw IOFailure(errnoValue: 0, fixed: "file too large for this machine's address space")
            }
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: storage.count * 2, alignment: 16)
            bigger.copyMemory(from: UnsafeRawBufferPointer(storage))
            storage.deallocate()
            storage = bigger
        }
        let n = fread(storage.baseAddress! + count, 1, storage.count - count, file)
        if n == 0 {
            if ferror(file) != 0 {
                let e = currentErrno()
                storage.deallocate()
                throw IOFailure(errnoValue: e, fixed: "read error")
            }
            break
        }
        count += n
    }
    return FileBytes(storage: storage, count: count)
}

/// Monotonic time in nanoseconds.
func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// The process's peak resident set size in kB (`VmHWM` of /proc/self/status), or -1 where unavailable.
func peakResidentKilobytes() -> Int64 {
    guard let f = fopen("/proc/self/status", "rb") else { return -1 }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 256)
    let key: StaticString = "VmHWM:"
    while line.withUnsafeMutableBufferPointer({ fgets($0.baseAddress!, 256, f) != nil }) {
        var match = true
        for i in 0..<key.utf8CodeUnitCount where UInt8(bitPattern: line[i]) != key.utf8Start[i] { match = false; break }
        if !match { continue }
        var v: Int64 = 0
        var i = key.utf8CodeUnitCount
        while i < 256 && line[i] != 0 {
            let c = UInt8(bitPattern: line[i])
            if c >= 48 && c <= 57 { v = v * 10 + Int64(c - 48) }
            i += 1
        }
        return v
    }
    return -1
}
