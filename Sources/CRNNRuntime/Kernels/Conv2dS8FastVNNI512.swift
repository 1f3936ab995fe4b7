// Conv2dMicroKernelVNNI512: the fast convolution's micro-kernel for x86-64 CPUs with AVX-512 VNNI (Ice Lake and
// later, Sapphire Rapids, Zen 4/5): the AVX-VNNI kernel's scheme (Conv2dS8FastVNNI.swift: int8 band flipped to
// x + 128 by the driver, tap quads packed as int8, `vpdpbusd`, 128 * sum w subtracted at the start) on 512-bit
// registers, where one register holds the 16 channels of a block: `_mm512_dpbusd_epi32` makes 64 byte products in
// 16 Int32 lanes per instruction, half the instructions of the 256-bit kernel. Pixels go eight at a time (eight
// independent accumulators hide `vpdpbusd`'s latency), then four, then one.
//
// Exactness: the VNNI kernel's argument (each group of 4 products <= 4 * 255 * 128 < 2^17, wrapping Int32 sums,
// sum (x + 128) w - 128 sum w = sum x w). Needs AVX-512F/BW and AVX-512 VNNI, not in the x86-64 baseline: compiled
// only with -D CRNN_CONV_AVX512 and a target CPU that has them (tools/native-flags.sh adds it on a CPU that reports
// `avx512_vnni` and `avx512bw`). The requantization epilogue is the SSE2 one (exact doubles).

#if CRNN_CONV_AVX512 && arch(x86_64)
import _Builtin_intrinsics.intel

enum Conv2dMicroKernelVNNI512: Conv2dMicroKernel {
    typealias Epilogue = Conv2dEpilogueSSE2

    static var bandElementBytes: Int { 1 }
    static var bandSlackBytes: Int { 16 }
    static var bandFlip: Bool { true }
    static var tapGroup: Int { 4 }
    static var name: StaticString { "avx512vnni" }

    /// The 4 flipped band bytes at `p`, repeated in the 16 lanes.
    @inline(__always) static func quad(_ p: UnsafeRawPointer) -> __m512i { _mm512_set1_epi32(p.loadUnaligned(as: Int32.self)) }
    @inline(__always) static func dot(_ a: inout __m512i, _ w: __m512i, _ band: UnsafeRawPointer) {
        a = _mm512_dpbusd_epi32(a, quad(band), w)
    }
    /// best[0..<16] = max(best[...], acc) (`vpmaxsd`).
    @inline(__always) static func poolMax(_ best: UnsafeMutablePointer<Int32>, _ acc: __m512i) {
        let raw = UnsafeMutableRawPointer(best)
        raw.storeBytes(of: _mm512_max_epi32(raw.loadUnaligned(as: __m512i.self), acc), as: __m512i.self)
    }

    static func row(_ g: Conv2dRowGeometry, band: UnsafeRawPointer, packed: UnsafeRawPointer, cb: Int,
                    bias: UnsafePointer<Int32>, best: UnsafeMutablePointer<Int32>, column: UnsafePointer<Int32>) {
        let taps = tapLoop(g, packed: packed, cb: cb)
        let corr = channelConstants(g, packed: packed, cb: cb).loadUnaligned(as: __m512i.self)
        let start = _mm512_sub_epi32(UnsafeRawPointer(bias).loadUnaligned(as: __m512i.self), corr)
        let px = g.channels, width = g.width
        var x = 0
        while x &+ 8 <= width {
            var a0 = start, a1 = start, a2 = start, a3 = start, a4 = start, a5 = start, a6 = start, a7 = start
            taps.run(band + x &* px) { r, wp in
                let w = wp.loadUnaligned(as: __m512i.self)
                dot(&a0, w, r); dot(&a1, w, r + px); dot(&a2, w, r + 2 &* px); dot(&a3, w, r + 3 &* px)
                dot(&a4, w, r + 4 &* px); dot(&a5, w, r + 5 &* px); dot(&a6, w, r + 6 &* px); dot(&a7, w, r + 7 &* px)
            }
            poolMax(best + Int(column[x]), a0); poolMax(best + Int(column[x &+ 1]), a1)
            poolMax(best + Int(column[x &+ 2]), a2); poolMax(best + Int(column[x &+ 3]), a3)
            poolMax(best + Int(column[x &+ 4]), a4); poolMax(best + Int(column[x &+ 5]), a5)
            poolMax(best + Int(column[x &+ 6]), a6); poolMax(best + Int(column[x &+ 7]), a7)
            x &+= 8
        }
        if x &+ 4 <= width {
            var a0 = start, a1 = start, a2 = start, a3 = start
            taps.run(band + x &* px) { r, wp in
                let w = wp.loadUnaligned(as: __m512i.self)
                dot(&a0, w, r); dot(&a1, w, r + px); dot(&a2, w, r + 2 &* px); dot(&a3, w, r + 3 &* px)
            }
            poolMax(best + Int(column[x]), a0); poolMax(best + Int(column[x &+ 1]), a1)
            poolMax(best + Int(column[x &+ 2]), a2); poolMax(best + Int(column[x &+ 3]), a3)
            x &+= 4
        }
        while x < width {
            var a = start
            taps.run(band + x &* px) { r, wp in dot(&a, wp.loadUnaligned(as: __m512i.self), r) }
            poolMax(best + Int(column[x]), a)
            x &+= 1
        }
    }
}
#endif
