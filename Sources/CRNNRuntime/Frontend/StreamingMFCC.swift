// StreamingMFCC: the frame-by-frame frontend of a stream (docs/streaming.md). PCM arrives in chunks of any
// size; each frame is computed once, when its last sample arrives, and its version-2 log-mel (16 bits per band,
// `frameLogMel`) is kept until every window that uses it is due; a due window then needs only its edge frames,
// the top_db floor and the DCT (`mfcc16`). A window's features are bit for bit those of `FixedPointMFCC.segment`
// on the same samples, because both run the same per-frame and per-segment functions on the same frame samples.
//
// Window w covers stream samples [w * H, w * H + n) (H = the window hop, a multiple of the frame hop h; n = the
// segment). Its frame t covers window samples [t * h - pad, t * h - pad + nFFT), zeros outside [0, n):
//   - interior frames (t in lo ..< hi, `FixedPointMFCC.interiorFrames`) lie inside the window: frame t of window
//     w is stream frame j = w * H/h + t, the same samples for every window that contains it. Kept in a ring of
//     hi - lo rows, computed when stream sample j * h - pad + nFFT arrives.
//   - head frames (t < lo) see the window's leading zeros: computed for each window when its first
//     `headSpan` samples have arrived, kept until it is due (a few windows are pending at a time).
//   - tail frames (t >= hi) see the window's trailing zeros: computed when the window is due, from the recent
//     samples kept in `history`.
// Memory (paper config, 1-s hop): ring 126 x 128 x 2 = 32,256 bytes and, unless made without (`keepsDCTSums`
// false: a microcontroller), each ring frame's unfloored DCT sums (126 x 23 x 8 = 23,184 bytes, so that the DCT
// runs once per frame rather than once per window; without them a window runs the DCT of all its frames from the
// Int16 rows, as file mode does, the same integers), heads 4 x 2 x 256, tail 2 x 256, history 2,560 samples,
// one frame's scratch; allocated at init, nothing while streaming.

public final class StreamingMFCC {  // members: package (crnn-infer's bench); embedders use StreamClassifier
    package let mfcc: FixedPointMFCC
    /// Samples between window starts (a positive multiple of the frame hop) and the same in frames.
    package let hopSamples: Int
    let hopFrames: Int
    /// Interior frames of a window (lo ..< hi), samples of a window its head frames read, first window sample its
    /// tail frames read.
    let lo: Int, hi: Int, headSpan: Int, tailBase: Int
    let segmentSamples: Int
    /// The last `historyKeep` or more samples, stream indices [historyStart, historyStart + historyCount).
    let history: UnsafeMutableBufferPointer<Int16>
    let historyKeep: Int
    var historyStart: Int64 = 0, historyCount = 0
    /// Interior rows: stream frame j in slot j % ringFrames; head rows: window w in slot w % pendingWindows.
    let ring: UnsafeMutablePointer<Int16>, ringFrames: Int
    let heads: UnsafeMutablePointer<Int16>, pendingWindows: Int
    /// Per ring slot: the frame's unrounded, unfloored DCT sums (`dctSums16`). A window finishes each interior frame
    /// from them, adding only the bands its floor clips (`dctRow16FromSums`), so the full DCT runs once per frame
    /// instead of once per window; `clipped` is that step's list of band indices. Both nil when made without
    /// (`keepsDCTSums` false): a window then runs `dctRow16` on every frame, as `FixedPointMFCC.segment` does.
    let ringSums: UnsafeMutablePointer<Int64>?, clipped: UnsafeMutablePointer<Int32>?
    let tail: UnsafeMutablePointer<Int16>
    /// One frame's work (`FixedPointMFCC.frameLogMelWorkBytes`): its own, or lent (`init`'s `frameScratch`).
    let frameScratch: UnsafeMutableRawBufferPointer, ownsFrameScratch: Bool
    /// Samples pushed so far; next stream frame to complete; next window whose head frames are due.
    package private(set) var totalSamples: Int64 = 0
    var nextFrame: Int, nextHeadWindow: Int64 = 0
    /// Head rows computed for windows < headsDone.
    var headsDone: Int64 = 0

    /// `mfcc` must be a version-2 frontend with interior frames (`canStream`); `hopSamples` a positive multiple of
    /// its hop length. `keepsDCTSums`: keep each ring frame's DCT sums (faster windows, 8 bytes per coefficient
    /// per ring frame: 23,184 bytes for the paper config) or recompute the DCT of every frame per window (the same
    /// integers: file mode's `dctRow16`).
    /// `frameScratch`: memory to use as the frame work instead of allocating it (at least `frameLogMelWorkBytes`,
    /// 8-byte aligned; used only during `push` and `windowFeatures`, nothing kept in it between calls), e.g. the
    /// interpreter's `idleArena`.
    package init(mfcc: FixedPointMFCC, hopSamples: Int, keepsDCTSums: Bool = true,
                 frameScratch lent: UnsafeMutableRawBufferPointer? = nil) {
        precondition(StreamingMFCC.canStream(mfcc), "frame reuse needs frontend version 2 and interior frames")
        precondition(hopSamples > 0 && hopSamples % mfcc.hop == 0, "hop must be a positive multiple of the frame hop")
        self.mfcc = mfcc
        self.hopSamples = hopSamples
        hopFrames = hopSamples / mfcc.hop
        let interior = mfcc.interiorFrames
        lo = interior.lowerBound
        hi = interior.upperBound
        segmentSamples = Int(mfcc.config.segmentSamples)
        headSpan = lo == 0 ? 0 : (lo - 1) * mfcc.hop - mfcc.pad + mfcc.nFFT
        tailBase = hi * mfcc.hop - mfcc.pad
        historyKeep = max(mfcc.nFFT, segmentSamples - tailBase, headSpan)
        history = .allocate(capacity: historyKeep + mfcc.hop)
        history.initialize(repeating: 0)
        ringFrames = hi - lo
        pendingWindows = lo == 0 ? 1 : (segmentSamples - headSpan) / hopSamples + 2
        let nMels = mfcc.nMels
        ring = .allocate(capacity: ringFrames * nMels)
        ring.initialize(repeating: 0, count: ringFrames * nMels)
        if keepsDCTSums {
            let sums = UnsafeMutablePointer<Int64>.allocate(capacity: ringFrames * mfcc.nMFCC)
            sums.initialize(repeating: 0, count: ringFrames * mfcc.nMFCC)
            let c = UnsafeMutablePointer<Int32>.allocate(capacity: nMels)
            c.initialize(repeating: 0, count: nMels)
            ringSums = sums; clipped = c
        } else {
            ringSums = nil; clipped = nil
        }
        heads = .allocate(capacity: max(1, pendingWindows * lo * nMels))
        heads.initialize(repeating: 0, count: max(1, pendingWindows * lo * nMels))
        tail = .allocate(capacity: max(1, (mfcc.frameCount - hi) * nMels))
        tail.initialize(repeating: 0, count: max(1, (mfcc.frameCount - hi) * nMels))
        if let s = lent {
            precondition(s.count >= mfcc.frameLogMelWorkBytes && UInt(bitPattern: s.baseAddress) & 7 == 0,
                         "lent frame work too small or misaligned")
            frameScratch = UnsafeMutableRawBufferPointer(rebasing: s[0..<mfcc.frameLogMelWorkBytes])
        } else {
            frameScratch = .allocate(byteCount: mfcc.frameLogMelWorkBytes, alignment: 16)
        }
        ownsFrameScratch = lent == nil
        nextFrame = lo
    }

    deinit {
        history.deallocate(); ring.deallocate(); heads.deallocate(); tail.deallocate()
        if ownsFrameScratch { frameScratch.deallocate() }
        ringSums?.deallocate(); clipped?.deallocate()
    }

    /// True when `mfcc` can stream with frame reuse: frontend version 2 and at least one interior frame.
    package static func canStream(_ mfcc: FixedPointMFCC) -> Bool { mfcc.version >= 2 && !mfcc.interiorFrames.isEmpty }

    /// Bytes this frontend holds (ring, head and tail rows, history, frame scratch unless lent, the DCT sums if kept).
    package var memoryBytes: Int {
        2 * (ringFrames + pendingWindows * lo + (mfcc.frameCount - hi)) * mfcc.nMels + 2 * history.count
            + (ownsFrameScratch ? frameScratch.count : 0)
            + (ringSums == nil ? 0 : ringFrames * 8 * mfcc.nMFCC + 4 * mfcc.nMels)
    }

    // MARK: Pushing samples

    /// Stream sample index one past the last sample stream frame j reads.
    @inline(__always) func frameEnd(_ j: Int) -> Int64 { Int64(j) * Int64(mfcc.hop) - Int64(mfcc.pad) + Int64(mfcc.nFFT) }
    /// Stream sample index where window w starts.
    @inline(__always) func windowStart(_ w: Int64) -> Int64 { w * Int64(hopSamples) }

    /// Appends samples, computing every frame (and head rows) whose last sample arrives. The caller classifies a
    /// window when it is complete (`windowFeatures`) before pushing samples beyond it: its tail frames read the
    /// last `historyKeep` samples.
    package func push(_ samples: UnsafeBufferPointer<Int16>) {
        var i = 0
        let count = samples.count
        let capacity = history.count
        while i < count {
            if historyCount == capacity {  // keep the newest historyKeep samples (forward copy: safe as they overlap)
                let drop = capacity - historyKeep, h = history.baseAddress!, keep = historyKeep
                var k = 0
                while k < keep { h[k] = h[k &+ drop]; k &+= 1 }
                historyStart += Int64(drop)
                historyCount = keep
            }
            let headEnd = lo == 0 ? Int64.max : windowStart(nextHeadWindow) + Int64(headSpan)
            let nextEvent = min(frameEnd(nextFrame), headEnd)
            let run = Int(min(Int64(count - i), Int64(capacity - historyCount), nextEvent - totalSamples))
            let dst = history.baseAddress! + historyCount, src = samples.baseAddress! + i
            var k = 0
            while k < run { dst[k] = src[k]; k &+= 1 }
            historyCount += run
            totalSamples += Int64(run)
            i += run
            if totalSamples == frameEnd(nextFrame) {
                if frameNeeded(nextFrame) { computeStreamFrame(nextFrame) }
                nextFrame += 1
            }
            if totalSamples == headEnd {
                computeHeads(window: nextHeadWindow, valid: headSpan)
                nextHeadWindow += 1
            }
        }
    }

    /// True when stream frame j is an interior frame of some window.
    func frameNeeded(_ j: Int) -> Bool {
        if j < lo { return false }
        let w = (j - lo) / hopFrames
        return j - w * hopFrames < hi
    }

    /// The history as a buffer starting at stream sample `from`, `count` samples (all must be held).
    func historySlice(from: Int64, count: Int) -> UnsafeBufferPointer<Int16> {
        let offset = Int(from - historyStart)
        precondition(offset >= 0 && offset + count <= historyCount, "samples no longer held")
        return UnsafeBufferPointer(start: history.baseAddress! + offset, count: count)
    }

    func computeStreamFrame(_ j: Int) {
        let start = frameEnd(j) - Int64(mfcc.nFFT)
        mfcc.frameLogMel(source: historySlice(from: start, count: mfcc.nFFT), start: 0,
                         into: ring + (j % ringFrames) * mfcc.nMels, scratch: frameScratch)
        fillSlotMFCC(j % ringFrames)
    }

    /// The DCT sums of ring slot `slot`'s row.
    func fillSlotMFCC(_ slot: Int) {
        guard let sums = ringSums else { return }
        mfcc.dctSums16(ring + slot * mfcc.nMels, into: sums + slot * mfcc.nMFCC)
    }

    /// Frame t of window w from the window's samples [0, valid) (zeros after), written to `out`.
    func computeWindowFrame(window w: Int64, frame t: Int, valid: Int, into out: UnsafeMutablePointer<Int16>) {
        let first = t * mfcc.hop - mfcc.pad, from = max(0, first)
        let source = from < valid ? historySlice(from: windowStart(w) + Int64(from), count: valid - from)
                                  : UnsafeBufferPointer(start: history.baseAddress!, count: 0)
        mfcc.frameLogMel(source: source, start: first - from, into: out, scratch: frameScratch)
    }

    func computeHeads(window w: Int64, valid: Int) {
        let slot = heads + Int(w % Int64(pendingWindows)) * lo * mfcc.nMels
        for t in 0..<lo { computeWindowFrame(window: w, frame: t, valid: valid, into: slot + t * mfcc.nMels) }
        headsDone = w + 1
    }

    // MARK: Windows

    /// The features (Int32 MFCC * 2^8, `frameCount * nMFCC`, frame-major) of window w, whose samples are the
    /// stream's [w * hopSamples, w * hopSamples + valid) followed by zeros up to a segment: `valid` is a whole
    /// segment for a due window, or less for the stream's last, partial window. Call it as soon as the window's
    /// samples have arrived (`totalSamples == w * hopSamples + valid`), before pushing more.
    package func windowFeatures(window w: Int64, validSamples valid: Int, into out: UnsafeMutablePointer<Int32>) {
        precondition(valid > 0 && valid <= segmentSamples, "valid samples out of range")
        precondition(totalSamples == windowStart(w) + Int64(valid), "the window's samples must be the last ones pushed")
        let nMels = mfcc.nMels
        if headsDone <= w { computeHeads(window: w, valid: valid) }  // a partial window shorter than headSpan
        let base = Int64(w) * Int64(hopFrames)
        // Interior frames that reach past the valid samples (only in a partial window) see zeros: recompute them.
        for t in lo..<hi where t * mfcc.hop - mfcc.pad + mfcc.nFFT > valid {
            let slot = Int((base + Int64(t)) % Int64(ringFrames))
            computeWindowFrame(window: w, frame: t, valid: valid, into: ring + slot * nMels)
            fillSlotMFCC(slot)
        }
        for t in hi..<mfcc.frameCount { computeWindowFrame(window: w, frame: t, valid: valid, into: tail + (t - hi) * nMels) }
        let headSlot = heads + Int(w % Int64(pendingWindows)) * lo * nMels
        let row: (Int) -> UnsafePointer<Int16> = { t in
            if t < self.lo { return UnsafePointer(headSlot + t * nMels) }
            if t < self.hi { return UnsafePointer(self.ring + Int((base + Int64(t)) % Int64(self.ringFrames)) * nMels) }
            return UnsafePointer(self.tail + (t - self.hi) * nMels)
        }
        // mfcc16, with the interior frames finished from their ring DCT sums when kept (the same integers, see
        // dctRow16FromSums).
        let floorV = mfcc.floor16(rows: row)
        let nMFCC = mfcc.nMFCC
        for t in 0..<mfcc.frameCount {
            let o = out + t * nMFCC
            if t >= lo && t < hi, let sums = ringSums, let clipped {
                let slot = Int((base + Int64(t)) % Int64(ringFrames))
                mfcc.dctRow16FromSums(sums + slot * nMFCC, row(t), floor: floorV, clipped: clipped, into: o)
            } else {
                mfcc.dctRow16(row(t), floor: floorV, into: o)
            }
        }
    }
}
