import XCTest
@testable import CRNNRuntime

/// conv2dS8Fast (and the dispatcher) against the reference conv2dS8, bit for bit: random shapes, zero points,
/// requantization parameters (including saturating and zero multipliers), clamps, fused pools and edge sizes.
/// The scratch is filled with garbage first, so nothing relies on a zeroed arena.
final class Conv2dS8FastTests: XCTestCase {
    var fastPathCount = 0
    /// Variant runs whose vector requantization epilogue applied (status word 1 of the prepared buffer).
    var vectorEpilogueCount = 0
    struct Case {
        var p: Conv2dS8Params
        var x: [Int8], w: [Int8], b: [Int32], m: [Int32], s: [Int32]
    }

    func reference(_ c: Case) -> [Int8] {
        runRequantKernel(c.x, c.w, c.b, c.m, c.s, count: c.p.outputCount, fill: 99) {
            conv2dS8(c.p, input: $0, weights: $1, bias: $2, requant: $3, output: $4, scratch: noScratch)
        }
    }

    /// Runs `conv2dS8Fast` (dispatch == false) or `conv2dS8Dispatch` with `scratchBytes` of garbage scratch.
    func candidate(_ c: Case, dispatch: Bool, scratchBytes: Int? = nil, garbage: UInt8 = 0xA5) -> [Int8] {
        let bytes = scratchBytes ?? (dispatch ? conv2dS8DispatchScratchSize(c.p) : conv2dS8FastScratchSize(c.p))
        return withScratch(bytes) { scratch in
            for i in 0..<scratch.count { scratch[i] = garbage &+ UInt8(truncatingIfNeeded: i &* 7) }
            return runRequantKernel(c.x, c.w, c.b, c.m, c.s, count: c.p.outputCount, fill: -99) { xp, wp, bp, rq, op in
                if dispatch {
                    conv2dS8Dispatch(c.p, input: xp, weights: wp, bias: bp, requant: rq, output: op, scratch: scratch)
                } else {
                    conv2dS8Fast(c.p, input: xp, weights: wp, bias: bp, requant: rq, output: op, scratch: scratch)
                }
            }
        }
    }

    /// Prepare + run with an explicit micro-kernel `MK` (not only the one the build selected), in separate
    /// prepared and run buffers filled with garbage.
    func variant<MK: Conv2dMicroKernel>(_ c: Case, _ kernel: MK.Type, garbage: UInt8 = 0x5A) -> [Int8] {
        let layout = Conv2dFastLayout(c.p, MK.self)
        return withScratch(layout.prepared) { prepared in withScratch(layout.run) { scratch in
            for i in 0..<prepared.count { prepared[i] = garbage &+ UInt8(truncatingIfNeeded: i &* 5) }
            for i in 0..<scratch.count { scratch[i] = garbage &+ UInt8(truncatingIfNeeded: i &* 3) }
            return runRequantKernel(c.x, c.w, c.b, c.m, c.s, count: c.p.outputCount, fill: 77) { xp, wp, bp, rq, op in
                conv2dS8FastPrepare(c.p, weights: wp, bias: bp, requant: rq, prepared: prepared, kernel: MK.self)
                if prepared.load(fromByteOffset: layout.statusOffset, as: Int32.self) == 1
                    && prepared.load(fromByteOffset: layout.statusOffset + 4, as: Int32.self) == 1 { vectorEpilogueCount += 1 }
                conv2dS8FastRun(c.p, input: xp, weights: wp, bias: bp, requant: rq,
                                prepared: UnsafeRawBufferPointer(prepared), output: op, scratch: scratch, kernel: MK.self)
            }
        } }
    }

    /// Every micro-kernel this CPU architecture can run, by name (the selected one is among them).
    func allVariants(_ c: Case) -> [(String, [Int8])] {
        var r = [("portable", variant(c, Conv2dMicroKernelPortable.self))]
        #if arch(x86_64)
        r.append(("sse2", variant(c, Conv2dMicroKernelSSE2.self)))
        #endif
        #if arch(arm64)
        r.append(("neon", variant(c, Conv2dMicroKernelNEON.self)))
        r.append(("neon-mull", variant(c, Conv2dMicroKernelNEONMull.self)))
        #endif
        #if CRNN_CONV_AVX2
        r.append(("avx2", variant(c, Conv2dMicroKernelAVX2.self)))
        #endif
        #if CRNN_CONV_VNNI && CRNN_CONV_AVX2 && arch(x86_64)
        r.append(("vnni", variant(c, Conv2dMicroKernelVNNI.self)))
        #endif
        #if CRNN_CONV_AVX512 && arch(x86_64)
        r.append(("avx512vnni", variant(c, Conv2dMicroKernelVNNI512.self)))
        #endif
        #if CRNN_CONV_DOTPROD && arch(arm64)
        r.append(("dotprod", variant(c, Conv2dMicroKernelDotProd.self)))
        #endif
        return r
    }

    /// A random case. `extreme` draws data from {-128, 127} and zero points from the ends of their range, to
    /// reach the largest accumulator magnitudes.
    func randomCase(_ rng: inout SplitMix64, h: Int, w: Int, cin: Int, cout: Int, kh: Int, kw: Int,
                    ph: Int, pw: Int, extreme: Bool = false) -> Case {
        let zi = extreme ? (rng.int(0, 1) == 0 ? Int32(-128) : 127) : Int32(rng.int(-128, 127))
        let zo = Int32(rng.int(-128, 127))
        var lo = Int32(rng.int(-128, 127)), hi = Int32(rng.int(-128, 127))
        if rng.int(0, 2) == 0 { lo = -128; hi = 127 } else if rng.int(0, 1) == 0 { lo = zo; hi = 127 }  // none / ReLU
        if lo > hi { swap(&lo, &hi) }
        let p = Conv2dS8Params(inputHeight: h, inputWidth: w, inputChannels: cin, outputChannels: cout,
                               kernelHeight: kh, kernelWidth: kw, inputZeroPoint: zi, outputZeroPoint: zo,
                               activationMin: lo, activationMax: hi, poolHeight: ph, poolWidth: pw)
        func data() -> Int8 { extreme ? (rng.int(0, 1) == 0 ? -128 : 127) : rng.int8() }
        let x = (0..<(h * w * cin)).map { _ in data() }
        let wt = (0..<(cout * kh * kw * cin)).map { _ in data() }
        let b = (0..<cout).map { _ in rng.int(0, 5) == 0 ? rng.int32AnyMagnitude() >> 1 : Int32(rng.int(-20000, 20000)) }
        // Multipliers: mostly normalised with a shift that lands typical accumulators near the int8 range; also
        // zero, Int32.max, and shifts at the ends of -31...30 (saturation).
        let taps = kh * kw * cin
        var bits = 0
        while (1 << bits) < taps * 64 * 128 { bits += 1 }
        var m: [Int32] = [], s: [Int32] = []
        let wild = rng.int(0, 3) == 0  // a quarter of the cases mix in saturating scales (these fall back)
        for _ in 0..<cout {
            switch wild ? rng.int(0, 9) : rng.int(3, 12) {
            case 0, 12: m.append(0); s.append(Int32(rng.int(-31, 30)))
            case 1: m.append(Int32.max); s.append(Int32(rng.int(-31, 30)))
            case 2: m.append(Int32(rng.int(0, Int(Int32.max)))); s.append(rng.int(0, 1) == 0 ? -31 : 30)
            default: m.append(Int32(1 << 30) + Int32(rng.int(0, (1 << 30) - 1)))
                     s.append(Int32(8 - bits + rng.int(-3, 3)).clamped(-31, 30))
            }
        }
        return Case(p: p, x: x, w: wt, b: b, m: m, s: s)
    }

    /// Whether `conv2dS8Fast` takes its own path for this case (else it runs the reference internally).
    func fastPathRuns(_ c: Case) -> Bool {
        if !conv2dS8FastSupports(c.p) { return false }
        let taps = c.p.kernelHeight * c.p.kernelWidth * c.p.inputChannels
        return (0..<c.p.outputChannels).allSatisfy { co in
            let absSum = c.w[(co * taps)..<((co + 1) * taps)].reduce(Int32(0)) { $0 + abs(Int32($1)) }
            return conv2dFastPoolMaxIsExact(bias: c.b[co], weightAbsSum: absSum, multiplier: c.m[co], shift: c.s[co],
                                            outputZeroPoint: c.p.outputZeroPoint)
        }
    }

    func check(_ c: Case, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        if fastPathRuns(c) { fastPathCount += 1 }
        let ref = reference(c)
        XCTAssertEqual(candidate(c, dispatch: true), ref, "dispatch \(label)", file: file, line: line)
        if conv2dS8FastSupports(c.p) {
            XCTAssertEqual(candidate(c, dispatch: false), ref, "fast \(label)", file: file, line: line)
            XCTAssertEqual(candidate(c, dispatch: false, garbage: 0x00), ref, "fast, zero garbage \(label)", file: file, line: line)
            for (name, out) in allVariants(c) {
                XCTAssertEqual(out, ref, "micro-kernel \(name) \(label)", file: file, line: line)
            }
        }
    }

    func testRandomShapesBitExact() {
        var rng = SplitMix64(seed: 2024)
        fastPathCount = 0
        for n in 0..<400 {
            let h = rng.int(1, 14), w = rng.int(1, 14), cin = [1, 1, 2, 3, 5, 8, 16, 17, 32][rng.int(0, 8)]
            let cout = [16, 16, 32, 32, 48, 64, 8, 20, 3][rng.int(0, 8)]
            let kernels = [(3, 3), (3, 3), (3, 3), (1, 1), (5, 5), (1, 3), (3, 1), (5, 3), (7, 1)]
            let (kh, kw) = kernels[rng.int(0, kernels.count - 1)]
            let ph = rng.int(0, 2) == 0 ? 1 : rng.int(1, 5), pw = rng.int(0, 2) == 0 ? ph : rng.int(1, 5)
            let c = randomCase(&rng, h: h, w: w, cin: cin, cout: cout, kh: kh, kw: kw, ph: ph, pw: pw)
            check(c, "case \(n): \(h)x\(w)x\(cin)->\(cout) k\(kh)x\(kw) pool \(ph)x\(pw)")
        }
        XCTAssertGreaterThan(fastPathCount, 150)  // 194 of 400 with this seed; the others test the fallbacks
    }

    /// Layers whose scales the vector requantization epilogues take (shifts -12...-4 for every channel, as in the
    /// shipped models): random shapes against the reference; on x86-64 most of them run the SSE2 epilogue.
    func testVectorEpilogueLayers() {
        var rng = SplitMix64(seed: 1207)
        vectorEpilogueCount = 0
        for n in 0..<150 {
            let cin = [1, 1, 2, 3, 8, 16, 32][rng.int(0, 6)], kh = [1, 3, 3, 5][rng.int(0, 3)]
            var c = randomCase(&rng, h: rng.int(1, 12), w: rng.int(1, 12), cin: cin, cout: 16 * rng.int(1, 3),
                               kh: kh, kw: kh, ph: rng.int(1, 4), pw: rng.int(1, 4), extreme: n % 6 == 0)
            c.s = c.s.map { max($0, Int32(rng.int(-12, -4))) }
            c.b = c.b.map { $0 / 1024 }  // biases below 2^21 (the random ones reach 2^30: bound * m >= 2^53)
            check(c, "epilogue case \(n)")
        }
        #if arch(x86_64)
        XCTAssertGreaterThan(vectorEpilogueCount, 100)
        #endif
    }

    func testEdgeSizesAndPools() {
        var rng = SplitMix64(seed: 7)
        fastPathCount = 0
        // 1-pixel images, widths around the 4-pixel block (1...9), pools larger than the image, pools that
        // leave padding before and after, the 16-channel block boundary.
        for h in [1, 2, 3, 4, 5] {
            for w in 1...9 {
                for (ph, pw) in [(1, 1), (2, 2), (3, 3), (4, 4), (1, 5), (6, 2), (16, 16)] {
                    let cin = rng.int(1, 4), cout = rng.int(0, 1) == 0 ? 16 : 32
                    let c = randomCase(&rng, h: h, w: w, cin: cin, cout: cout, kh: 3, kw: 3, ph: ph, pw: pw)
                    check(c, "\(h)x\(w)x\(cin)->\(cout) pool \(ph)x\(pw)")
                }
            }
        }
        XCTAssertGreaterThan(fastPathCount, 150)  // of 315
    }

    func testExtremeDataReachesLargestAccumulators() {
        var rng = SplitMix64(seed: 99)
        for n in 0..<40 {
            let cin = [1, 32, 64, 200][n % 4]
            let c = randomCase(&rng, h: rng.int(1, 8), w: rng.int(1, 8), cin: cin, cout: 16 * rng.int(1, 3),
                               kh: 3, kw: 3, ph: rng.int(1, 3), pw: rng.int(1, 3), extreme: true)
            check(c, "extreme \(n) cin \(cin)")
        }
    }

    func testPaperLayerShapes() {
        var rng = SplitMix64(seed: 5)
        for (h, w, cin, pool) in [(130, 23, 1, 2), (65, 12, 32, 3), (22, 4, 32, 4)] {
            let c = randomCase(&rng, h: h, w: w, cin: cin, cout: 32, kh: 3, kw: 3, ph: pool, pw: pool)
            XCTAssertTrue(conv2dS8FastSupports(c.p))
            check(c, "paper \(h)x\(w)x\(cin) pool \(pool)")
        }
    }

    func testDispatchFallsBack() {
        var rng = SplitMix64(seed: 3)
        // Unsupported channel count, scratch too small, a negative (invalid) multiplier: the reference runs.
        var c = randomCase(&rng, h: 6, w: 7, cin: 3, cout: 12, kh: 3, kw: 3, ph: 2, pw: 2)
        XCTAssertFalse(conv2dS8FastSupports(c.p))
        XCTAssertEqual(conv2dS8DispatchScratchSize(c.p), conv2dS8ScratchSize(c.p))
        check(c, "cout 12")
        c = randomCase(&rng, h: 6, w: 7, cin: 3, cout: 16, kh: 3, kw: 3, ph: 2, pw: 2)
        XCTAssertEqual(candidate(c, dispatch: true, scratchBytes: conv2dS8FastScratchSize(c.p) - 16), reference(c))
        XCTAssertEqual(candidate(c, dispatch: true, scratchBytes: 0), reference(c))
        c.m[5] = -(1 << 30)
        XCTAssertEqual(candidate(c, dispatch: true), reference(c))
    }

    /// The vectorizable epilogue equals clamp(z_out &+ multiplyByQuantizedMultiplier(...)) for every shift,
    /// extreme accumulators and multipliers, every zero point and clamp.
    func testRequantizeRowMatchesTheOneRoundingRule() {
        var rng = SplitMix64(seed: 31)
        let n = 64
        for round in 0..<2000 {
            var acc = (0..<n).map { _ in rng.int32AnyMagnitude() }
            acc[0] = Int32.min; acc[1] = Int32.max; acc[2] = 0; acc[3] = -1
            let m = (0..<n).map { i in i % 8 == 0 ? Int32.max : (i % 8 == 1 ? 0 : Int32(rng.int(0, Int(Int32.max)))) }
            let s = (0..<n).map { i in Int32(round % 62 - 31 + (i % 3 == 0 ? 0 : rng.int(-31, 30) - (round % 62 - 31))) }
            let zo = Int32(rng.int(-128, 127))
            var lo = Int32(rng.int(-128, 127)), hi = Int32(rng.int(-128, 127))
            if lo > hi { swap(&lo, &hi) }
            var out = [Int8](repeating: 0, count: n)
            acc.withUnsafeBufferPointer { a in m.withUnsafeBufferPointer { mp in s.withUnsafeBufferPointer { sp in
                out.withUnsafeMutableBufferPointer { o in
                    requantizeRow(a.baseAddress!, mp.baseAddress!, sp.baseAddress!, n, zo, lo, hi, o.baseAddress!)
                }
            } } }
            for c in 0..<n {
                let v = zo &+ multiplyByQuantizedMultiplier(acc[c], m[c], s[c])
                XCTAssertEqual(out[c], Int8(truncatingIfNeeded: min(max(v, lo), hi)), "acc \(acc[c]) m \(m[c]) s \(s[c])")
            }
        }
    }

    func testScratchSizeDocExample() {
        let p = Conv2dS8Params(inputHeight: 65, inputWidth: 12, inputChannels: 32, outputChannels: 32,
                               inputZeroPoint: 0, outputZeroPoint: 0, poolHeight: 3, poolWidth: 3)
        let portable = Conv2dFastLayout(p, Conv2dMicroKernelPortable.self)
        XCTAssertEqual(portable.prepared, 9216 + 128 + 16)
        XCTAssertEqual(portable.run, 2240 + 512 + 48)
        #if arch(x86_64)
        // Int16 pairs: 3 rows x 48 pairs x 32 x 4 bytes; the SSE2 epilogue's 32 Doubles
        let sse2 = Conv2dFastLayout(p, Conv2dMicroKernelSSE2.self)
        XCTAssertEqual(sse2.prepared, 18432 + 128 + 16 + 256)
        XCTAssertEqual(sse2.run, 4480 + 16 + 512 + 48)
        #endif
        #if arch(arm64)
        let neon = Conv2dFastLayout(p, Conv2dMicroKernelNEON.self)  // Int16 weights: 3 x 96 taps x 32 x 2 bytes
        XCTAssertEqual(neon.prepared, 18432 + 128 + 16)
        XCTAssertEqual(neon.run, 4480 + 16 + 512 + 48)
        #endif
        let selected = Conv2dFastLayout(p, Conv2dSelectedMicroKernel.self)
        XCTAssertEqual(conv2dS8FastPreparedSize(p), selected.prepared)
        XCTAssertEqual(conv2dS8FastRunScratchSize(p), selected.run)
        XCTAssertEqual(conv2dS8FastScratchSize(p), selected.prepared + selected.run)
    }

    /// The micro-kernels' edge: odd tap counts per kernel row (the paired variants' zero-weight phantom tap),
    /// widths 1...6 around their 2- and 4-pixel blocks, Cin 1...7, every kernel size up to 7 x 7, Cout 16...64;
    /// each variant against the reference.
    func testEveryVariantOnOddTapsAndNarrowRows() {
        var rng = SplitMix64(seed: 4242)
        var fast = 0
        for n in 0..<300 {
            let kh = [1, 3, 5, 7][rng.int(0, 3)], kw = [1, 3, 5, 7][rng.int(0, 3)]
            let c = randomCase(&rng, h: rng.int(1, 6), w: rng.int(1, 6), cin: rng.int(1, 7), cout: 16 * rng.int(1, 4),
                               kh: kh, kw: kw, ph: rng.int(1, 3), pw: rng.int(1, 3), extreme: n % 5 == 0)
            if fastPathRuns(c) { fast += 1 }
            let ref = reference(c)
            for (name, out) in allVariants(c) { XCTAssertEqual(out, ref, "micro-kernel \(name) case \(n)") }
        }
        XCTAssertGreaterThan(fast, 150)
    }

    /// The interpreter plans the fast kernel's prepared buffer (alive for the whole run) and run scratch for
    /// every conv2d, and each conv2d output of a run equals the reference kernel's on the same input.
    func testInterpreterUsesPreparedFastConvBitExactly() throws {
        for kind in [TinyKind.gru, .lstm] {
            let bytes = buildPaperModel(recurrent: kind).encode()
            try bytes.withUnsafeBytes { raw in
                let model = try ModelFile(bytes: raw)
                let plan = ArenaPlan(model: model)
                var convs = 0
                for i in 0..<model.operatorCount where model.op(i).opcode == .conv2d {
                    let p = Interpreter.convParams(model, model.op(i))
                    XCTAssertTrue(conv2dS8FastSupports(p))
                    XCTAssertEqual(plan.scratchSizes[i], conv2dS8FastRunScratchSize(p))
                    XCTAssertEqual(plan.preparedSizes[i], conv2dS8FastPreparedSize(p))
                    XCTAssertEqual(plan.scratchOffsets[i] % 16, 0)
                    XCTAssertEqual(plan.preparedOffsets[i] % 16, 0)
                    convs += 1
                }
                XCTAssertEqual(convs, 3)
                for keepAll in [true, false] {
                    let it = try Interpreter(model: model, keepAllActivations: keepAll)
                    var g = SplitMix64(seed: 77)
                    let features = (0..<(130 * 23)).map { _ in Int32(truncatingIfNeeded: g.next()) >> 14 }
                    for round in 0..<2 {  // the second run checks that prepared data survives a run
                        try features.withUnsafeBufferPointer { try it.run(features: $0) }
                        guard keepAll else { continue }
                        for i in 0..<model.operatorCount where model.op(i).opcode == .conv2d {
                            let o = model.op(i)
                            let p = Interpreter.convParams(model, o)
                            var ref = [Int8](repeating: 0, count: p.outputCount)
                            ref.withUnsafeMutableBufferPointer { r in
                                conv2dS8(p, input: UnsafeBufferPointer(it.int8Tensor(o.input(0))), weights: model.int8Data(o.input(1)),
                                         bias: model.int32Data(o.input(2)), requant: it.requant(o, 3, 4), output: r, scratch: noScratch)
                            }
                            XCTAssertEqual(Array(it.int8Tensor(o.output)), ref, "op \(i) round \(round)")
                        }
                    }
                }
            }
        }
    }
}

private extension Int32 {
    func clamped(_ lo: Int32, _ hi: Int32) -> Int32 { Swift.min(Swift.max(self, lo), hi) }
}
