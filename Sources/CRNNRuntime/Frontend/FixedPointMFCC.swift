// FixedPointMFCC: the device's MFCC frontend in integer arithmetic (docs/fixed-point-mfcc.md), the fixed-point
// counterpart of Features.MFCCExtractor (librosa.feature.mfcc with the FeatureConfig's parameters).
//
//   int16 PCM (sample / 32768)
//   -> frames of nFFT samples every hop, centre zero padding        (Int16)
//   -> x = pcm * Hann (Q1.30, refined from the Q0.15 table)          (Int64, real = x * 2^-45)
//   -> real FFT, block floating point                                (power: UInt64 < 2^59, per-frame exponent)
//   -> mel bands over each band's non-zero span, Q0.15 weights       (UInt64 mantissa, per-frame exponent)
//   -> 10 log10, amin and ref                                        (Int32 dB * 2^16)
//   -> the segment's maximum and the top_db floor                    (Int32 dB * 2^16)
//   -> DCT-II ortho (Q0.15 table with exponent)                      (Int32 MFCC * 2^8, the network's input)
//
// Memory: the tables are made at init, only those of the model's frontend version; the DCT and the mel weights are
// read in place from the model file (`init(model:)`, like an interpreter's weights) or copied (`init(config:tables:)`);
// every call takes caller-owned scratch and allocates nothing.

/// The fixed-point MFCC of one segment, plus frame-level steps for streaming.
///
/// Example:
/// ```
/// let mfcc = try FixedPointMFCC(model: file)          // tables from the model's frontend section
/// var scratch = [UInt64](repeating: 0, count: FixedPointMFCC.scratchBytes(config: file.featureConfig) / 8)
/// // pcm: 66150 Int16 samples; out: 130 * 23 Int32 (MFCC * 256), frame-major
/// scratch.withUnsafeMutableBytes { mfcc.segment(pcm, into: out, scratch: $0) }
/// ```
///
/// Streaming: frame t of a segment covers segment samples `t * hop - nFFT/2 ..< t * hop + nFFT/2` (centre
/// padding: zeros outside the segment). Its mel power depends only on those samples, so when a window moves
/// by `d` whole hops, frame t of the new segment equals frame t + d of the old one whenever both lie inside
/// their segments: `interiorFrames` (2...127 for the paper config) are reusable, the frames touching the
/// segment's edges (0, 1, 128, 129) are not. `finishSegment` needs all frames of one segment.
public struct FixedPointMFCC: Sendable {
    public let config: FeatureConfig
    /// Frames per segment, FFT length, hop, centre padding, mel bands, coefficients, one-sided bins.
    public let frameCount: Int, nFFT: Int, hop: Int, pad: Int, nMels: Int, nMFCC: Int, binCount: Int
    /// The version-1 FFT (nil for version 2, whose frame step has its own: `frameV2`).
    let fft: FixedRealFFT?
    /// The periodic Hann window as Q1.30 (2^30 = 1), computed at init from the FFT's integer twiddles and
    /// checked against the model's Q0.15 table (which it refines: the Q0.15 rounding alone would cost up to
    /// 0.1 dB on impulsive frames, docs/fixed-point-mfcc.md §2). Version 1 only (empty for version 2, whose
    /// `windowFrame` computes the same values from its FFT's split twiddles, `hannQ30`: 8 KB less RAM).
    let window: [Int32]
    /// Per band: first bin and bin count (at most n_fft / 2 + 1 <= 8193: 16 bits, half the RAM of Int on 32-bit
    /// Arm). The weights are stored band after band, so each band's start in `weights` is the running sum of the counts.
    let bandFirst: [UInt16], bandCount: [UInt16]
    let weights: FrontendTable<UInt16>
    let melWeightExponent: Int32
    let dct: FrontendTable<Int16>
    let dctExponent: Int32
    /// Largest power value fed to the mel sums is below 2^powerBits, so that sum_k w_k P_k < 2^63.
    let powerBits: Int32
    /// 10 log10(amin), 10 log10(max(amin, ref)) and top_db, as dB * 2^16; `topDb` < 0: no floor.
    let aminDb: Int32, refDb: Int32, topDb: Int32
    /// The frontend version of the model's tables (`FrontendTables.version`): 1 keeps the log-mel as Int32
    /// dB * 2^16 up to the DCT; 2 rounds each frame's pre-floor log-mel to Int16 dB * 2^7 (`frameLogMel`), the
    /// form the streaming frontend stores and reuses (`StreamingMFCC`).
    package let version: UInt32
    /// top_db as dB * 2^7 (version 2), `round(centibels * 128 / 100)`; < 0: no floor.
    let topDbQ7: Int32
    /// The version-2 frame step's tables (radix-4 FFT, mel slots, log table: FrameLogMel.swift); nil for version 1.
    let frameV2: FrameLogMelTables?

    /// Tables in the model file's layout (`FrontendTables`); throws `badFeatureConfig` for an invalid
    /// configuration, `badFrontend` when the tables do not fit it or the configuration asks for something
    /// this frontend does not implement (only `spectrumPower == 2`).
    package init(config: FeatureConfig, tables: FrontendTables) throws(ModelError) {
        try self.init(config: config, tables: tables, inPlace: nil)
    }

    /// `inPlace`: the tables' window, mel weights and DCT in a validated model file, read there instead of from
    /// `tables` (whose arrays are then empty: no copy is made even for a moment, `ModelFile.frontendTables(copyingArrays:)`).
    init(config: FeatureConfig, tables: FrontendTables,
         inPlace: (window: UnsafePointer<Int16>, weights: UnsafePointer<UInt16>, dct: UnsafePointer<Int16>)?) throws(ModelError) {
        if config.validationProblem() != nil { throw .badFeatureConfig }
        if config.spectrumPower != 2 { throw .badFrontend("the fixed-point MFCC implements spectrum power 2 only") }
        let nFFT = Int(config.nFFT), nMels = Int(config.nMels), nMFCC = Int(config.nMFCC), bins = config.binCount
        // In place, the file's validation has checked the sizes (`ModelFile.validateFrontend`).
        var spanTotal = 0
        for span in tables.melSpans { spanTotal += Int(span.binCount) }
        let weightCount = inPlace == nil ? tables.melWeights.count : spanTotal
        func weightAt(_ i: Int) -> Int16 { inPlace.map { Int16(bitPattern: $0.weights[i]) } ?? tables.melWeights[i] }
        func windowAt(_ j: Int) -> Int16 { inPlace.map { $0.window[j] } ?? tables.window[j] }
        if tables.melSpans.count != nMels
            || (inPlace == nil && (tables.window.count != nFFT || tables.dct.count != nMFCC * nMels)) {
            throw .badFrontend("frontend table sizes disagree with the feature configuration")
        }
        if !ModelLayout.frontendTablesVersions.contains(tables.version) { throw .badFrontend("unknown frontend tables version") }
        if tables.version >= 2 && tables.dctExponent > 14 { throw .badFrontend("frontend version 2 needs a DCT exponent <= 14") }
        if tables.melWeightExponent < -16 || tables.melWeightExponent > 16 || tables.dctExponent < -16 || tables.dctExponent > 16 {
            throw .badFrontend("frontend table exponent out of range (-16...16)")
        }
        var first: [UInt16] = [], count: [UInt16] = []
        var total = 0
        var maxBandSum: UInt64 = 0
        for span in tables.melSpans {
            let f = Int(span.firstBin), c = Int(span.binCount)
            if f + c > bins { throw .badFrontend("mel band span exceeds the spectrum") }
            if total + c > weightCount { throw .badFrontend("mel weight count differs from the sum of the band spans") }
            var sum: UInt64 = 0
            for i in total..<(total + c) {
                if weightAt(i) < 0 { throw .badFrontend("mel weights must not be negative") }
                sum += UInt64(weightAt(i))
            }
            maxBandSum = max(maxBandSum, sum)
            first.append(UInt16(f)); count.append(UInt16(c))
            total += c
        }
        if total != weightCount { throw .badFrontend("mel weight count differs from the sum of the band spans") }
        self.config = config
        frameCount = config.frameCount
        self.nFFT = nFFT
        hop = Int(config.hopLength)
        pad = config.center ? nFFT / 2 : 0
        self.nMels = nMels
        self.nMFCC = nMFCC
        binCount = bins
        // Only the tables of the model's version: version 2 needs neither the version-1 FFT nor a stored window.
        let v1 = tables.version < 2
        let fft1: FixedRealFFT? = v1 ? FixedRealFFT(n: nFFT) : nil
        let v2 = v1 ? nil : FrameLogMelTables(nFFT: nFFT, bandFirst: first, bandCount: count,
                                              aminExponent: config.aminExponent, refExponent: config.refPowerExponent)
        // Hann: w[j] = (1 - cos(2 pi j / n)) / 2, from the twiddles (cos(2 pi j / n) = cos(2 pi (n - j) / n)).
        var w30 = [Int32](repeating: 0, count: v1 ? nFFT : 0)
        for j in 0..<nFFT {
            let wj: Int32
            if let f = fft1 {
                let c = Int64(f.cosQ30[j <= nFFT / 2 ? j : nFFT - j])
                wj = Int32(truncatingIfNeeded: ((Int64(1) << 30) - c + 1) >> 1)
                w30[j] = wj
            } else {
                wj = v2!.fft.hannQ30(j)
            }
            let q15 = min(32767, (Int64(wj) + (1 << 14)) >> 15)
            let d = q15 - Int64(windowAt(j))
            if d > 1 || d < -1 { throw .badFrontend("the window table is not the periodic Hann window of the feature configuration") }
        }
        fft = fft1
        window = w30
        bandFirst = first; bandCount = count
        if let p = inPlace {
            weights = FrontendTable(owned: [0], inPlace: p.weights)
            dct = FrontendTable(owned: [0], inPlace: p.dct)
        } else {
            var w = [UInt16](repeating: 0, count: max(total, 1))
            for i in 0..<total { w[i] = UInt16(bitPattern: tables.melWeights[i]) }
            weights = FrontendTable(owned: w, inPlace: nil)
            dct = FrontendTable(owned: tables.dct, inPlace: nil)
        }
        melWeightExponent = tables.melWeightExponent
        dctExponent = tables.dctExponent
        powerBits = min(59, 63 - Int32(64 - maxBandSum.leadingZeroBitCount))
        let dbUnit: Int64 = 10 << 16  // 10 dB per decade, Q16
        aminDb = Int32(truncatingIfNeeded: Int64(config.aminExponent) * dbUnit)
        refDb = Int32(truncatingIfNeeded: Int64(max(config.refPowerExponent, config.aminExponent)) * dbUnit)
        topDb = config.topDbCentibels == 0 ? -1 : Int32(truncatingIfNeeded: (Int64(config.topDbCentibels) * 65536 + 50) / 100)
        topDbQ7 = config.topDbCentibels == 0 ? -1 : Int32(truncatingIfNeeded: (Int64(config.topDbCentibels) * 128 + 50) / 100)
        version = tables.version
        frameV2 = v2
        if config.aminExponent < -90 || config.aminExponent > 90 || config.refPowerExponent < -90 || config.refPowerExponent > 90 {
            throw .badFrontend("amin or ref exponent out of the fixed-point frontend's range (-90...90)")
        }
    }

    /// The frontend of a model file: its feature configuration and frontend-tables section
    /// (`badFrontend` when the file has none). The DCT and the mel weights are read in place: as for an
    /// interpreter, the caller keeps the model's bytes alive and unchanged while this value is used.
    public init(model: ModelFile) throws(ModelError) {
        guard let tables = model.frontendTables(copyingArrays: false) else { throw .badFrontend("the model file has no frontend tables") }
        try self.init(config: model.featureConfig, tables: tables, inPlace: model.frontendTablesInPlace())
    }

    // MARK: Memory

    /// Scratch bytes of one frame (`melPower`): the power spectrum, the windowed frame and the FFT's work.
    static func frameScratchBytes(config: FeatureConfig) -> Int {
        8 * config.binCount + 8 * Int(config.nFFT) + FixedRealFFT.workBytes(n: Int(config.nFFT))
    }

    /// Scratch bytes of `segment` and `segmentLogMel`: one frame's scratch, the mel powers and exponents of
    /// every frame, and the log-mel spectrogram, rounded up to a multiple of 8: 232,976 bytes for the paper config.
    /// The memory must be 8-byte aligned.
    package static func scratchBytes(config: FeatureConfig) -> Int {
        let fm = config.frameCount * Int(config.nMels)
        return (frameScratchBytes(config: config) + 8 * fm + 4 * config.frameCount + 4 * fm + 7) / 8 * 8
    }

    /// Scratch bytes `segment` and `segmentLogMel` need for this frontend's version: `scratchBytes(config:)`
    /// for version 1; one frame's scratch and the Int16 log-mel of every frame for version 2 (41,480 bytes for the paper
    /// config). The static `scratchBytes(config:)` is enough for either version.
    package var segmentScratchBytes: Int {
        if version < 2 { return FixedPointMFCC.scratchBytes(config: config) }
        return (frameLogMelWorkBytes + 2 * frameCount * nMels + 7) / 8 * 8
    }

    /// Frames whose mel power can be reused when the segment window moves by whole hops (see the type's doc):
    /// those lying entirely inside the segment. Empty when none does.
    var interiorFrames: Range<Int> {
        let lo = (pad + hop - 1) / hop
        let n = Int(config.segmentSamples)
        let hi = n >= nFFT - pad ? min(frameCount, (n - nFFT + pad) / hop + 1) : 0
        return lo < hi ? lo..<hi : lo..<lo
    }

    // MARK: Frame level

    /// Mel power of one frame of exactly `nFFT` samples (no padding applied), a version-1 frontend's frame step
    /// (which a version-2 frontend runs only slowly, making version 1's FFT tables per call):
    /// `mel[m] * 2^exponent` is the power of band m in (sample / 32768)^2 units; returns the exponent.
    /// `mel` holds `nMels` values; `scratch` `frameScratchBytes(config:)` bytes, 8-byte aligned.
    func melPower(frame samples: UnsafeBufferPointer<Int16>, into mel: UnsafeMutableBufferPointer<UInt64>,
                         scratch: UnsafeMutableRawBufferPointer) -> Int32 {
        precondition(samples.count == nFFT, "a frame has nFFT samples")
        return melPower(source: samples, start: 0, into: mel, scratch: scratch)
    }

    /// Mel power of frame `frameIndex` (0..<frameCount) of a segment (`segmentSamples` samples), with the
    /// configuration's centre zero padding; otherwise as `melPower(frame:into:scratch:)`.
    func melPower(segment pcm: UnsafeBufferPointer<Int16>, frameIndex t: Int,
                         into mel: UnsafeMutableBufferPointer<UInt64>, scratch: UnsafeMutableRawBufferPointer) -> Int32 {
        precondition(pcm.count == Int(config.segmentSamples), "segment length differs from the feature config")
        precondition(t >= 0 && t < frameCount, "frame index out of range")
        return melPower(source: pcm, start: t * hop - pad, into: mel, scratch: scratch)
    }

    /// Frame = source[start ..< start + nFFT], zeros outside `source`.
    func melPower(source: UnsafeBufferPointer<Int16>, start: Int, into mel: UnsafeMutableBufferPointer<UInt64>,
                  scratch: UnsafeMutableRawBufferPointer) -> Int32 {
        precondition(mel.count >= nMels, "mel output holds nMels values")
        precondition(scratch.count >= FixedPointMFCC.frameScratchBytes(config: config), "frame scratch too small")
        let base = scratch.baseAddress!
        precondition(UInt(bitPattern: base) & 7 == 0, "scratch must be 8-byte aligned")
        let power = base.bindMemory(to: UInt64.self, capacity: binCount)
        let frame = (base + 8 * binCount).bindMemory(to: Int64.self, capacity: nFFT)
        let work = (base + 8 * binCount + 8 * nFFT).bindMemory(to: Int32.self, capacity: nFFT)
        let n = source.count
        let lo = max(0, -start), hi = min(nFFT, n - start)
        window.withUnsafeBufferPointer { wb in
            var i = 0
            while i < lo && i < nFFT { frame[i] = 0; i &+= 1 }
            if lo < hi {
                let src = source.baseAddress! + (start + lo)
                i = lo
                if let w = wb.baseAddress, wb.count == nFFT {
                    while i < hi { frame[i] = Int64(src[i &- lo]) &* Int64(w[i]); i &+= 1 }
                } else {  // a version-2 frontend keeps no window table: the same values from its twiddles
                    let fft2 = frameV2!.fft
                    while i < hi { frame[i] = Int64(src[i &- lo]) &* Int64(fft2.hannQ30(i)); i &+= 1 }
                }
            }
            i = max(lo, hi)
            while i < nFFT { frame[i] = 0; i &+= 1 }
        }
        // |X_k|^2 in units of x = pcm * window_q30: real power = power * 2^(e - 90). A version-2 frontend keeps no
        // version-1 FFT: it makes one here (tests compare the two versions' frame steps; nothing else runs this).
        let fft1 = fft ?? FixedRealFFT(n: nFFT)
        let e = fft1.powerSpectrum(frame, into: power, work: work)
        var orAll: UInt64 = 0
        for k in 0..<binCount { orAll |= power[k] }
        if orAll == 0 {
            for m in 0..<nMels { mel[m] = 0 }
            return 0
        }
        let p = max(0, Int32(64 - orAll.leadingZeroBitCount) - powerBits)
        if p > 0 {
            let rnd = UInt64(1) << UInt64(p - 1)
            let sh = UInt64(p)
            for k in 0..<binCount { power[k] = (power[k] &+ rnd) &>> sh }
        }
        weights.withPointer { w in
            bandFirst.withUnsafeBufferPointer { fb in
                bandCount.withUnsafeBufferPointer { cb in
                    var ww = w
                    for m in 0..<nMels {
                        let pw = power + Int(fb[m])
                        var acc: UInt64 = 0
                        var k = 0
                        let c = Int(cb[m])
                        while k < c { acc &+= UInt64(ww[k]) &* pw[k]; k &+= 1 }
                        mel[m] = acc
                        ww += c
                    }
                }
            }
        }
        return e &- 90 &+ p &+ melWeightExponent &- 15
    }

    // MARK: Segment level

    /// Log-mel spectrogram in dB * 2^16 (`frameCount * nMels`, frame-major) from the mel powers of every frame
    /// of one segment (`melPower` frame-major, `exponents` one per frame): `10 log10(max(amin, P)) -
    /// 10 log10(max(amin, ref))`, then the floor `max(dB, max over the segment - top_db)`.
    /// This is librosa's `power_to_db(mel, ref=1.0, amin=1e-10, top_db=80)` with the maximum of this segment.
    func logMelDecibels(melPower: UnsafeBufferPointer<UInt64>, exponents: UnsafeBufferPointer<Int32>,
                               into db: UnsafeMutableBufferPointer<Int32>) {
        let total = frameCount * nMels
        precondition(melPower.count >= total && exponents.count >= frameCount && db.count >= total)
        var maxDb = Int32.min
        var i = 0
        for t in 0..<frameCount {
            let e = exponents[t]
            for _ in 0..<nMels {
                let v = max(decibelsQ16(mantissa: melPower[i], exponent: e), aminDb) &- refDb
                db[i] = v
                maxDb = max(maxDb, v)
                i &+= 1
            }
        }
        if topDb < 0 { return }
        let floor = maxDb &- topDb
        for j in 0..<total where db[j] < floor { db[j] = floor }
    }

    /// MFCCs as Int32 * 2^-8 (`frameCount * nMFCC`, frame-major) from a log-mel spectrogram in dB * 2^16:
    /// `out[t][k] = round(sum_m D[k][m] * db[t][m] / 2^(23 - e_dct))` (64-bit sums, one rounding, saturated).
    package func mfcc(logMel db: UnsafeBufferPointer<Int32>, into out: UnsafeMutableBufferPointer<Int32>) {
        precondition(db.count >= frameCount * nMels && out.count >= frameCount * nMFCC)
        let shift = 15 + decibelFractionBits - mfccFractionBits - dctExponent  // 7...39
        dct.withPointer { d in
            let x = db.baseAddress!
            for t in 0..<frameCount {
                let row = x + t &* nMels
                for k in 0..<nMFCC {
                    let coef = d + k &* nMels
                    var acc: Int64 = 0
                    var m = 0
                    while m < nMels { acc &+= Int64(coef[m]) &* Int64(row[m]); m &+= 1 }
                    out[t &* nMFCC &+ k] = saturatingInt32(roundingShiftRight(acc, shift))
                }
            }
        }
    }

    /// The finishing steps of a segment: `logMelDecibels` into `logMelScratch` (`frameCount * nMels` Int32), then
    /// `mfcc`. The streaming caller's entry point once it holds the mel powers of all the segment's frames.
    func finishSegment(melPower: UnsafeBufferPointer<UInt64>, exponents: UnsafeBufferPointer<Int32>,
                              logMelScratch: UnsafeMutableBufferPointer<Int32>, into out: UnsafeMutableBufferPointer<Int32>) {
        logMelDecibels(melPower: melPower, exponents: exponents, into: logMelScratch)
        mfcc(logMel: UnsafeBufferPointer(logMelScratch), into: out)
    }

    /// MFCCs of one segment (`segmentSamples` Int16 samples, sample / 32768) into `out` (`frameCount * nMFCC`
    /// Int32 in units of 2^-8, frame-major). `scratch`: `scratchBytes(config:)` bytes, 8-byte aligned.
    public func segment(_ pcm: UnsafeBufferPointer<Int16>, into out: UnsafeMutableBufferPointer<Int32>,
                        scratch: UnsafeMutableRawBufferPointer) {
        if version >= 2 { segment16(pcm, into: out, scratch: scratch); return }
        let db = segmentLogMel(pcm, scratch: scratch)
        mfcc(logMel: UnsafeBufferPointer(db), into: out)
    }

    /// The log-mel spectrogram (dB * 2^16, `frameCount * nMels`, frame-major) of one segment, for debugging:
    /// the values `segment` feeds to the DCT.
    package func segmentLogMel(_ pcm: UnsafeBufferPointer<Int16>, into db: UnsafeMutableBufferPointer<Int32>,
                              scratch: UnsafeMutableRawBufferPointer) {
        precondition(db.count >= frameCount * nMels)
        if version >= 2 { segmentLogMel16(pcm, into: db, scratch: scratch); return }
        let r = segmentLogMel(pcm, scratch: scratch)
        for i in 0..<(frameCount * nMels) { db[i] = r[i] }
    }

    /// Computes the log-mel spectrogram into the scratch's log-mel region and returns that region.
    func segmentLogMel(_ pcm: UnsafeBufferPointer<Int16>, scratch: UnsafeMutableRawBufferPointer) -> UnsafeMutableBufferPointer<Int32> {
        precondition(pcm.count == Int(config.segmentSamples), "segment length differs from the feature config")
        precondition(scratch.count >= FixedPointMFCC.scratchBytes(config: config), "segment scratch too small")
        let base = scratch.baseAddress!
        precondition(UInt(bitPattern: base) & 7 == 0, "scratch must be 8-byte aligned")
        let fm = frameCount * nMels
        let frameBytes = FixedPointMFCC.frameScratchBytes(config: config)
        let frameScratch = UnsafeMutableRawBufferPointer(start: base, count: frameBytes)
        let mel = (base + frameBytes).bindMemory(to: UInt64.self, capacity: fm)
        let exps = (base + frameBytes + 8 * fm).bindMemory(to: Int32.self, capacity: frameCount)
        let db = (base + frameBytes + 8 * fm + 4 * frameCount).bindMemory(to: Int32.self, capacity: fm)
        for t in 0..<frameCount {
            exps[t] = melPower(source: pcm, start: t * hop - pad,
                               into: UnsafeMutableBufferPointer(start: mel + t * nMels, count: nMels), scratch: frameScratch)
        }
        let out = UnsafeMutableBufferPointer(start: db, count: fm)
        logMelDecibels(melPower: UnsafeBufferPointer(start: mel, count: fm),
                       exponents: UnsafeBufferPointer(start: exps, count: frameCount), into: out)
        return out
    }
}

/// A table the frontend reads: in place in the model file (`FixedPointMFCC(model:)`: no RAM; the model's bytes
/// outlive the frontend, as they outlive an interpreter) or an array of its own (at least one element).
struct FrontendTable<T>: @unchecked Sendable {
    let owned: [T]
    let inPlace: UnsafePointer<T>?

    @inline(__always) func withPointer<R>(_ body: (UnsafePointer<T>) -> R) -> R {
        if let p = inPlace { return body(p) }
        return owned.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
