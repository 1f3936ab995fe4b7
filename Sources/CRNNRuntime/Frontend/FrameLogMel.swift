// FrameLogMel: the per-frame step of frontend version 2 (docs/fixed-point-mfcc.md §12): one frame of Int16
// PCM -> its nMels pre-floor log-mel values, Int16 dB * 2^7. Integer only, bit-exact on every architecture.
//
//   frame (nFFT Int16, zeros outside the source)
//   -> x = round(pcm * Hann_Q1.30 / 2^r), Int32 <= 2^28 (r from the frame's peak)   in place in the FFT work
//   -> FixedRealFFTV2: radix-4 DIF, block floating point, split fused with |X|^2      UInt64 < 2^59, in place
//   -> mel over each band's non-zero span (power rounded to powerBits, Q0.15 weights) UInt64 per band
//   -> log2 by a 129-entry table with linear interpolation, dB * 2^7, amin, ref      Int16
//
// Working memory: nFFT + 2 Int32 (8,200 bytes for nFFT = 2048); nothing else.

/// The tables of the version-2 frame step, made at `FixedPointMFCC.init` for a version-2 frontend. The mel sums
/// find each bin's power through the FFT's `position` table (`slot(k)`), with no per-weight table.
struct FrameLogMelTables: Sendable {
    let fft: FixedRealFFTV2
    /// `log2(1 + i / 128)` as Q20, i in 0...128 (`log2TableBits` = 7), from the table-free `log2Q20`.
    let log2Table: [Int32]
    /// amin and ref as dB * 2^7 (exact: 10 dB per decade * exponent * 128).
    let aminQ7: Int32, refQ7: Int32
    /// The Q1.30 Hann window in natural order as two Int16 pieces (4 n bytes) where the build keeps speed tables
    /// (`speedTables`): entries 0..<n are `wh = (w_j + 2^15) >> 16` (0...2^14), entries n..<2n are `w_j - 2^16 wh`
    /// (-2^15..<2^15), w_j = `fft.hannQ30(j)`; `windowFrame` then windows eight samples at a time with 16 x 16-bit
    /// products (`windowFromTable`). Empty in low-RAM builds.
    let window: [Int16]

    init(nFFT: Int, bandFirst: [UInt16], bandCount: [UInt16], aminExponent: Int32, refExponent: Int32) {
        fft = FixedRealFFTV2(n: nFFT)
        log2Table = log2TableQ20  // generated (FixedFFTV2Tables2048.swift): read-only memory, equal to makeLog2Table()
        aminQ7 = aminExponent &* 1280
        refQ7 = max(refExponent, aminExponent) &* 1280
        let f = fft
        let high = speedTables ? (0..<nFFT).map { (f.hannQ30($0) &+ (1 << 15)) &>> 16 } : []
        window = high.map { Int16(truncatingIfNeeded: $0) }
            + high.indices.map { Int16(truncatingIfNeeded: f.hannQ30($0) &- (high[$0] &<< 16)) }
    }
}

/// Index bits of `log2Table`: 2^7 intervals of the mantissa range [1, 2).
let log2TableBits = 7

/// `round(log2(1 + i / 2^7) * 2^20)` for i in 0...2^7 (each within 0.51 of the exact value, `log2Q20`).
func makeLog2Table() -> [Int32] {
    let size = 1 << log2TableBits
    return (0...size).map { i in log2Q20(UInt64(size + i)) &- (Int32(log2TableBits) << 20) }
}

/// `log2(x) * 2^20` for x >= 1 from `log2Table` (`table`, 129 entries): integer part from the leading-zero
/// count, the mantissa's next 7 bits index the table, its following 32 bits interpolate linearly (one rounding).
/// Error: below 13 * 2^-20 (interpolation <= (2^-7)^2 / (8 ln 2) = 11.3 * 2^-20, table 0.51, rounding 0.5;
/// test `testTableLog2Accuracy`). x must not be 0.
@inline(__always)
func log2Q20Table(_ x: UInt64, _ table: UnsafePointer<Int32>) -> Int64 {
    let lz = x.leadingZeroBitCount
    let m = x &<< UInt64(lz)  // leading one at bit 63
    let i = Int(truncatingIfNeeded: (m &>> 56) & 127)
    let f = Int64(truncatingIfNeeded: (m &>> 24) & 0xFFFF_FFFF)
    let lo = Int64(table[i]), d = Int64(table[i &+ 1]) &- lo
    return (Int64(63 &- lz) << 20) &+ lo &+ ((d &* f &+ (Int64(1) << 31)) &>> 32)
}

extension FixedPointMFCC {
    /// Scratch bytes of `frameLogMel` (8-byte aligned memory): the version-2 FFT's work, `nFFT + 2` Int32
    /// (8,200 bytes for the paper config); for a version-1 frontend the version-1 frame scratch and the mel powers.
    static func frameLogMelScratchBytes(config: FeatureConfig) -> Int {
        let v2 = 4 * FixedRealFFTV2.workCount(n: Int(config.nFFT))
        let v1 = frameScratchBytes(config: config) + 8 * Int(config.nMels)
        return (max(v1, v2) + 7) / 8 * 8
    }

    /// Scratch bytes `frameLogMel` needs for this frontend's version: 8,200 for a version-2 paper config
    /// (`frameLogMelScratchBytes(config:)`, which suits either version, is 33,800).
    var frameLogMelWorkBytes: Int {
        frameV2 == nil ? FixedPointMFCC.frameLogMelScratchBytes(config: config)
            : (4 * FixedRealFFTV2.workCount(n: nFFT) + 7) / 8 * 8
    }

    /// The version-2 log-mel of one frame: the frame is `source[start ..< start + nFFT]` with zeros outside
    /// `source` (centre padding, the end of a short segment); `out[m]` = `round((max(10 log10 P_m, 10 log10 amin) -
    /// 10 log10 max(amin, ref)) * 2^7)`, saturated to Int16, for the `nMels` bands. No top_db floor yet (it needs
    /// the whole segment). `scratch`: `frameLogMelScratchBytes(config:)` bytes, 8-byte aligned.
    ///
    /// P_m is computed as docs/fixed-point-mfcc.md §12 defines (window Q1.30, radix-4 FFT, table log); a version-1
    /// frontend (no version-2 tables) takes its `melPower` and exact log instead.
    func frameLogMel(source: UnsafeBufferPointer<Int16>, start: Int, into out: UnsafeMutablePointer<Int16>,
                     scratch: UnsafeMutableRawBufferPointer) {
        guard let v2 = frameV2 else {
            frameLogMelVersion1(source: source, start: start, into: out, scratch: scratch)
            return
        }
        precondition(scratch.count >= 4 * FixedRealFFTV2.workCount(n: nFFT), "frame scratch too small")
        let base = scratch.baseAddress!
        precondition(UInt(bitPattern: base) & 7 == 0, "scratch must be 8-byte aligned")
        let work = base.bindMemory(to: Int32.self, capacity: FixedRealFFTV2.workCount(n: nFFT))
        let silent = saturatingInt16(v2.aminQ7 &- v2.refQ7)
        // Window: x = round(pcm * w / 2^r), |x| <= 2^28.
        guard let (r, bound) = windowFrame(source: source, start: start, into: work) else {
            for m in 0..<nMels { out[m] = silent }
            return
        }
        let (fftExponent, orPower) = v2.fft.powerSpectrum(work, bound: bound)
        let power = UnsafeMutableRawPointer(work).assumingMemoryBound(to: UInt64.self)
        // Mel: power rounded right by p so that sum_k w_k P_k < 2^63.
        let p = max(0, Int32(64 &- orPower.leadingZeroBitCount) &- powerBits)
        let rndP: UInt64 = p == 0 ? 0 : UInt64(1) &<< UInt64(p &- 1)
        let shP = UInt64(p)
        // mel_m * 2^e is the band's power in (sample / 32768)^2 units.
        let e = fftExponent &+ 2 &* (r &- 45) &+ p &+ melWeightExponent &- 15
        let eQ20 = Int64(e) << 20
        let aminQ7 = v2.aminQ7, refQ7 = v2.refQ7
        weights.withPointer { w in
            v2.fft.position.withUnsafeBufferPointer { sb in
                bandCount.withUnsafeBufferPointer { cb in
                  bandFirst.withUnsafeBufferPointer { fb in
                    v2.log2Table.withUnsafeBufferPointer { lb in
                        let slot = sb.baseAddress!, table = lb.baseAddress!
                        // Two passes: every band's sum, then every band's log. Apart, the log's long dependency
                        // chain of one band overlaps the next bands' (the loop has no data-dependent branch), and
                        // the sums' loop exits are not interleaved with it.
                        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: nMels) { sums in
                            let sum = sums.baseAddress!
                            var i = 0
                            for m in 0..<nMels {
                                let end = i &+ Int(cb[m])
                                var acc: UInt64 = 0
                                var s = slot + Int(fb[m])  // bin k's power is at UInt64 slot position[k]
                                while i < end {
                                    acc &+= UInt64(w[i]) &* ((power[Int(s[0])] &+ rndP) &>> shP)
                                    s += 1
                                    i &+= 1
                                }
                                sum[m] = acc
                            }
                            for m in 0..<nMels {
                                let acc = sum[m]
                                // dB * 2^7 = log2 * 2^20 * 10 log10(2) * 2^31 / 2^44, rounded.
                                let l = log2Q20Table(max(acc, 1), table) &+ eQ20  // (acc 0: any value, not used)
                                let db = Int32(truncatingIfNeeded: (l &* tenLog10TwoQ31 &+ (Int64(1) << 43)) &>> 44)
                                let v = saturatingInt16(max(db, aminQ7) &- refQ7)
                                out[m] = acc == 0 ? silent : v
                            }
                        }
                    }
                  }
                }
            }
        }
    }

    /// Writes `x[j] = round(pcm[j] * w_j / 2^r)` (w_j the Q1.30 Hann window, `FixedRealFFTV2.hannQ30`) for the
    /// frame `source[start ..< start + nFFT]` (zeros outside) into `x`, with `r` the least shift that keeps |x| <= 2^28 given the frame's peak sample
    /// (`|pcm| <= 2^b`: r = b + 2); when the result has 24 or fewer significant bits (loud samples only where
    /// the window is small), the frame is windowed again with r lowered by 28 - bits (at least 0), which keeps
    /// |x| <= 2^28. Returns (r, OR of the x's magnitudeBits), or nil when every product is 0.
    /// `fromTable` (tests): false walks the split twiddles even where the window table exists.
    @inline(__always)
    func windowFrame(source: UnsafeBufferPointer<Int16>, start: Int, into x: UnsafeMutablePointer<Int32>,
                     fromTable: Bool = true) -> (Int32, UInt32)? {
        let n = source.count
        let lo = min(nFFT, max(0, -start)), hi = max(lo, min(nFFT, n - start))
        var j = 0
        while j < lo { x[j] = 0; j &+= 1 }
        j = hi
        while j < nFFT { x[j] = 0; j &+= 1 }
        if lo == hi { return nil }
        let src = source.baseAddress! + (start + lo)
        var r = significantBits(orOfMagnitudes16(src, hi - lo)) &+ 2
        let v2 = frameV2!
        let useTable = fromTable && !v2.window.isEmpty
        return v2.window.withUnsafeBufferPointer { wb in
            v2.fft.splitTwiddles.withUnsafeBufferPointer { tb -> (Int32, UInt32)? in
                let src0 = src - lo  // src0[j] is frame sample j
                var bound: UInt32 = 0
                while true {
                    bound = useTable ? windowFromTable(src0, wb.baseAddress!, wb.baseAddress! + nFFT, x, from: lo, to: hi, shift: r)
                        : windowFromTwiddles(src0, tb.baseAddress!, x, n: nFFT, from: lo, to: hi, shift: r)
                    let bits = significantBits(bound)
                    if bits > 24 || r == 0 { break }
                    r = max(0, r &- (28 &- bits))
                }
                return bound == 0 ? nil : (r, bound)
            }
        }
    }

    /// `frameLogMel` of a version-1 frontend: its `melPower` and exact log, rounded to dB * 2^7.
    func frameLogMelVersion1(source: UnsafeBufferPointer<Int16>, start: Int, into out: UnsafeMutablePointer<Int16>,
                             scratch: UnsafeMutableRawBufferPointer) {
        let frameBytes = FixedPointMFCC.frameScratchBytes(config: config)
        precondition(scratch.count >= FixedPointMFCC.frameLogMelScratchBytes(config: config), "frame scratch too small")
        let base = scratch.baseAddress!
        let mel = (base + frameBytes).bindMemory(to: UInt64.self, capacity: nMels)
        let e = melPower(source: source, start: start, into: UnsafeMutableBufferPointer(start: mel, count: nMels),
                         scratch: UnsafeMutableRawBufferPointer(start: base, count: frameBytes))
        let shift = decibelFractionBits - logMel16FractionBits
        for m in 0..<nMels {
            let db = max(decibelsQ16(mantissa: mel[m], exponent: e), aminDb) &- refDb
            out[m] = saturatingInt16(roundingShiftRight(db, shift))
        }
    }
}

/// The OR of `magnitudeBits(Int32(p[i]))` for i in 0..<count (the frame's peak for `windowFrame`), eight samples at
/// a time: for an Int16 v, v ^ (v >> 15) is the same non-negative value (<= 32767) as the Int32 magnitude bits, so
/// the OR of the Int16 lanes, widened, is the same UInt32. Explicit SIMD because board builds are -Osize, which
/// does not vectorise the scalar loop (llvm-mca, Cortex-A72: 2 cycles per sample, 0.30 ms per segment).
@inline(__always)
func orOfMagnitudes16(_ p: UnsafePointer<Int16>, _ count: Int) -> UInt32 {
    var acc = SIMD8<Int16>()
    var i = 0
    while i &+ 8 <= count {
        let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Int16>.self)
        acc |= v ^ (v &>> 15)
        i &+= 8
    }
    var peak = UInt32(truncatingIfNeeded: UInt16(bitPattern: acc[0] | acc[1] | acc[2] | acc[3] | acc[4] | acc[5] | acc[6] | acc[7]))
    while i < count {
        peak |= magnitudeBits(Int32(p[i]))
        i &+= 1
    }
    return peak
}

/// `x[j] = round(pcm[j] * w_j / 2^r)` for j in lo..<hi (the frame's samples `pcm`) with the Q1.30 Hann window of an
/// `n`-sample frame taken from the split twiddles `tw` (`FixedRealFFTV2.hannQ30`), quarter by quarter:
/// w_j = (2^30 + 1 - sign * tw[idx]) >> 1, idx moving by step; 64-bit products. Returns the OR of the results'
/// `magnitudeBits`. The windowing of builds without the window table (`speedTables` false), and the reference of
/// `windowFromTable`.
@inline(__always)
func windowFromTwiddles(_ pcm: UnsafePointer<Int16>, _ tw: UnsafePointer<Int32>, _ x: UnsafeMutablePointer<Int32>,
                        n nf: Int, from lo: Int, to hi: Int, shift r: Int32) -> UInt32 {
    let quarter = nf / 4, half = nf / 2
    // (quarter end, idx(j) = a + b j, step = b, sign)
    @inline(__always) func quarterOf(_ q: Int) -> (end: Int, a: Int, b: Int, sign: Int64) {
        switch q {
        case 0: return (quarter + 1, 0, 2, 1)
        case 1: return (half + 1, nf, -2, -1)
        case 2: return (3 * quarter, -nf, 2, -1)
        default: return (nf, 2 * nf, -2, 1)
        }
    }
    let one: Int64 = (1 << 30) + 1
    let rnd: Int64 = r == 0 ? 0 : Int64(1) << Int64(r &- 1)
    let rr = Int64(r)
    var bound: UInt32 = 0
    var j = lo
    for qi in 0..<4 {
        let q = quarterOf(qi)
        if j >= hi || j >= q.end { continue }
        let end = min(hi, q.end), step = q.b, sign = q.sign
        var idx = q.a &+ q.b &* j
        while j < end {
            let w = (one &- sign &* Int64(tw[idx])) &>> 1
            let v = Int32(truncatingIfNeeded: (Int64(pcm[j]) &* w &+ rnd) &>> rr)
            x[j] = v
            bound |= magnitudeBits(v)
            idx &+= step
            j &+= 1
        }
    }
    return bound
}

/// `x[j] = round(pcm[j] * w_j / 2^r)` for j in lo..<hi (the frame's samples `pcm`, the Q1.30 window w_j given as the
/// Int16 pieces `wh[j] = (w_j + 2^15) >> 16` (0...2^14) and `wl[j] = w_j - 2^16 wh[j]` (-2^15..<2^15)), eight at a
/// time; returns the OR of the results' `magnitudeBits`. The same integers as the 64-bit product of the quarter walk:
/// A = pcm wh and B = pcm wl are exact in Int32 (|pcm| <= 2^15: |A| <= 2^29, |B| <= 2^30), pcm w = A 2^16 + B, and
///     floor((pcm w + 2^(r-1)) / 2^r) = A 2^(16-r) + floor((B + 2^(r-1)) / 2^r)        (r <= 16)
///                                    = floor((A + floor((B + 2^(r-1)) / 2^16)) / 2^(r-16))   (r > 16)
/// (the second: B + 2^(r-1) = q 2^16 + m with 0 <= m < 2^16, and m cannot reach the next multiple of 2^r), each
/// true value within Int32 (the caller's r <= 17 keeps |x| <= 2^28; wrapping intermediate sums end there too).
/// Both products are Int16 x Int16 -> Int32 of sign-extended lanes, which LLVM makes `pmullw` + `pmulhw` (SSE2: no
/// 32-bit lane multiply there) and `smull` / `smull2` (NEON).
@inline(__always)
func windowFromTable(_ pcm: UnsafePointer<Int16>, _ wh: UnsafePointer<Int16>, _ wl: UnsafePointer<Int16>,
                     _ x: UnsafeMutablePointer<Int32>, from lo: Int, to hi: Int, shift r: Int32) -> UInt32 {
    let rnd: Int32 = r == 0 ? 0 : Int32(1) << (r &- 1)
    let small = r <= 16
    let first = small ? 16 &- r : 0, second = small ? r : 16, last = small ? 0 : r &- 16
    @inline(__always) func one(_ p: Int32, _ h: Int32, _ l: Int32) -> Int32 {
        let a = p &* h, b = p &* l
        return ((a &<< first) &+ ((b &+ rnd) &>> second)) &>> last
    }
    let up = SIMD8<Int32>(repeating: first), down = SIMD8<Int32>(repeating: second), out = SIMD8<Int32>(repeating: last)
    let rv = SIMD8<Int32>(repeating: rnd)
    var acc = SIMD8<Int32>(repeating: 0)
    var j = lo
    while j &+ 8 <= hi {
        let p16 = UnsafeRawPointer(pcm + j).loadUnaligned(as: SIMD8<Int16>.self)
        let p = SIMD8<Int32>(truncatingIfNeeded: p16)
        let h = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(wh + j).loadUnaligned(as: SIMD8<Int16>.self))
        let l = SIMD8<Int32>(truncatingIfNeeded: UnsafeRawPointer(wl + j).loadUnaligned(as: SIMD8<Int16>.self))
        let a = p &* h, b = p &* l
        let v = ((a &<< up) &+ ((b &+ rv) &>> down)) &>> out
        UnsafeMutableRawPointer(x + j).storeBytes(of: v, as: SIMD8<Int32>.self)
        acc |= v ^ (v &>> 31)
        j &+= 8
    }
    let a4 = acc.lowHalf | acc.highHalf
    var bound = UInt32(bitPattern: a4[0] | a4[1] | a4[2] | a4[3])
    while j < hi {
        let v = one(Int32(pcm[j]), Int32(wh[j]), Int32(wl[j]))
        x[j] = v
        bound |= magnitudeBits(v)
        j &+= 1
    }
    return bound
}
