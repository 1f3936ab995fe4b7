// Frontend version 2 (docs/fixed-point-mfcc.md §8): each frame's pre-floor log-mel is rounded to Int16 in
// units of 2^-7 dB, the form a stream keeps per frame and reuses across overlapping windows (StreamingMFCC);
// the segment's top_db floor and the DCT then read those 16-bit rows. File mode (`segment`) and stream mode
// run exactly these functions, so they agree bit for bit.
//
//   frame (nFFT Int16 samples, zeros outside the source)
//   -> frameLogMel: pre-floor log-mel, Int16 dB * 2^7          (nMels values per frame)
//   -> mfcc16: floor at (segment maximum - top_db), DCT-II       (Int32 MFCC * 2^8, the network's input)

/// Fraction bits of the version-2 frame log-mel (Int16 dB * 2^7: range +-256 dB, step 0.0078 dB).
let logMel16FractionBits: Int32 = 7

extension FixedPointMFCC {
    // frameLogMel and frameLogMelScratchBytes: FrameLogMel.swift.

    /// MFCCs (Int32 * 2^-8, `frameCount * nMFCC`, frame-major) from the version-2 log-mel rows of one segment:
    /// `row(t)` points at frame t's `nMels` values. The floor is `max over the segment - top_db` (in 2^-7 dB);
    /// `out[t][k] = round(sum_m D[k][m] * max(v[t][m], floor) / 2^(14 - e_dct))` (64-bit sums, one rounding,
    /// saturated).
    func mfcc16(rows row: (Int) -> UnsafePointer<Int16>, into out: UnsafeMutablePointer<Int32>) {
        let floorV = floor16(rows: row)
        for t in 0..<frameCount { dctRow16(row(t), floor: floorV, into: out + t &* nMFCC) }
    }

    /// The segment's floor in 2^-7 dB: its largest log-mel value minus top_db (`Int16.min`: no floor).
    func floor16(rows row: (Int) -> UnsafePointer<Int16>) -> Int32 {
        var maxV = Int32(Int16.min)
        for t in 0..<frameCount {
            let r = row(t)
            for m in 0..<nMels { maxV = max(maxV, Int32(r[m])) }
        }
        return topDbQ7 < 0 ? Int32(Int16.min) : maxV &- topDbQ7
    }

    /// One frame's MFCCs: `out[k] = round(sum_m D[k][m] * max(v[m], floor) / 2^(14 - e_dct))` (64-bit sums, one
    /// rounding, saturated). When no value of the row is below `floor` the result is that of the unfloored row,
    /// which lets a stream compute it once per frame (StreamingMFCC).
    @_optimize(speed)  // the dot product's vector loop also in -Osize builds (Embedded: boards, microcontrollers)
    func dctRow16(_ r: UnsafePointer<Int16>, floor floorV: Int32, into out: UnsafeMutablePointer<Int32>) {
        let shift = 15 + logMel16FractionBits - mfccFractionBits - dctExponent  // 14 - e_dct: 0...30 (init refuses e_dct > 14)
        // max(v, floor) as Int16: a floor below Int16.min clips nothing; floor16 never exceeds Int16.max.
        precondition(floorV <= Int32(Int16.max), "log-mel floor above the Int16 range")
        let f = Int16(clamping: floorV)
        withDCTHalves16(r, floor: f) { hi, lo in
            dct.withPointer { d in
                for k in 0..<nMFCC {
                    let acc = dctDot16(d + k &* nMels, hi: hi, lo: lo, count: nMels)
                    out[k] = saturatingInt32(roundingShiftRight(acc, shift))
                }
            }
        }
    }

    /// Runs `body` with the row's floored values split once for all nMFCC dot products (`dctHalves16`), in
    /// 4 nMels bytes of stack (up to 256 bands; above that the standard library allocates them on the heap).
    @inline(__always)
    func withDCTHalves16(_ r: UnsafePointer<Int16>, floor f: Int16,
                         _ body: (UnsafePointer<Int16>, UnsafePointer<Int16>) -> Void) {
        withUnsafeTemporaryAllocation(of: Int16.self, capacity: 2 &* nMels) { buf in
            let hi = buf.baseAddress!, lo = hi + nMels
            dctHalves16(r, floor: f, count: nMels, hi: hi, lo: lo)
            body(UnsafePointer(hi), UnsafePointer(lo))
        }
    }

    /// The unrounded, unfloored DCT sums of one frame, `acc[k] = sum_m D[k][m] * v[m]` (wrapping Int64), from which
    /// `dctRow16FromSums` finishes any floor exactly: a stream computes them once per frame (StreamingMFCC).
    @_optimize(speed)  // the dot product's vector loop also in -Osize builds (Embedded: boards, microcontrollers)
    func dctSums16(_ r: UnsafePointer<Int16>, into acc: UnsafeMutablePointer<Int64>) {
        withDCTHalves16(r, floor: Int16.min) { hi, lo in
            dct.withPointer { d in
                for k in 0..<nMFCC { acc[k] = dctDot16(d + k &* nMels, hi: hi, lo: lo, count: nMels) }
            }
        }
    }

    /// `dctRow16(r, floor:)` from the row's `dctSums16`: sum_m D[k][m] max(v[m], f) = acc[k] + sum over the bands
    /// below the floor of D[k][m] (f - v[m]), the same integers (wrapping Int64 both ways), then the same rounding.
    /// `clipped`: room for `nMels` band indices.
    func dctRow16FromSums(_ acc: UnsafePointer<Int64>, _ r: UnsafePointer<Int16>, floor floorV: Int32,
                          clipped: UnsafeMutablePointer<Int32>, into out: UnsafeMutablePointer<Int32>) {
        let shift = 15 + logMel16FractionBits - mfccFractionBits - dctExponent
        var n = 0
        for m in 0..<nMels where Int32(r[m]) < floorV { clipped[n] = Int32(m); n &+= 1 }
        dct.withPointer { d in
            for k in 0..<nMFCC {
                let coef = d + k &* nMels
                var a = acc[k]
                var i = 0
                while i < n {
                    let m = Int(clipped[i])
                    a &+= Int64(coef[m]) &* Int64(floorV &- Int32(r[m]))
                    i &+= 1
                }
                out[k] = saturatingInt32(roundingShiftRight(a, shift))
            }
        }
    }

    /// Version 2 of `segment`: every frame's log-mel into the scratch, then `mfcc16`.
    func segment16(_ pcm: UnsafeBufferPointer<Int16>, into out: UnsafeMutableBufferPointer<Int32>,
                   scratch: UnsafeMutableRawBufferPointer) {
        precondition(out.count >= frameCount * nMFCC)
        let rows = segmentRows16(pcm, scratch: scratch)
        mfcc16(rows: { UnsafePointer(rows + $0 &* nMels) }, into: out.baseAddress!)
    }

    /// Version 2 of `segmentLogMel`: the floored log-mel as dB * 2^16 (the 16-bit values shifted up).
    func segmentLogMel16(_ pcm: UnsafeBufferPointer<Int16>, into db: UnsafeMutableBufferPointer<Int32>,
                         scratch: UnsafeMutableRawBufferPointer) {
        let rows = segmentRows16(pcm, scratch: scratch)
        let total = frameCount * nMels
        let floorV = floor16(rows: { UnsafePointer(rows + $0 &* self.nMels) })
        let up = decibelFractionBits - logMel16FractionBits
        for i in 0..<total { db[i] = max(Int32(rows[i]), floorV) << up }
    }

    /// The version-2 log-mel rows of every frame of one segment, in the scratch after one frame's working memory.
    func segmentRows16(_ pcm: UnsafeBufferPointer<Int16>, scratch: UnsafeMutableRawBufferPointer) -> UnsafeMutablePointer<Int16> {
        precondition(pcm.count == Int(config.segmentSamples), "segment length differs from the feature config")
        precondition(scratch.count >= segmentScratchBytes, "segment scratch too small")
        let base = scratch.baseAddress!
        precondition(UInt(bitPattern: base) & 7 == 0, "scratch must be 8-byte aligned")
        let frameBytes = frameLogMelWorkBytes
        let rows = (base + frameBytes).bindMemory(to: Int16.self, capacity: frameCount * nMels)
        let frameScratch = UnsafeMutableRawBufferPointer(start: base, count: frameBytes)
        for t in 0..<frameCount {
            frameLogMel(source: pcm, start: t * hop - pad, into: rows + t * nMels, scratch: frameScratch)
        }
        return rows
    }
}

/// `sum_m c[m] * max(r[m], f)` for m < `count`, exact, from the row's halves (`dctHalves16`): each value is split as
/// v = 2^8 vh + vl (vh = v >> 8 in -128...127, vl = v & 255), and the two halves are summed in Int32 over runs of at
/// most 128 bands, where they cannot wrap (|c vh| <= 2^22, c vl < 2^23: 128 terms stay below 2^30), then joined in
/// Int64: the same integer as a 64-bit sum of the products, with 16-bit multiplies (SSE2 `pmaddwd`, NEON `smlal`:
/// `dctRun16`). The split is done once per row, not once per coefficient (`withDCTHalves16`).
@inline(__always)
func dctDot16(_ c: UnsafePointer<Int16>, hi: UnsafePointer<Int16>, lo: UnsafePointer<Int16>, count n: Int) -> Int64 {
    var total: Int64 = 0
    var start = 0
    while start < n {
        let end = min(n, start &+ 128)
        let (h, l) = dctRun16(c, hi: hi, lo: lo, from: start, to: end)
        total &+= (Int64(h) << 8) &+ Int64(l)
        start = end
    }
    return total
}

/// One run of `dctDot16`: the wrapping Int32 sums of c hi and c lo over bands `from ..< to`. Any order of the terms
/// gives the same Int32 (wrapping addition; the true sums fit, `dctDot16`). On x86-64 eight bands a step as pairs
/// of products summed into four lanes, the shape of SSE2's `pmaddwd` (LLVM's own vectorisation of the scalar loop
/// takes four bands per `pmaddwd`, half of it zeros); elsewhere the scalar loop, which LLVM vectorises into NEON
/// `smlal` / `smlal2` (aarch64, armv7) and leaves scalar where there is no vector unit (Cortex-M).
@inline(__always)
func dctRun16(_ c: UnsafePointer<Int16>, hi: UnsafePointer<Int16>, lo: UnsafePointer<Int16>, from start: Int,
              to end: Int) -> (Int32, Int32) {
    var h: Int32 = 0, l: Int32 = 0
    var m = start
    #if arch(x86_64)
    var h4 = SIMD4<Int32>(), l4 = SIMD4<Int32>()
    @inline(__always) func wide(_ p: UnsafePointer<Int16>) -> SIMD8<Int32> {
        SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(p + m).loadUnaligned(as: SIMD8<Int16>.self))
    }
    while m &+ 8 <= end {
        let c8 = wide(c), ph = c8 &* wide(hi), pl = c8 &* wide(lo)
        h4 &+= ph.evenHalf &+ ph.oddHalf
        l4 &+= pl.evenHalf &+ pl.oddHalf
        m &+= 8
    }
    h = h4.wrappedSum(); l = l4.wrappedSum()
    #endif
    while m < end {
        let cm = Int32(c[m])
        h &+= cm &* Int32(hi[m])
        l &+= cm &* Int32(lo[m])
        m &+= 1
    }
    return (h, l)
}

/// The halves `dctDot16` reads: `hi[m] = max(r[m], f) >> 8`, `lo[m] = max(r[m], f) & 255`, for m < `count`.
@inline(__always)
func dctHalves16(_ r: UnsafePointer<Int16>, floor f: Int16, count n: Int, hi: UnsafeMutablePointer<Int16>,
                 lo: UnsafeMutablePointer<Int16>) {
    var m = 0
    while m < n {
        let v = max(r[m], f)
        hi[m] = v &>> 8
        lo[m] = v & 255
        m &+= 1
    }
}
