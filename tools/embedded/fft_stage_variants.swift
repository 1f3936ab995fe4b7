// Embedded bit-exactness battery of FixedRealFFTV2's radix-4 stage kernels (tools/conv_variants_qemu.sh, built into
// the same object as conv_variants_main.swift, whose BatteryRNG it uses). Embedded Swift, no imports.
// 1. Stages: for every n in 16...16384 (powers of two), every radix-4 stage with twiddles of that n, every shift
//    s in 0...7 (the FFT uses s = significantBits(bound) - 25 <= 4 for inputs |x| <= 2^28; 7 is the most a 32-bit
//    bound gives) and four kinds of input within the kernels' contract |x| <= 2^28 (uniform, +-2^28 extremes, small,
//    a mix): the selected kernel (and NEON on aarch64, SSE2 on x86-64) against FFTRadix4StagePortable, the whole work memory and the
//    returned OR.
// 2. Whole transform: `FixedRealFFTV2.powerSpectrum` (the selected kernel) against the same steps driven with the
//    portable kernel (`batteryPowerSpectrum` below), and the same steps with the selected kernel against
//    `powerSpectrum` (so that the copy of the driver is checked too): every n, `frames` random frames of six kinds;
//    the work memory after the transform (every power), the exponent and the OR. The portable driver's split runs
//    one k at a time, so this also checks the selected kernel's vector split (AVX2, NEON).
// 3. The split + power alone, `frames` work memories per n with components in [-2^28, 2^28]: the selected
//    kernel's split against one k at a time.

/// FixedRealFFTV2.powerSpectrum's steps with the radix-4 stage kernel `K` (FixedFFTV2.swift).
func batteryPowerSpectrum<K: FFTRadix4StageKernel>(_ fft: FixedRealFFTV2, _ work: UnsafeMutablePointer<Int32>,
                                                  bound: UInt32, _ kernel: K.Type) -> (exponent: Int32, or: UInt64) {
    var acc = bound
    var shift: Int32 = 0
    fft.stageTwiddles.withUnsafeBufferPointer { tb in
        fft.packedTwiddles.withUnsafeBufferPointer { pb in
            var t = tb.baseAddress!, p = pb.baseAddress!
            for l in fft.stageLengths {
                let s = max(0, significantBits(acc) &- 25)
                shift &+= s
                acc = K.stage(work, half: fft.half, length: l, twiddles: t, packed: p, shift: s)
                t += 6 &* (l / 4)
                p += FFTSelectedRadix4Kernel.packedPerButterfly &* (l / 4)
            }
        }
    }
    if fft.lastIsRadix2 {
        let s = max(0, significantBits(acc) &- 27)
        shift &+= s
        fft.radix2Last(work, shift: s)
    } else {
        let s = max(0, significantBits(acc) &- 25)
        shift &+= s
        fft.radix4Last(work, shift: s)
    }
    let or = fft.splitPower(work, kernel: K.self)
    return (2 &* shift, or)
}

/// One stage of `fft` (the one at twiddle offsets t, p) on a copy of `input` with kernel `K`: (work, OR).
func batteryStage<K: FFTRadix4StageKernel>(_ fft: FixedRealFFTV2, _ input: [Int32], length l: Int, t: Int, p: Int,
                                          shift s: Int32, _ kernel: K.Type) -> ([Int32], UInt32) {
    var z = input
    let acc = fft.stageTwiddles.withUnsafeBufferPointer { tb in
        fft.packedTwiddles.withUnsafeBufferPointer { pb in
            z.withUnsafeMutableBufferPointer {
                K.stage($0.baseAddress!, half: fft.half, length: l, twiddles: tb.baseAddress! + t,
                        packed: pb.baseAddress! + p, shift: s)
            }
        }
    }
    return (z, acc)
}

#if arch(x86_64)
/// The largest positive stage input: the SSE2 (and AVX2) kernel's contract is [-2^28, 2^28 - 1] (FixedFFTV2SSE2.swift; the
/// window's outputs and every stage's outputs stay below 2^28, docs/fixed-point-mfcc.md §12), the others' +-2^28.
let batteryFFTTop = (1 << 28) - 1
#else
let batteryFFTTop = 1 << 28
#endif

/// Input value of kind 0 (uniform in [-2^28, top]), 1 (-2^28, top, top - 1, -top + 1), 2 (small), 3 (a mix);
/// top = `batteryFFTTop`.
func batteryFFTValue(_ rng: inout BatteryRNG, _ kind: Int) -> Int32 {
    let low = -(1 << 28), top = batteryFFTTop
    switch kind == 3 ? rng.int(0, 2) : kind {
    case 0: return Int32(rng.int(low, top))
    case 1: return Int32([low, top, top - 1, -top + 1][rng.int(0, 3)])
    default: return Int32(rng.int(-40000, 40000))
    }
}

/// Runs the battery; writes the number of comparisons and of mismatches (stages, then whole transforms).
@_cdecl("crnn_fft_stage_variants")
public func crnnFFTStageVariants(_ frames: Int32, _ compared: UnsafeMutablePointer<Int32>,
                                 _ mismatches: UnsafeMutablePointer<Int32>) {
    var rng = BatteryRNG(s: 12)
    var n: Int32 = 0, bad: Int32 = 0
    func check(_ same: Bool) {
        n += 1
        if !same { bad += 1 }
    }
    var size = 16
    while size <= 16384 {
        let fft = FixedRealFFTV2(n: size)
        // 1. Stage by stage.
        var t = 0, p = 0
        for l in fft.stageLengths {
            for s: Int32 in 0...7 {
                for kind in 0..<4 {
                    var input = [Int32](repeating: 0, count: FixedRealFFTV2.workCount(n: size))
                    for i in 0..<size { input[i] = batteryFFTValue(&rng, kind) }
                    let ref = batteryStage(fft, input, length: l, t: t, p: p, shift: s, FFTRadix4StagePortable.self)
                    let sel = batteryStage(fft, input, length: l, t: t, p: p, shift: s, FFTSelectedRadix4Kernel.self)
                    check(sel.0 == ref.0 && sel.1 == ref.1)
                    #if arch(arm64)
                    let neon = batteryStage(fft, input, length: l, t: t, p: p, shift: s, FFTRadix4StageNEON.self)
                    check(neon.0 == ref.0 && neon.1 == ref.1)
                    #elseif arch(x86_64)
                    let sse2 = batteryStage(fft, input, length: l, t: t, p: p, shift: s, FFTRadix4StageSSE2.self)
                    check(sse2.0 == ref.0 && sse2.1 == ref.1)
                    #endif
                }
            }
            t += 6 * (l / 4)
            p += FFTSelectedRadix4Kernel.packedPerButterfly * (l / 4)
        }
        // 2. Whole power spectra: kinds 0-3 above, 4 a sinusoid-like ramp, 5 one impulse.
        for f in 0..<Int(frames) {
            let kind = f % 6
            var input = [Int32](repeating: 0, count: FixedRealFFTV2.workCount(n: size))
            let step = rng.int(1, size / 2), amp = 1 << rng.int(4, 28)
            for i in 0..<size {
                switch kind {
                case 4:  // a triangle wave of period size / step samples, amplitude amp
                    let ph = (i &* step) % size
                    input[i] = Int32((ph < size / 2 ? ph : size - ph) * 4 * (amp / size) - amp)
                case 5: input[i] = i == step ? Int32(amp) : 0
                default: input[i] = batteryFFTValue(&rng, kind)
                }
            }
            var bound: UInt32 = 0
            for i in 0..<size { bound |= magnitudeBits(input[i]) }
            if bound == 0 { input[0] = 1; bound = 1 }
            var a = input, b = input, c = input
            let ra = a.withUnsafeMutableBufferPointer { fft.powerSpectrum($0.baseAddress!, bound: bound) }
            let rb = b.withUnsafeMutableBufferPointer {
                batteryPowerSpectrum(fft, $0.baseAddress!, bound: bound, FFTRadix4StagePortable.self)
            }
            let rc = c.withUnsafeMutableBufferPointer {
                batteryPowerSpectrum(fft, $0.baseAddress!, bound: bound, FFTSelectedRadix4Kernel.self)
            }
            check(a == b && ra.exponent == rb.exponent && ra.or == rb.or)
            check(c == a && rc.exponent == ra.exponent && rc.or == ra.or)
        }
        // 3. The split + power alone on the last stage's output range, |components| <= 2^28 (kinds 0-3, which
        //    reach the extremes in every lane): the selected kernel's split path against one k at a time.
        for f in 0..<Int(frames) {
            var input = [Int32](repeating: 0, count: FixedRealFFTV2.workCount(n: size))
            for i in 0..<size { input[i] = f % 4 == 1 ? Int32([-(1 << 28), 1 << 28][rng.int(0, 1)]) : batteryFFTValue(&rng, f % 4) }
            var a = input, b = input
            let oa = a.withUnsafeMutableBufferPointer { fft.splitPower($0.baseAddress!, kernel: FFTSelectedRadix4Kernel.self) }
            let ob = b.withUnsafeMutableBufferPointer { fft.splitPower($0.baseAddress!, kernel: FFTRadix4StagePortable.self) }
            check(a == b && oa == ob)
        }
        size *= 2
    }
    compared.pointee = n
    mismatches.pointee = bad
}
