// Embedded bit-exactness battery of the conv micro-kernels (tools/conv_variants_qemu.sh): random shapes, data,
// zero points, clamps, pools and requantization parameters; every micro-kernel the target has (portable, plus
// NEON / dot product on aarch64, SSE2 / AVX2 / VNNI on x86-64 as built) against the reference `conv2dS8`. Embedded Swift, no imports.

struct BatteryRNG {
    var s: UInt64
    mutating func next() -> UInt64 {
        s = s &+ 0x9E37_79B9_7F4A_7C15
        var z = s
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
}

func batteryRun<MK: Conv2dMicroKernel>(_ p: Conv2dS8Params, _ x: [Int8], _ w: [Int8], _ b: [Int32], _ rq: ChannelRequant,
                                       _ kernel: MK.Type) -> [Int8] {
    var out = [Int8](repeating: 55, count: p.outputCount)
    let layout = Conv2dFastLayout(p, MK.self)
    let prepared = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.prepared, alignment: 16)
    let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: layout.run, alignment: 16)
    defer { prepared.deallocate(); scratch.deallocate() }
    for i in 0..<scratch.count { scratch[i] = UInt8(truncatingIfNeeded: i &* 37 &+ 11) }
    x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
        out.withUnsafeMutableBufferPointer { op in
            conv2dS8FastPrepare(p, weights: wp, bias: bp, requant: rq, prepared: prepared, kernel: MK.self)
            conv2dS8FastRun(p, input: xp, weights: wp, bias: bp, requant: rq, prepared: UnsafeRawBufferPointer(prepared),
                            output: op, scratch: scratch, kernel: MK.self)
        }
    } } }
    return out
}

/// Runs `cases` random cases; writes the number of (case, kernel) comparisons and of mismatches.
@_cdecl("crnn_conv_variants")
public func crnnConvVariants(_ cases: Int32, _ compared: UnsafeMutablePointer<Int32>,
                             _ mismatches: UnsafeMutablePointer<Int32>) {
    var rng = BatteryRNG(s: 2026)
    var n: Int32 = 0, bad: Int32 = 0
    let kernels = [(3, 3), (3, 3), (1, 1), (5, 5), (1, 3), (3, 1), (5, 3), (7, 7)]
    for _ in 0..<Int(cases) {
        let h = rng.int(1, 9), wd = rng.int(1, 9), cin = [1, 1, 2, 3, 5, 8, 17, 32][rng.int(0, 7)]
        let cout = 16 * rng.int(1, 3)
        let (kh, kw) = kernels[rng.int(0, kernels.count - 1)]
        let extreme = rng.int(0, 4) == 0
        let zi = extreme ? (rng.int(0, 1) == 0 ? Int32(-128) : 127) : Int32(rng.int(-128, 127))
        let zo = Int32(rng.int(-128, 127))
        let relu = rng.int(0, 1) == 0
        let p = Conv2dS8Params(inputHeight: h, inputWidth: wd, inputChannels: cin, outputChannels: cout,
                               kernelHeight: kh, kernelWidth: kw, inputZeroPoint: zi, outputZeroPoint: zo,
                               activationMin: relu ? zo : -128, activationMax: 127,
                               poolHeight: rng.int(1, 4), poolWidth: rng.int(1, 4))
        func data() -> Int8 {
            extreme ? (rng.int(0, 1) == 0 ? -128 : 127) : Int8(truncatingIfNeeded: rng.int(-128, 127))
        }
        let x = (0..<(h * wd * cin)).map { _ in data() }
        // Weights of symmetric quantizers (-127...127) in three cases of four, so that the kernels with
        // `weightMin` -127 (NEON mull) run their fast path; any int8 in the fourth (they must fall back).
        let anyWeight = rng.int(0, 3) == 0
        let w = (0..<(cout * kh * kw * cin)).map { _ in anyWeight ? data() : max(-127, data()) }
        let b = (0..<cout).map { _ in Int32(rng.int(-30000, 30000)) }
        var bits = 0
        while (1 << bits) < kh * kw * cin * 64 * 128 { bits += 1 }
        let m = (0..<cout).map { _ in Int32(1 << 30) + Int32(rng.int(0, (1 << 30) - 1)) }
        let s = (0..<cout).map { _ in Int32(max(-31, min(30, 8 - bits + rng.int(-3, 3)))) }
        m.withUnsafeBufferPointer { mp in s.withUnsafeBufferPointer { sp in
            let rq = ChannelRequant(multipliers: mp, shifts: sp)
            var ref = [Int8](repeating: 0, count: p.outputCount)
            x.withUnsafeBufferPointer { xp in w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
                ref.withUnsafeMutableBufferPointer { op in
                    conv2dS8(p, input: xp, weights: wp, bias: bp, requant: rq, output: op,
                             scratch: UnsafeMutableRawBufferPointer(start: nil, count: 0))
                }
            } } }
            var outs = [batteryRun(p, x, w, b, rq, Conv2dMicroKernelPortable.self),
                        batteryRun(p, x, w, b, rq, Conv2dSelectedMicroKernel.self)]
            // Every micro-kernel of the target (the selected one again among them).
            func add<MK: Conv2dMicroKernel>(_ k: MK.Type) { outs.append(batteryRun(p, x, w, b, rq, k)) }
            #if arch(arm64)
            add(Conv2dMicroKernelNEON.self)
            add(Conv2dMicroKernelNEONMull.self)
            #if CRNN_CONV_DOTPROD
            add(Conv2dMicroKernelDotProd.self)
            #endif
            #elseif arch(x86_64)
            add(Conv2dMicroKernelSSE2.self)
            #if CRNN_CONV_AVX2
            add(Conv2dMicroKernelAVX2.self)
            #endif
            #if CRNN_CONV_VNNI && CRNN_CONV_AVX2
            add(Conv2dMicroKernelVNNI.self)
            #endif
            #if CRNN_CONV_AVX512
            add(Conv2dMicroKernelVNNI512.self)
            #endif
            #elseif arch(arm) && CRNN_CONV_SMLAD
            add(Conv2dMicroKernelSMLAD.self)
            #endif
            for o in outs {
                n += 1
                if o != ref { bad += 1 }
            }
        } }
    }
    compared.pointee = n
    mismatches.pointee = bad
}
