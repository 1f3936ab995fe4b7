// The one place that picks FixedRealFFTV2's radix-4 stage kernel, at compile time: SSE2 on x86-64 (every x86-64
// CPU has it; AVX2 with `-D CRNN_FFT_AVX2` in a build for a CPU that has it, as tools/native-flags.sh prints, and
// AVX-512 with `-D CRNN_FFT_AVX512` as well on an AVX-512 BW CPU),
// NEON on aarch64 (every aarch64 CPU has it), the portable Swift one elsewhere or with `-D CRNN_FFT_PORTABLE`. All variants give the same bits (test
// FixedPointMFCCVersion2Tests.testStageKernelsAgreeBitForBit; NEON under QEMU: tools/conv_variants_qemu.sh).

#if CRNN_FFT_AVX512 && CRNN_FFT_AVX2 && arch(x86_64) && !CRNN_FFT_PORTABLE
typealias FFTSelectedRadix4Kernel = FFTRadix4StageAVX512
#elseif CRNN_FFT_AVX2 && arch(x86_64) && !CRNN_FFT_PORTABLE
typealias FFTSelectedRadix4Kernel = FFTRadix4StageAVX2
#elseif arch(x86_64) && !CRNN_FFT_PORTABLE
typealias FFTSelectedRadix4Kernel = FFTRadix4StageSSE2
#elseif arch(arm64) && !CRNN_FFT_PORTABLE
typealias FFTSelectedRadix4Kernel = FFTRadix4StageNEON
#else
typealias FFTSelectedRadix4Kernel = FFTRadix4StagePortable
#endif

/// The selected variant's name ("portable", "sse2", "avx2", "avx512", "neon"), for reports.
var fftSelectedRadix4KernelName: StaticString { FFTSelectedRadix4Kernel.name }
