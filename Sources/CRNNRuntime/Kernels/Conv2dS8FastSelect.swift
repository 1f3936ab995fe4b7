// The one place that picks the fast convolution's micro-kernel, at compile time. The portable build (no flags)
// takes the baseline variant of its architecture, which every CPU of that architecture has (x86-64: SSE2;
// aarch64: NEON, the int8 `smull` + `sadalp` one; `-D CRNN_CONV_NEON_SMLAL` the `smlal` by-element one); anything
// else gets the portable Swift one. `-D CRNN_CONV_PORTABLE` forces the portable one
// (for comparisons); `-D CRNN_CONV_AVX2` (with a target CPU that has AVX2) picks the AVX2 one on x86-64, and with
// `-D CRNN_CONV_VNNI` too (a CPU with AVX-VNNI) the `vpdpbusd` one; `-D CRNN_CONV_AVX512` (a CPU with AVX-512 VNNI)
// the 512-bit `vpdpbusd` one;
// `-D CRNN_CONV_DOTPROD` (with a target CPU that has the dot product extension, e.g. cortex-a76) the `sdot` one on
// aarch64.
// `-D CRNN_CONV_SMLAD` picks the Armv7E-M DSP one (Cortex-M4/M7) on 32-bit Arm.
// tools/native-flags.sh prints the flags for the machine it runs on. All variants give the
// same bits; the packed-weight layout (and so the prepared buffer's size) belongs to the variant.

#if CRNN_CONV_PORTABLE
typealias Conv2dSelectedMicroKernel = Conv2dMicroKernelPortable
#elseif CRNN_CONV_SMLAD && arch(arm)
typealias Conv2dSelectedMicroKernel = Conv2dMicroKernelSMLAD
#elseif CRNN_CONV_AVX512 && arch(x86_64)
typealias Conv2dSelectedMicroKernel = Conv2dMicroKernelVNNI512
#elseif CRNN_CONV_VNNI && CRNN_CONV_AVX2 && arch(x86_64)
typealias Conv2dSelectedMicroKernel = Conv2dMicroKernelVNNI
#elseif CRNN_CONV_AVX2 && arch(x86_64)
typealias Conv2dSelectedMicroKernel = Conv2dMicroKernelAVX2
#elseif arch(x86_64)
typealias Conv2dSelectedMicroKernel = Conv2dMicroKernelSSE2
#elseif CRNN_CONV_DOTPROD && arch(arm64)
typealias Conv2dSelectedMicroKernel = Conv2dMicroKernelDotProd
#elseif CRNN_CONV_NEON_SMLAL && arch(arm64)
typealias Conv2dSelectedMicroKernel = Conv2dMicroKernelNEON
#elseif arch(arm64)
typealias Conv2dSelectedMicroKernel = Conv2dMicroKernelNEONMull
#else
typealias Conv2dSelectedMicroKernel = Conv2dMicroKernelPortable
#endif

/// The selected variant's name ("portable", "smlad", "avx512vnni", "vnni", "avx2", "neon-mull", "sse2", "dotprod", "neon"), for reports.
var conv2dSelectedMicroKernelName: StaticString { Conv2dSelectedMicroKernel.name }
