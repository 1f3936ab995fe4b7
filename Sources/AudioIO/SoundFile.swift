#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CSndFile

/// A mutex over `pthread_mutex_t`, usable from Swift 6 strict concurrency.
///
/// libsndfile reports a failed `sf_open` through a process-wide error variable that
/// `sf_strerror(NULL)` reads back, so two threads failing to open at the same time could
/// read each other's message. Opening (and reading that message) is therefore serialised;
/// reading an opened file is not, because each handle carries its own state.
final class Lock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// Serialises `sf_open` and the read-back of its error message (see `Lock`).
let soundFileOpenLock = Lock()

/// An open libsndfile handle for reading; closed when the value is released.
///
/// Internal: one instance is used by one thread at a time (one decode per thread).
final class SoundFile {
    let path: String
    let info: AudioInfo
    private let handle: OpaquePointer

    /// Opens `path` for reading and validates what libsndfile reports about it against `limits`
    /// (channel count and sample rate in range, at least one frame).
    init(path: String, limits: DecodeLimits = .standard) throws(AudioError) {
        self.path = path
        try Self.checkPlainFile(path)

        var sfInfo = SF_INFO()
        let opened: Result<OpaquePointer, AudioError> = soundFileOpenLock.withLock {
            if let h = sf_open(path, Int32(SFM_READ), &sfInfo) {
                return .success(h)
            }
            let message = String(cString: sf_strerror(nil))
            return .failure(AudioError(path: path, reason: "libsndfile cannot open it: \(message)"))
        }
        let handle: OpaquePointer
        switch opened {
        case .success(let h): handle = h
        case .failure(let e): throw e
        }

        guard sfInfo.channels > 0, Int(sfInfo.channels) <= limits.maxChannels else {
            sf_close(handle)
            throw AudioError(path: path, reason: "the file reports \(sfInfo.channels) channels"
                             + (sfInfo.channels > 0 ? " (at most \(limits.maxChannels) are accepted)" : ""))
        }
        guard limits.sampleRates.contains(Int(sfInfo.samplerate)) else {
            sf_close(handle)
            throw AudioError(path: path, reason: "the file reports a sample rate of \(sfInfo.samplerate) Hz"
                             + " (accepted: \(limits.sampleRates.lowerBound) to \(limits.sampleRates.upperBound) Hz)")
        }
        guard sfInfo.frames > 0 else {
            sf_close(handle)
            throw AudioError(path: path, reason: "the file holds no audio frames (0 frames)")
        }
        self.handle = handle
        self.info = AudioInfo(
            sampleRate: Int(sfInfo.samplerate), channels: Int(sfInfo.channels),
            frames: Int(sfInfo.frames), format: Self.majorFormatName(sfInfo.format),
            formatCode: sfInfo.format)
    }

    deinit { sf_close(handle) }

    /// Reads up to `frames` interleaved frames into `buffer` (which must hold
    /// `frames * info.channels` floats). Returns the number of frames read; 0 at the end.
    /// Integer PCM comes back normalised to [-1, 1) by libsndfile; float data unchanged.
    func readFrames(into buffer: UnsafeMutableBufferPointer<Float>, frames: Int) throws(AudioError) -> Int {
        precondition(buffer.count >= frames * info.channels)
        let got = sf_readf_float(handle, buffer.baseAddress, sf_count_t(frames))
        if got < 0 || (got == 0 && sf_error(handle) != 0) {
            throw AudioError(path: path, reason: "read failed: \(String(cString: sf_strerror(handle)))")
        }
        // More than asked for would mean the library wrote past the buffer: stop before using it.
        if got > sf_count_t(frames) {
            throw AudioError(path: path, reason: "the decoder returned \(got) frames for a read of \(frames)")
        }
        return Int(got)
    }

    /// The error libsndfile recorded on this handle, if any (checked after the last read).
    var pendingError: String? {
        sf_error(handle) == 0 ? nil : String(cString: sf_strerror(handle))
    }

    /// Existence and kind of the path, checked before libsndfile sees it, so that the
    /// commonest mistakes get a plain message.
    private static func checkPlainFile(_ path: String) throws(AudioError) {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let code = errno
            let reason = code == ENOENT ? "no such file" : String(cString: strerror(code))
            throw AudioError(path: path, reason: reason)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            throw AudioError(path: path, reason: "is a directory, not an audio file")
        }
        if (st.st_mode & S_IFMT) == S_IFREG && st.st_size == 0 {
            throw AudioError(path: path, reason: "empty file (0 bytes)")
        }
    }

    /// libsndfile's name for the container, e.g. "FLAC (Free Lossless Audio Codec)".
    private static func majorFormatName(_ format: Int32) -> String {
        var fi = SF_FORMAT_INFO()
        fi.format = format & Int32(SF_FORMAT_TYPEMASK)
        let ok = sf_command(nil, Int32(SFC_GET_FORMAT_INFO), &fi,
                            Int32(MemoryLayout<SF_FORMAT_INFO>.size))
        guard ok == 0, let name = fi.name else { return "unknown" }
        return String(cString: name)
    }
}
