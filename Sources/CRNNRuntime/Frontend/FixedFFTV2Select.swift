// The one place that picks FixedRealFFTV2's radix-4 stage kernel, at compile time: SSE2 on x86-64 (every x86-64
// CPU has it), the portable Swift one elsewhere or with `-D CRNN_FFT_PORTABLE`. All variants give the same bits
// (test FixedPointMFCCVersion2Tests.testStageKernelsAgreeBitForBit).

#if CRNN_FFT_PORTABLE
typealias FFTSelectedRadix4Kernel = FFTRadix4StagePortable
let fftSelectedRadix4KernelName: StaticString = "portable"
#elseif arch(x86_64)
typealias FFTSelectedRadix4Kernel = FFTRadix4StageSSE2
let fftSelectedRadix4KernelName: StaticString = "sse2"
#else
typealias FFTSelectedRadix4Kernel = FFTRadix4StagePortable
let fftSelectedRadix4KernelName: StaticString = "portable"
#endif
