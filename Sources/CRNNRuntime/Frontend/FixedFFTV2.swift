// FixedFFTV2: the real FFT of frontend version 2 (docs/fixed-point-mfcc.md §12). Integer only, bit-exact on
// every architecture, in place in n + 2 Int32 (8,200 bytes for n = 2048).
//
// A real frame of n samples (n a power of two, 16...16384) is read as n/2 complex values
// z[m] = x[2m] + i x[2m+1] (the samples in their natural order: no packing pass) and transformed by a
// decimation-in-frequency FFT of n/2 points: radix-4 stages, plus one radix-2 stage when log2(n/2) is odd. The
// output lies in mixed-radix digit-reversed order (`slot`). The real-FFT split is fused with the power
// spectrum: one pass reads Z_k and Z_{n/2-k}, makes X_k and X_{n/2-k} with one complex multiply and writes
// |X_k|^2 and |X_{n/2-k}|^2 as UInt64 over the two complex values it read (bin n/2 goes to one extra slot).
//
// Block floating point: every stage's input components are bounded by 2^28 (|c| <= 2^28); a radix-4 butterfly
// grows a component at most by 4 sqrt(2) = 2^2.5, so with a stage bound of 2^B the stage shifts its outputs right
// by s = max(0, B - 25) (one rounding per output, ties toward +infinity) and they are again <= 2^28. The
// butterfly sums stay in Int32 (4 * 2^28 = 2^30); twiddle products are Int64 (Q1.30 twiddles: < 2^61; the radix-4
// ones clamped to +-(2^30 - 1) so that they split into two Int16 halves: FixedFFTV2SSE2.swift computes the same
// products exactly from 16 x 16-bit pieces with SSE2 `pmaddwd`).
// `B` comes from an OR of the outputs' magnitudes made while the previous stage writes them.

/// The version-2 fixed-point real FFT of length `n`: tables made at init, no allocation when transforming.
///
/// Example:
/// ```
/// let fft = FixedRealFFTV2(n: 2048)
/// // work: 2050 Int32 (8-byte aligned), the frame's 2048 samples in work[0..<2048], each |x| <= 2^28
/// let e = fft.powerSpectrum(work, bound: orOfMagnitudes)
/// // |X_k|^2 = UInt64 slot `fft.slot(k)` of `work` * 2^e.power, for k in 0...1024
/// ```
struct FixedRealFFTV2: Sendable {
    /// Real transform length, complex length n / 2.
    let n: Int, half: Int
    /// Complex lengths of the radix-4 stages that multiply by twiddles (L >= 8), first to last.
    let stageLengths: [Int]
    /// Per twiddle stage, per butterfly j in 0..<L/4: cos, sin of 2 pi j r / L for r = 1, 2, 3, Q1.30
    /// clamped to +-(2^30 - 1) (W^{jr} = cos - i sin); stages concatenated in `stageLengths` order.
    let stageTwiddles: [Int32]
    /// The same twiddles in the selected vector kernel's layout (`packTwiddlePair`: x86 Int16 halves, 48 Int16 per
    /// pair of butterflies, each stage's pairs grouped by up to four (`fftV2GroupTwiddlePairs`); NEON doubled Int32
    /// vectors, 48); a single 0 when the selected kernel does not read them (`readsPackedTwiddles`).
    let packedTwiddles: [Int16]
    /// The last stage: a radix-4 without twiddles (L = 4) or a radix-2 (L = 2).
    let lastIsRadix2: Bool
    /// cos, sin (2 pi k / n), k in 0...n/4, Q1.30: the split's twiddles.
    let splitTwiddles: [Int32]
    /// Position of Z_k in the transformed data (complex index), k in 0..<n/2; entry n/2 is bin n/2's extra slot
    /// (n/2), so that `position[k]` is `slot(k)` for every bin.
    let position: [UInt16]

    /// `generatedTables`: for n = 2048 (every shipped model) take the stage and split twiddles and the digit-reversal
    /// positions from FixedFFTV2Tables2048.swift (statically initialized constants: read-only memory, flash on a
    /// microcontroller, instead of 14 KB built in RAM) unless the selected stage kernel needs the packed table built
    /// from them. The same values either way (FixedPointMFCCVersion2Tests.testGeneratedTablesEqualTheConstruction).
    init(n: Int, generatedTables: Bool = true) {
        precondition(n >= 16 && n <= 16384 && n & (n - 1) == 0, "FFT length must be a power of two in 16...16384")
        self.n = n
        half = n / 2
        if generatedTables && n == 2048 && !FFTSelectedRadix4Kernel.readsPackedTwiddles {
            stageLengths = [1024, 256, 64, 16]
            stageTwiddles = fftV2StageTwiddles2048
            packedTwiddles = [0]
            lastIsRadix2 = false
            splitTwiddles = fftV2SplitTwiddles2048
            position = fftV2Positions2048
            return
        }
        let tw = fixedTwiddlesQ30(n: n)  // cos, sin (2 pi k / n), k in 0...n/2
        // cos, sin (2 pi k / n) for any k in 0..<n from the half table.
        func cs(_ k: Int) -> (Int32, Int32) {
            let k = k % n
            return k <= n / 2 ? (tw.cos[k], tw.sin[k]) : (tw.cos[n - k], -tw.sin[n - k])
        }
        // The radix-4 twiddles: Q1.30 clamped to +-(2^30 - 1), so that the high half c >> 15 is an Int16.
        func q30(_ v: Int32) -> Int32 { fftV2ClampQ30(v) }
        var lengths: [Int] = [], table: [Int32] = [], packed: [Int16] = []
        // Exact capacities: growing by appends would leave freed blocks behind (a microcontroller's heap keeps them).
        var twiddleCount = 0, lc = n / 2
        while lc >= 8 { twiddleCount += 6 * (lc / 4); lc /= 4 }
        table.reserveCapacity(twiddleCount)
        var l = n / 2
        while l >= 8 {
            lengths.append(l)
            let q = l / 4, step = n / l  // 2 pi j r / L = 2 pi (j r step) / n
            for j in 0..<q {
                for r in 1...3 {
                    let (c, s) = cs(j * r * step)
                    table.append(q30(c)); table.append(q30(s))
                }
            }
            // The selected vector kernel's layout (`FFTRadix4StageKernel.packTwiddlePair`), per pair of butterflies
            // (j, j + 1) and r = 1, 2, 3. Not made at all when no kernel reads it (the table would count in a
            // microcontroller's heap high-water mark even if freed at once).
            let partStart = packed.count
            for j in stride(from: 0, to: FFTSelectedRadix4Kernel.readsPackedTwiddles ? q : 0, by: 2) {
                for r in 1...3 {
                    let (c0, s0) = cs(j * r * step), (c1, s1) = cs((j + 1) * r * step)
                    FFTSelectedRadix4Kernel.packTwiddlePair(q30(c0), q30(s0), q30(c1), q30(s1), into: &packed)
                }
            }
            if FFTSelectedRadix4Kernel.groupsTwiddlePairs && packed.count > partStart {
                fftV2GroupTwiddlePairs(&packed, from: partStart, pairs: q / 2)
            }
            l /= 4
        }
        stageLengths = lengths
        stageTwiddles = table
        // Only a vector kernel reads the packed table (16 KB for n = 2048): the portable build keeps one element.
        packedTwiddles = FFTSelectedRadix4Kernel.readsPackedTwiddles ? packed : [0]
        lastIsRadix2 = l == 2
        var split: [Int32] = []
        split.reserveCapacity(2 * (n / 4 + 1))
        for k in 0...(n / 4) { let (c, s) = cs(k); split.append(c); split.append(s) }
        splitTwiddles = split
        // Digit reversal: pos_L(k) = (k mod r) (L / r) + pos_{L/r}(k / r), r = 4 except r = 2 for L = 2.
        var pos = [UInt16](repeating: UInt16(truncatingIfNeeded: n / 2), count: n / 2 + 1)
        for k in 0..<(n / 2) {
            var p = 0, kk = k, len = n / 2
            while len > 1 {
                let r = len == 2 ? 2 : 4
                p += (kk % r) * (len / r)
                kk /= r
                len /= r
            }
            pos[k] = UInt16(truncatingIfNeeded: p)
        }
        position = pos
    }

    /// The periodic Hann window `w_j = (2^30 - cos(2 pi j / n) + 1) >> 1` (Q1.30, j in 0..<n) from `splitTwiddles`
    /// (cos(2 pi j / n) = cos(2 pi (n - j) / n) = -cos(2 pi (n/2 - j) / n)): the values of version 1's window
    /// table (`FixedPointMFCC.window`, from the same integer twiddles), with no table of their own.
    /// `windowFromTwiddles` (FrameLogMel.swift) walks the same four quarters.
    func hannQ30(_ j: Int) -> Int32 {
        let k = j <= half ? j : n - j
        let c = k <= n / 4 ? Int64(splitTwiddles[2 * k]) : -Int64(splitTwiddles[2 * (half - k)])
        return Int32(truncatingIfNeeded: ((Int64(1) << 30) - c + 1) >> 1)
    }

    /// Int32 elements of the work memory: the n samples plus one extra complex slot for bin n/2's power.
    static func workCount(n: Int) -> Int { n + 2 }

    /// The UInt64 slot of `work` that holds bin k's power after `powerSpectrum`, k in 0...n/2.
    @inline(__always) func slot(_ k: Int) -> Int { Int(position[k]) }

    /// Power spectrum of the real frame in `work[0..<n]` (each |x| <= 2^28; `bound` = OR of the samples'
    /// `magnitudeBits`, nonzero), in place: afterwards the UInt64 at slot `slot(k)` of `work` (8-byte aligned,
    /// `workCount(n:)` Int32) is `power_k`, with `|X_k|^2 = power_k * 2^exponent`, X the exact DFT of x, each
    /// `power_k < 2^59`. Returns (exponent, OR of all power_k).
    func powerSpectrum(_ work: UnsafeMutablePointer<Int32>, bound: UInt32) -> (exponent: Int32, or: UInt64) {
        var acc = bound
        var shift: Int32 = 0
        stageTwiddles.withUnsafeBufferPointer { tb in
            packedTwiddles.withUnsafeBufferPointer { pb in
                var t = tb.baseAddress!, p = pb.baseAddress!
                for l in stageLengths {
                    let s = max(0, significantBits(acc) &- 25)
                    shift &+= s
                    acc = FFTSelectedRadix4Kernel.stage(work, half: half, length: l, twiddles: t, packed: p, shift: s)
                    t += 6 &* (l / 4)
                    p += FFTSelectedRadix4Kernel.packedPerButterfly &* (l / 4)
                }
            }
        }
        if lastIsRadix2 {
            let s = max(0, significantBits(acc) &- 27)  // outputs at most double: <= 2^28 again
            shift &+= s
            radix2Last(work, shift: s)
        } else {
            let s = max(0, significantBits(acc) &- 25)
            shift &+= s
            radix4Last(work, shift: s)
        }
        let or = splitPower(work)
        return (2 &* shift, or)
    }

    /// The last radix-4 stage (L = 4, all twiddles 1), outputs shifted right by `s` with one rounding.
    @inline(__always)
    func radix4Last(_ z: UnsafeMutablePointer<Int32>, shift s: Int32) {
        // Four lanes at a time (SIMD4: SSE2 / NEON registers, plain Int32 arithmetic on the others), the same sums:
        // a = (x0, x1), b = (x2, x3); sum = (s02, s13), dif = (d02, d13);
        // (y0, y2) = (s02 + s13, s02 - s13), (y1, y3) = (d02 + (d13i, -d13r), d02 - (d13i, -d13r)).
        let rnd = SIMD4<Int32>(repeating: s == 0 ? 0 : Int32(1) << (s &- 1)), sh = SIMD4<Int32>(repeating: s)
        var g = 0
        while g < half {
            let p = UnsafeMutableRawPointer(z + 2 &* g)
            let a = p.loadUnaligned(as: SIMD4<Int32>.self), b = p.loadUnaligned(fromByteOffset: 16, as: SIMD4<Int32>.self)
            let sum = a &+ b, dif = a &- b
            let y02 = SIMD4(sum[0], sum[1], sum[0], sum[1]) &+ SIMD4(sum[2], sum[3], 0 &- sum[2], 0 &- sum[3])
            let y13 = SIMD4(dif[0], dif[1], dif[0], dif[1]) &+ SIMD4(dif[3], 0 &- dif[2], 0 &- dif[3], dif[2])
            let o0 = (SIMD4(y02[0], y02[1], y13[0], y13[1]) &+ rnd) &>> sh
            let o1 = (SIMD4(y02[2], y02[3], y13[2], y13[3]) &+ rnd) &>> sh
            p.storeBytes(of: o0, as: SIMD4<Int32>.self)
            p.storeBytes(of: o1, toByteOffset: 16, as: SIMD4<Int32>.self)
            g &+= 4
        }
    }

    /// The last stage as radix-2 (L = 2): (a + b, a - b), shifted right by `s` with one rounding.
    @inline(__always)
    func radix2Last(_ z: UnsafeMutablePointer<Int32>, shift s: Int32) {
        let rnd: Int32 = s == 0 ? 0 : Int32(1) << (s &- 1)
        var g = 0
        while g < half {
            let p = z + 2 &* g
            let ar = p[0], ai = p[1], br = p[2], bi = p[3]
            p[0] = (ar &+ br &+ rnd) &>> s; p[1] = (ai &+ bi &+ rnd) &>> s
            p[2] = (ar &- br &+ rnd) &>> s; p[3] = (ai &- bi &+ rnd) &>> s
            g &+= 2
        }
    }

    /// The real-FFT split fused with the power: for k in 0...n/4, with Z_k (components <= 2^28) and
    /// Z_{n/2-k}: A = Z_k + conj Z_{n/2-k}, B = Z_k - conj Z_{n/2-k}, T = W^k (-i B) (W = e^(-2 pi i / n));
    /// X_k = (A + T) / 2 and X_{n/2-k} = conj(A - T) / 2, each component rounded once (`>> 31`, ties toward
    /// +infinity) and below 2^29.5; the powers re^2 + im^2 < 2^59 overwrite the two complex values read
    /// (bin n/2's power goes to slot n/2; for k = n/4 only X_k is made). Returns the OR of the powers.
    /// The stage kernel may take four k at a time (`FFTRadix4StageKernel.splitPowerFour`, where it has a vector
    /// path: AVX2, NEON); the ends, and every k with the others, go one at a time (`splitPowerOne`, the
    /// reference). The same integers either way.
    @inline(__always)
    func splitPower(_ z: UnsafeMutablePointer<Int32>) -> UInt64 { splitPower(z, kernel: FFTSelectedRadix4Kernel.self) }

    /// `splitPower` with the split path of stage kernel `K`.
    @inline(__always)
    func splitPower<K: FFTRadix4StageKernel>(_ z: UnsafeMutablePointer<Int32>, kernel: K.Type) -> UInt64 {
        splitTwiddles.withUnsafeBufferPointer { tb in
            position.withUnsafeBufferPointer { pb in
                let tw = tb.baseAddress!, pos = pb.baseAddress!
                let quarter = half / 2
                var orAll = splitPowerOne(z, tw, pos, k: 0) | splitPowerOne(z, tw, pos, k: quarter)
                if K.groupedSplit && !lastIsRadix2 && half >= 16 {
                    // Every middle k but m/2, m and 3m/2 (m = n/8) in groups of four (`splitPowerGroupPair`).
                    let m = half / 4
                    var acc = SIMD4<UInt64>()
                    var r = 1
                    while r < m / 2 {
                        acc |= K.splitPowerGroupPair(self, z, tw, pos, r: r)
                        r &+= 1
                    }
                    orAll |= acc[0] | acc[1] | acc[2] | acc[3]
                    orAll |= splitPowerMiddle(z, tw, pos, k: m / 2) | splitPowerMiddle(z, tw, pos, k: m)
                    return orAll | splitPowerMiddle(z, tw, pos, k: 3 &* m / 2)
                }
                var k = 1
                if K.vectorSplit {
                    var acc = SIMD4<UInt64>()
                    while k &+ 4 <= quarter {
                        acc |= K.splitPowerFour(self, z, tw, pos, k: k)
                        k &+= 4
                    }
                    orAll |= acc[0] | acc[1] | acc[2] | acc[3]
                }
                while k < quarter {
                    orAll |= splitPowerMiddle(z, tw, pos, k: k)
                    k &+= 1
                }
                return orAll
            }
        }
    }

    /// The split and power of one k in 0...n/4 (`splitPower`); returns the OR of the powers it wrote.
    @inline(__always)
    func splitPowerOne(_ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>, _ pos: UnsafePointer<UInt16>,
                       k: Int) -> UInt64 {
        let power = UnsafeMutableRawPointer(z).assumingMemoryBound(to: UInt64.self)
        let rnd = Int64(1) << 30
        let quarter = half / 2
        let ia = Int(pos[k]), ib = k == 0 ? 0 : Int(pos[half &- k])
        let zr = Int64(z[2 &* ia]), zi = Int64(z[2 &* ia &+ 1])
        let mr = Int64(z[2 &* ib]), mi = Int64(z[2 &* ib &+ 1])
        let ar = (zr &+ mr) << 30, ai = (zi &- mi) << 30, br = zr &- mr, bi = zi &+ mi
        let c = Int64(tw[2 &* k]), s = Int64(tw[2 &* k &+ 1])
        // T = (c - i s)(bi - i br) = (c bi - s br) + i (-c br - s bi)
        let tr = c &* bi &- s &* br, ti = 0 &- c &* br &- s &* bi
        let xr = (ar &+ tr &+ rnd) &>> 31, xi = (ai &+ ti &+ rnd) &>> 31
        let pk = UInt64(bitPattern: xr &* xr &+ xi &* xi)
        if k == quarter {
            power[ia] = pk
            return pk
        }
        let yr = (ar &- tr &+ rnd) &>> 31, yi = (ai &- ti &+ rnd) &>> 31
        let pm = UInt64(bitPattern: yr &* yr &+ yi &* yi)
        power[ia] = pk
        power[k == 0 ? half : ib] = pm
        return pk | pm
    }

    /// `splitPowerOne` for 1 <= k < n/4 (neither end: both slots are Z_k's and Z_{n/2-k}'s own), without its end
    /// cases and with the rounding folded into A: the same integers, fewer instructions in the scalar loop
    /// (x86-64: 57 -> 52 per k in the SSE2 build).
    @inline(__always)
    func splitPowerMiddle(_ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>, _ pos: UnsafePointer<UInt16>,
                          k: Int) -> UInt64 {
        let power = UnsafeMutableRawPointer(z).assumingMemoryBound(to: UInt64.self)
        let ia = Int(pos[k]), ib = Int(pos[half &- k])
        let zr = Int64(z[2 &* ia]), zi = Int64(z[2 &* ia &+ 1])
        let mr = Int64(z[2 &* ib]), mi = Int64(z[2 &* ib &+ 1])
        let ar = ((zr &+ mr) << 30) &+ (1 << 30), ai = ((zi &- mi) << 30) &+ (1 << 30)
        let br = zr &- mr, bi = zi &+ mi
        let c = Int64(tw[2 &* k]), s = Int64(tw[2 &* k &+ 1])
        let tr = c &* bi &- s &* br, nti = c &* br &+ s &* bi  // T = (tr, -nti)
        let xr = (ar &+ tr) &>> 31, xi = (ai &- nti) &>> 31
        let yr = (ar &- tr) &>> 31, yi = (ai &+ nti) &>> 31
        let pk = UInt64(bitPattern: xr &* xr &+ xi &* xi), pm = UInt64(bitPattern: yr &* yr &+ yi &* yi)
        power[ia] = pk
        power[ib] = pm
        return pk | pm
    }

    /// The split and power of the four k = r, r + m, 2m - r, m - r (m = n/8, 1 <= r < m/2) when every radix is 4
    /// (n/2 a power of 4, `lastIsRadix2` false): the same integers as `splitPowerOne` of each k. Then the slot of
    /// k = r + m d (d = 0...3) is slot(r) + d (the digit reversal moves k's top base-4 digit d to the bottom), and
    /// n/2 - (r + m d) = (m - r) + m (3 - d): the slots of the two groups hold exactly these four k and their
    /// n/2 - k, four consecutive slots each, which a vector kernel loads and stores whole
    /// (`FFTRadix4StageKernel.splitPowerGroupPair`). Returns the OR of the eight powers lane by lane.
    @inline(__always)
    func splitPowerGroupPairScalar(_ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                                   _ pos: UnsafePointer<UInt16>, r: Int) -> SIMD4<UInt64> {
        let m = half / 4
        return SIMD4(splitPowerMiddle(z, tw, pos, k: r), splitPowerMiddle(z, tw, pos, k: r &+ m),
                     splitPowerMiddle(z, tw, pos, k: 2 &* m &- r), splitPowerMiddle(z, tw, pos, k: m &- r))
    }

    /// `splitPowerOne` for k ..< k + 4 (1 <= k, k + 3 < n/4) in 64-bit Swift SIMD lanes. No kernel takes it now (the
    /// AVX2 kernel has its own pair-lane split, NEON its `sqdmull` one; SSE2 has no signed 32 x 32 -> 64 multiply):
    /// it stays as the portable four-lane form that testSplitPowerPathsAgreeBitForBit checks in every build. The
    /// eight complex values are read
    /// before any power is written (each slot belongs to one k), then the same sums and products. The components
    /// (`>> 31` of sums < 2^61) fit in Int32, so they are truncated to 32-bit lanes (the shift's low 32 bits are
    /// the same arithmetic or logical) and squared as sign-extended 32-bit values (`pmuldq`, `smull`).
    @inline(__always)
    func splitPowerFourLanes(_ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>, _ pos: UnsafePointer<UInt16>,
                             k: Int) -> SIMD4<UInt64> {
        let power = UnsafeMutableRawPointer(z).assumingMemoryBound(to: UInt64.self)
        let raw = UnsafeRawPointer(z)
        let ia = SIMD4<Int>(Int(pos[k]), Int(pos[k &+ 1]), Int(pos[k &+ 2]), Int(pos[k &+ 3]))
        let ib = SIMD4<Int>(Int(pos[half &- k]), Int(pos[half &- k &- 1]), Int(pos[half &- k &- 2]), Int(pos[half &- k &- 3]))
        @inline(__always) func pair(_ slot: Int) -> SIMD2<Int32> { raw.loadUnaligned(fromByteOffset: 8 &* slot, as: SIMD2<Int32>.self) }
        let a0 = pair(ia[0]), a1 = pair(ia[1]), a2 = pair(ia[2]), a3 = pair(ia[3])
        let b0 = pair(ib[0]), b1 = pair(ib[1]), b2 = pair(ib[2]), b3 = pair(ib[3])
        let zr = SIMD4(a0[0], a1[0], a2[0], a3[0]), zi = SIMD4(a0[1], a1[1], a2[1], a3[1])
        let mr = SIMD4(b0[0], b1[0], b2[0], b3[0]), mi = SIMD4(b0[1], b1[1], b2[1], b3[1])
        let cs = UnsafeRawPointer(tw + 2 &* k).loadUnaligned(as: SIMD8<Int32>.self)
        let c = SIMD4<Int64>(truncatingIfNeeded: cs.evenHalf), s = SIMD4<Int64>(truncatingIfNeeded: cs.oddHalf)
        // |zr +- mr| <= 2^29: exact in Int32 before widening.
        let ar = SIMD4<Int64>(truncatingIfNeeded: zr &+ mr) &<< 30, ai = SIMD4<Int64>(truncatingIfNeeded: zi &- mi) &<< 30
        let br = SIMD4<Int64>(truncatingIfNeeded: zr &- mr), bi = SIMD4<Int64>(truncatingIfNeeded: zi &+ mi)
        let tr = c &* bi &- s &* br, ti = (0 &- c) &* br &- s &* bi
        let rnd = SIMD4<Int64>(repeating: 1 << 30)
        @inline(__always) func round31(_ v: SIMD4<Int64>) -> SIMD4<Int64> {
            SIMD4<Int64>(truncatingIfNeeded: SIMD4<Int32>(truncatingIfNeeded: SIMD4<UInt64>(truncatingIfNeeded: v) &>> 31))
        }
        let xr = round31(ar &+ tr &+ rnd), xi = round31(ai &+ ti &+ rnd)
        let yr = round31(ar &- tr &+ rnd), yi = round31(ai &- ti &+ rnd)
        let pk = SIMD4<UInt64>(truncatingIfNeeded: xr &* xr &+ xi &* xi)
        let pm = SIMD4<UInt64>(truncatingIfNeeded: yr &* yr &+ yi &* yi)
        for t in 0..<4 {
            power[ia[t]] = pk[t]
            power[ib[t]] = pm[t]
        }
        return pk | pm
    }
}

/// Regroups one stage's part of the packed table (`pairs` pairs of butterflies from element `start`, each pair six
/// vectors of 8 Int16 as `packTwiddlePair` appends them: r = 1, 2, 3, each hi then lo) into groups of
/// G = min(4, pairs) pairs: within a group, vector k (0..<6) of its G pairs lie side by side, so vector k of pair
/// i of a group sits at element 8 (G k + i) of the group, and a register of 2 or 4 pairs loads it in one piece.
func fftV2GroupTwiddlePairs(_ packed: inout [Int16], from start: Int, pairs: Int) {
    let g = fftV2TwiddleGroupPairs(pairs), old = Array(packed[start...])
    precondition(old.count == 48 * pairs && pairs % g == 0, "packed part: six 8-element vectors per pair")
    for p in 0..<pairs {
        for k in 0..<6 {
            let to = start + 48 * (p / g * g) + 8 * (g * k + p % g), from = 48 * p + 8 * k
            for e in 0..<8 { packed[to + e] = old[from + e] }
        }
    }
}

/// Pairs of butterflies per group of a stage's grouped packed twiddles (`fftV2GroupTwiddlePairs`), for a stage of
/// `pairs` pairs: the one definition the packing and the kernels that read it share.
@inline(__always) func fftV2TwiddleGroupPairs(_ pairs: Int) -> Int { min(4, pairs) }

/// Q1.30 clamped to +-(2^30 - 1): the radix-4 twiddles' range (the SSE2 halves' high part is then an Int16, and a
/// doubled value an Int32).
@inline(__always) func fftV2ClampQ30(_ v: Int32) -> Int32 { max(-(1 << 30) + 1, min((1 << 30) - 1, v)) }

/// A radix-4 stage kernel of `FixedRealFFTV2` (one per variant; every variant gives the same bits).
protocol FFTRadix4StageKernel {
    /// Whether `stage` reads `packed` (else it may point at anything).
    static var readsPackedTwiddles: Bool { get }
    /// The variant's name in reports ("portable", "sse2", "neon").
    static var name: StaticString { get }
    static func stage(_ z: UnsafeMutablePointer<Int32>, half: Int, length: Int, twiddles: UnsafePointer<Int32>,
                      packed: UnsafePointer<Int16>, shift: Int32) -> UInt32
    /// Int16 elements of the packed table per butterfly, the stride from one stage's part to the next (default
    /// 24: the SSE2 layout).
    static var packedPerButterfly: Int { get }
    /// Appends the packed twiddles of butterflies (j, j + 1) for one r: (c0, s0) and (c1, s1), Q1.30 clamped to
    /// +-(2^30 - 1) (default: the SSE2 layout, two vectors of 8 Int16, hi = v >> 15, lo = v & 0x7fff:
    /// (c_hi, s_hi, (-s)_hi, c_hi, c'_hi, s'_hi, (-s')_hi, c'_hi) and the same of the lo parts: one `pmaddwd` of a
    /// complex value's (t, u) pieces, repeated, by one of them gives (t c + u s, u c - t s) pieces for both).
    static func packTwiddlePair(_ c0: Int32, _ s0: Int32, _ c1: Int32, _ s1: Int32, into: inout [Int16])
    /// Whether the stage parts of the packed table are grouped (`fftV2GroupTwiddlePairs`; default false): the x86
    /// kernels, whose registers hold 1, 2 or 4 pairs of butterflies, then load a twiddle vector of all their pairs at
    /// once.
    static var groupsTwiddlePairs: Bool { get }
    /// Whether `FixedRealFFTV2.splitPower` takes four k at a time through `splitPowerFour` (default false).
    static var vectorSplit: Bool { get }
    /// The split and power of k ..< k + 4 (1 <= k, k + 3 < n/4), the same integers as `splitPowerOne` of each k
    /// (default: those four calls); returns the OR of the eight powers lane by lane.
    static func splitPowerFour(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                               _ pos: UnsafePointer<UInt16>, k: Int) -> SIMD4<UInt64>
    /// Whether `FixedRealFFTV2.splitPower` takes the middle k by slot groups through `splitPowerGroupPair` when every
    /// radix is 4 (default false; it then takes precedence over `vectorSplit`).
    static var groupedSplit: Bool { get }
    /// `FixedRealFFTV2.splitPowerGroupPairScalar`'s integers (its comment; the default calls it).
    static func splitPowerGroupPair(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                                    _ pos: UnsafePointer<UInt16>, r: Int) -> SIMD4<UInt64>
}

extension FFTRadix4StageKernel {
    static var packedPerButterfly: Int { 24 }
    static func packTwiddlePair(_ c0: Int32, _ s0: Int32, _ c1: Int32, _ s1: Int32, into packed: inout [Int16]) {
        func hi(_ v: Int32) -> Int16 { Int16(truncatingIfNeeded: v >> 15) }
        func lo(_ v: Int32) -> Int16 { Int16(truncatingIfNeeded: v & 0x7fff) }
        packed += [hi(c0), hi(s0), hi(-s0), hi(c0), hi(c1), hi(s1), hi(-s1), hi(c1)]
        packed += [lo(c0), lo(s0), lo(-s0), lo(c0), lo(c1), lo(s1), lo(-s1), lo(c1)]
    }
    static var groupsTwiddlePairs: Bool { false }
    static var groupedSplit: Bool { false }
    @inline(__always)
    static func splitPowerGroupPair(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                                    _ pos: UnsafePointer<UInt16>, r: Int) -> SIMD4<UInt64> {
        fft.splitPowerGroupPairScalar(z, tw, pos, r: r)
    }
    static var vectorSplit: Bool { false }
    @inline(__always)
    static func splitPowerFour(_ fft: FixedRealFFTV2, _ z: UnsafeMutablePointer<Int32>, _ tw: UnsafePointer<Int32>,
                               _ pos: UnsafePointer<UInt16>, k: Int) -> SIMD4<UInt64> {
        SIMD4(fft.splitPowerOne(z, tw, pos, k: k), fft.splitPowerOne(z, tw, pos, k: k &+ 1),
              fft.splitPowerOne(z, tw, pos, k: k &+ 2), fft.splitPowerOne(z, tw, pos, k: k &+ 3))
    }
}

/// The portable reference: scalar, Int64 products.
enum FFTRadix4StagePortable: FFTRadix4StageKernel {
    static var readsPackedTwiddles: Bool { false }
    static var name: StaticString { "portable" }
    /// One radix-4 decimation-in-frequency stage over blocks of `length` complex values: for each block and
    /// j in 0..<L/4, with x_r = z[j + r L/4]: y0 = x0 + x1 + x2 + x3, y1 = (x0 - i x1 - x2 + i x3) W^j,
    /// y2 = (x0 - x1 + x2 - x3) W^2j, y3 = (x0 + i x1 - x2 - i x3) W^3j (W = e^(-2 pi i / L)), each output
    /// shifted right by `s` with one rounding (`(t c + u s + 2^(29+s)) >> (30 + s)`, exact in Int64, Q1.30
    /// twiddles). Returns the OR of the outputs' magnitudeBits. `packed` is the vector kernels' table (unused).
    @inline(__always)
    static func stage(_ z: UnsafeMutablePointer<Int32>, half: Int, length l: Int, twiddles tw: UnsafePointer<Int32>,
                      packed: UnsafePointer<Int16>, shift s: Int32) -> UInt32 {
        let q = l / 4
        let rnd32: Int32 = s == 0 ? 0 : Int32(1) << (s &- 1)
        let sh = Int64(30 &+ s), rnd = Int64(1) << (sh &- 1)
        var acc: UInt32 = 0
        var g = 0
        while g < half {
            let b = z + 2 &* g
            var j = 0
            while j < q {
                let p0 = b + 2 &* j, p1 = p0 + 2 &* q, p2 = p1 + 2 &* q, p3 = p2 + 2 &* q
                let x0r = p0[0], x0i = p0[1], x1r = p1[0], x1i = p1[1]
                let x2r = p2[0], x2i = p2[1], x3r = p3[0], x3i = p3[1]
                let s02r = x0r &+ x2r, s02i = x0i &+ x2i, d02r = x0r &- x2r, d02i = x0i &- x2i
                let s13r = x1r &+ x3r, s13i = x1i &+ x3i, d13r = x1r &- x3r, d13i = x1i &- x3i
                let y0r = (s02r &+ s13r &+ rnd32) &>> s, y0i = (s02i &+ s13i &+ rnd32) &>> s
                let t2r = Int64(s02r &- s13r), t2i = Int64(s02i &- s13i)
                let t1r = Int64(d02r &+ d13i), t1i = Int64(d02i &- d13r)
                let t3r = Int64(d02r &- d13i), t3i = Int64(d02i &+ d13r)
                let w = tw + 6 &* j
                let c1 = Int64(w[0]), s1 = Int64(w[1]), c2 = Int64(w[2]), s2 = Int64(w[3])
                let c3 = Int64(w[4]), s3 = Int64(w[5])
                // (tr + i ti)(c - i s) = (tr c + ti s) + i (ti c - tr s)
                let y1r = Int32(truncatingIfNeeded: (t1r &* c1 &+ t1i &* s1 &+ rnd) &>> sh)
                let y1i = Int32(truncatingIfNeeded: (t1i &* c1 &- t1r &* s1 &+ rnd) &>> sh)
                let y2r = Int32(truncatingIfNeeded: (t2r &* c2 &+ t2i &* s2 &+ rnd) &>> sh)
                let y2i = Int32(truncatingIfNeeded: (t2i &* c2 &- t2r &* s2 &+ rnd) &>> sh)
                let y3r = Int32(truncatingIfNeeded: (t3r &* c3 &+ t3i &* s3 &+ rnd) &>> sh)
                let y3i = Int32(truncatingIfNeeded: (t3i &* c3 &- t3r &* s3 &+ rnd) &>> sh)
                p0[0] = y0r; p0[1] = y0i; p1[0] = y1r; p1[1] = y1i
                p2[0] = y2r; p2[1] = y2i; p3[0] = y3r; p3[1] = y3i
                acc |= magnitudeBits(y0r) | magnitudeBits(y0i) | magnitudeBits(y1r) | magnitudeBits(y1i)
                acc |= magnitudeBits(y2r) | magnitudeBits(y2i) | magnitudeBits(y3r) | magnitudeBits(y3i)
                j &+= 1
            }
            g &+= l
        }
        return acc
    }
}
