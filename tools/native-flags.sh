#!/usr/bin/env bash
# Prints the `swift build` / `swift test` flags that tune CRNNRuntime for the CPU of the machine this runs on:
# the target CPU (-target-cpu native) and the conv micro-kernel and FFT stage kernel the CPU can run beyond its architecture's
# baseline (Sources/CRNNRuntime/Kernels/Conv2dS8FastSelect.swift). The binary then needs this CPU (or a
# newer one): use it for benchmarks and board builds, never in Package.swift. With no flags the build takes
# the baseline variant (x86-64: SSE2, aarch64: NEON), correct on any CPU of the architecture.
# Usage: swift build -c release $(bash tools/native-flags.sh)
#        bash tools/native-flags.sh --swiftc    # the same for a plain swiftc command line (no -Xswiftc)
set -euo pipefail
flags=(-target-cpu native)
case "$(uname -m)" in
  x86_64)
    if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then flags+=(-DCRNN_CONV_AVX2 -DCRNN_FFT_AVX2); fi
    # AVX-512 F/BW: the FFT stage eight butterflies a pass (FixedFFTV2AVX512.swift; it falls back on the AVX2 one).
    if grep -qw avx512bw /proc/cpuinfo 2>/dev/null && grep -qw avx2 /proc/cpuinfo; then flags+=(-DCRNN_FFT_AVX512); fi
    # AVX-VNNI (vpdpbusd on 256-bit registers): the VNNI micro-kernel, which also uses the AVX2 one's pool step.
    if grep -qw avx_vnni /proc/cpuinfo 2>/dev/null && grep -qw avx2 /proc/cpuinfo; then flags+=(-DCRNN_CONV_VNNI); fi
    # AVX-512 VNNI (vpdpbusd on 512-bit registers, one register per 16-channel block): preferred where present.
    if grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null && grep -qw avx512bw /proc/cpuinfo; then flags+=(-DCRNN_CONV_AVX512); fi ;;
  aarch64|arm64)  # NEON is the baseline; the sdot micro-kernel needs the dot product extension (asimddp)
    if grep -qw asimddp /proc/cpuinfo 2>/dev/null; then flags+=(-DCRNN_CONV_DOTPROD -Xcc -march=armv8.2-a+dotprod); fi ;;
esac
if [ "${1:-}" = "--swiftc" ]; then
  echo "${flags[*]}"
else
  out=()
  for f in "${flags[@]}"; do out+=(-Xswiftc "$f"); done
  echo "${out[*]}"
fi
