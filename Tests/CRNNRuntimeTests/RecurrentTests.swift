import Foundation
import XCTest
@testable import CRNNRuntime

/// gruS8 / lstmS8: hand-checked steps, then against a Double Keras-semantics GRU/LSTM written here that runs
/// with the dequantized int8 weights and inputs but a float state and exact sigmoid/tanh.
final class RecurrentTests: XCTestCase {
    struct Layer {
        var p: RecurrentS8Params
        var wx: [Int8], wh: [Int8], bx: [Int32], bh: [Int32]
        var mx: [Int32], sx: [Int32], mh: [Int32], sh: [Int32]
    }

    func run(_ l: Layer, _ x: [Int8], lstm: Bool) -> [Int8] {
        var out = [Int8](repeating: 99, count: l.p.outputCount)
        let scratchBytes = lstm ? lstmS8ScratchSize(l.p) : gruS8ScratchSize(l.p)
        withScratch(scratchBytes) { sc in
            l.wx.withUnsafeBufferPointer { wx in l.wh.withUnsafeBufferPointer { wh in
                l.bx.withUnsafeBufferPointer { bx in l.bh.withUnsafeBufferPointer { bh in
                    withRequant(l.mx, l.sx) { rx in withRequant(l.mh, l.sh) { rh in
                        let w = RecurrentS8Weights(inputWeights: wx, recurrentWeights: wh, inputBias: bx,
                                                   recurrentBias: bh, inputRequant: rx, recurrentRequant: rh)
                        x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBufferPointer { op in
                            if lstm { lstmS8(l.p, input: xp, weights: w, output: op, scratch: sc) }
                            else { gruS8(l.p, input: xp, weights: w, output: op, scratch: sc) }
                        } }
                    } }
                } }
            } }
        }
        return out
    }

    /// One unit, one input, all weights zero; the candidate's input bias is 1.0 in Q3.12 (4096 with a
    /// multiplier of exactly 1.0): z = r = 0.5, n = tanh(1) = 24956/32768, h' = round((h*256*16384 + 16384*24956) / 2^23).
    func testGruHandChecked() {
        let p = RecurrentS8Params(timeSteps: 3, inputSize: 1, units: 1, inputZeroPoint: 0, returnSequences: true)
        let l = Layer(p: p, wx: [0, 0, 0], wh: [0, 0, 0], bx: [0, 0, 4096], bh: [0, 0, 0],
                      mx: [1 << 30, 1 << 30, 1 << 30], sx: [1, 1, 1], mh: [1 << 30, 1 << 30, 1 << 30], sh: [1, 1, 1])
        XCTAssertEqual(tanhQ15(4096), 24956)
        // 16384*24956/2^23 = 48.74 -> 49; 16384*(49*256+24956)/2^23 = 73.24 -> 73; (73*256+24956)/512 = 85.24 -> 85.
        XCTAssertEqual(run(l, [7, 7, 7], lstm: false), [49, 73, 85])
        var last = l; last.p.returnSequences = false
        XCTAssertEqual(run(last, [7, 7, 7], lstm: false), [85])
        // The reset gate scales only the recurrent candidate term: with r forced to ~0 (bias -8.0) a large
        // recurrent candidate bias has no effect.
        var reset = l
        reset.bx = [0, -32768, 4096]; reset.bh = [0, 0, 16384]  // rbh = 4.0 in Q3.12 at multiplier 1.0
        XCTAssertEqual(run(reset, [7, 7, 7], lstm: false), [49, 73, 85])
        reset.bx = [0, 32767, 4096]  // r ~ 1: candidate tanh(1 + 4) = 0.99991 -> h grows to ~0.5, 0.75, ...
        XCTAssertEqual(run(reset, [7, 7, 7], lstm: false), [64, 96, 112])
    }

    func testLstmHandChecked() {
        let p = RecurrentS8Params(timeSteps: 2, inputSize: 1, units: 1, inputZeroPoint: 0, returnSequences: true,
                                  cellFractionBits: 12)
        let one = [Int32](repeating: 1 << 30, count: 4), sh = [Int32](repeating: 1, count: 4)
        let l = Layer(p: p, wx: [0, 0, 0, 0], wh: [0, 0, 0, 0], bx: [0, 0, 4096, 0], bh: [0, 0, 0, 0],
                      mx: one, sx: sh, mh: one, sh: sh)
        // i = f = o = 16384 (0.5), g = 24956. c1 = round(16384*24956 / 2^18) = 1560 (0.38086);
        // c2 = round((16384*1560*2^3 + 16384*24956) / 2^18) = round(780 + 1559.75) = 2340.
        let h1 = (16384 * Int32(tanhQ15(1560)) + (1 << 22)) >> 23
        let h2 = (16384 * Int32(tanhQ15(2340)) + (1 << 22)) >> 23
        XCTAssertEqual(run(l, [1, 1], lstm: true), [Int8(h1), Int8(h2)])
        XCTAssertEqual(h1, 23)  // 0.5 * tanh(0.38086) * 128 = 23.26
        XCTAssertEqual(h2, 33)  // 0.5 * tanh(0.57129) * 128 = 33.08
        // Cell format Q4.11 (k = 11) gives the same h here within one LSB.
        var l11 = l; l11.p.cellFractionBits = 11
        let r11 = run(l11, [1, 1], lstm: true)
        XCTAssertLessThanOrEqual(abs(Int(r11[1]) - Int(h2)), 1)
    }

    /// Random layer: float weights quantized per row, reference in Double with a float state.
    func randomLayer(gates: Int, T: Int, I: Int, U: Int, seed: UInt64, sIn: Double, zi: Int32, lstm: Bool)
        -> (Layer, [Double], [Double], [Double], [Double], [Int8]) {
        var rng = SplitMix64(seed: seed)
        func uni(_ a: Double) -> Double { Double(rng.int(-10000, 10000)) / 10000 * a }
        let rows = gates * U
        let wxF = (0..<(rows * I)).map { _ in uni(0.4) }, whF = (0..<(rows * U)).map { _ in uni(0.6) }
        let bxF = (0..<rows).map { _ in uni(0.5) }, bhF = (0..<rows).map { _ in lstm ? 0 : uni(0.5) }
        var wx = [Int8](), wh = [Int8](), bx = [Int32](), bh = [Int32]()
        var rx = [Double](), rh = [Double](), wxD = [Double](), whD = [Double]()
        for r in 0..<rows {
            let sWx = (0..<I).map { abs(wxF[r * I + $0]) }.max()! / 127
            let sWh = (0..<U).map { abs(whF[r * U + $0]) }.max()! / 127
            for i in 0..<I { let q = Int8((wxF[r * I + i] / sWx).rounded()); wx.append(q); wxD.append(Double(q) * sWx) }
            for k in 0..<U { let q = Int8((whF[r * U + k] / sWh).rounded()); wh.append(q); whD.append(Double(q) * sWh) }
            bx.append(Int32((bxF[r] / (sIn * sWx)).rounded()))
            bh.append(Int32((bhF[r] / (sWh / 128)).rounded()))
            rx.append(sIn * sWx * 4096); rh.append(sWh / 128 * 4096)
        }
        let (mx, sx) = requantArrays(rx), (mh, sh) = requantArrays(rh)
        let p = RecurrentS8Params(timeSteps: T, inputSize: I, units: U, inputZeroPoint: zi, returnSequences: true)
        let x = (0..<(T * I)).map { _ in rng.int8() }
        // Dequantized biases as the integer code sees them.
        let bxD = (0..<rows).map { Double(bx[$0]) * rx[$0] / 4096 }
        let bhD = (0..<rows).map { Double(bh[$0]) * rh[$0] / 4096 }
        return (Layer(p: p, wx: wx, wh: wh, bx: bx, bh: bh, mx: mx, sx: sx, mh: mh, sh: sh), wxD, whD, bxD + bhD, [], x)
    }

    func testGruAgainstDouble() {
        var maxErr = 0.0
        for seed in UInt64(1)...6 {
            let T = 6, I = 32, U = 20, sIn = 0.05, zi: Int32 = -9
            let (l, wxD, whD, b, _, x) = randomLayer(gates: 3, T: T, I: I, U: U, seed: seed, sIn: sIn, zi: zi, lstm: false)
            let q = run(l, x, lstm: false)
            let bx = Array(b[0..<(3 * U)]), bh = Array(b[(3 * U)...])
            var h = [Double](repeating: 0, count: U)
            for t in 0..<T {
                let xt = (0..<I).map { sIn * Double(Int32(x[t * I + $0]) - zi) }
                func part(_ row: Int) -> (Double, Double) {
                    var ax = bx[row], ah = bh[row]
                    for i in 0..<I { ax += xt[i] * wxD[row * I + i] }
                    for k in 0..<U { ah += h[k] * whD[row * U + k] }
                    return (ax, ah)
                }
                var hn = h
                for j in 0..<U {
                    let (xz, hz) = part(j), (xr, hr) = part(U + j), (xh, hh) = part(2 * U + j)
                    let z = sigmoidD(xz + hz), r = sigmoidD(xr + hr)
                    let n = tanh(xh + r * hh)
                    hn[j] = z * h[j] + (1 - z) * n
                }
                h = hn
                for j in 0..<U { maxErr = max(maxErr, abs(Double(q[t * U + j]) - min(h[j] * 128, 127))) }
            }
        }
        print("gruS8 vs Double GRU: max |error| = \(maxErr) LSB of the 2^-7 state")
        XCTAssertLessThanOrEqual(maxErr, 2.0)
    }

    func testLstmAgainstDouble() {
        var maxErr = 0.0
        for seed in UInt64(1)...6 {
            let T = 6, I = 32, U = 30, sIn = 0.05, zi: Int32 = 3
            let (l, wxD, whD, b, _, x) = randomLayer(gates: 4, T: T, I: I, U: U, seed: seed + 100, sIn: sIn, zi: zi, lstm: true)
            let q = run(l, x, lstm: true)
            let bias = (0..<(4 * U)).map { b[$0] + b[4 * U + $0] }
            var h = [Double](repeating: 0, count: U), c = [Double](repeating: 0, count: U)
            for t in 0..<T {
                let xt = (0..<I).map { sIn * Double(Int32(x[t * I + $0]) - zi) }
                func pre(_ row: Int) -> Double {
                    var a = bias[row]
                    for i in 0..<I { a += xt[i] * wxD[row * I + i] }
                    for k in 0..<U { a += h[k] * whD[row * U + k] }
                    return a
                }
                var hn = h
                for j in 0..<U {
                    let i = sigmoidD(pre(j)), f = sigmoidD(pre(U + j)), g = tanh(pre(2 * U + j)), o = sigmoidD(pre(3 * U + j))
                    c[j] = f * c[j] + i * g
                    hn[j] = o * tanh(c[j])
                }
                h = hn
                for j in 0..<U { maxErr = max(maxErr, abs(Double(q[t * U + j]) - min(h[j] * 128, 127))) }
            }
        }
        print("lstmS8 vs Double LSTM: max |error| = \(maxErr) LSB of the 2^-7 state")
        XCTAssertLessThanOrEqual(maxErr, 2.0)
    }
}
