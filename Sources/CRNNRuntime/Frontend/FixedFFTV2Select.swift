// The one place that picks FixedRealFFTV2's radix-4 stage kernel, at compile time: SSE2 on x86-64 (every x86-64
// CPU has it), NEON on aarch64 (every aarch64 CPU has it), the portable Swift one elsewhere or with
// `-D CRNN_FFT_PORTABLE`. All variants give the same bits (test
// FixedPointMFCCVersion2Tests.testStageKernelsAgreeBitForBit; NEON under QEMU: tools/conv_variants_qemu.sh).

#if CRNN_FFT_PORTABLE
typealias FFTSelectedRadix4Kernel = FFTRadix4StagePortable
let fftSelectedRadix4KernelName: StaticString = "portable"
#elseif arch(x86_64)
typealias FFTSelectedRadix4Kernel = FFTRadix4StageSSE2
let fftSelectedRadix4KernelName: StaticString = "sse2"
#elseif arch(arm64)
typealias FFTSelectedRadix4Kernel = FFTRadix4StageNEON
let fftSelectedRadix4KernelName: StaticString = "neon"
#else
typealias FFTSelectedRadix4Kernel = FFTRadix4StagePortable
let fftSelectedRadix4KernelName: StaticString = "portable"
#endif
