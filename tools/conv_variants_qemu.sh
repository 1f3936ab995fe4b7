#!/usr/bin/env bash
# Cross-builds the conv micro-kernel battery (tools/embedded/conv_variants_main.swift) and the FFT stage kernel
# battery (tools/embedded/fft_stage_variants.swift) with the runtime as Embedded Swift for aarch64 (selected kernels:
# NEON conv, NEON FFT stage), aarch64 with the dot product extension (-D CRNN_CONV_DOTPROD: sdot), armv7
# hard-float (portable) and armv7 with -D CRNN_CONV_SMLAD (the Cortex-M micro-kernel), runs them under QEMU (and
# natively on an x86-64 host, built for its CPU) and prints
# `conv variants: <arch> K/K bit-exact` (each micro-kernel of the target against the reference conv2dS8) and
# `fft stage kernels: <arch> K/K bit-exact` (each radix-4 stage kernel of the target against FFTRadix4StagePortable,
# and FixedRealFFTV2.powerSpectrum against the same steps with the portable kernel). Exits non-zero on any mismatch.
# Usage: tools/conv_variants_qemu.sh [conv cases, default 300] [FFT frames per length, default 12]. Needs the
# packages of tools/embedded_smoke.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${1:-300}
FRAMES=${2:-12}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mapfile -t SRC < <(tools/swiftc.sh runtime-sources)
SRC+=(tools/embedded/conv_variants_main.swift tools/embedded/fft_stage_variants.swift)
tools/swiftc.sh embedded aarch64 "$T/cv-a64.o" "${SRC[@]}"
aarch64-linux-gnu-gcc -static-pie tools/embedded/conv_variants.c "$T/cv-a64.o" -o "$T/cv-a64"
qemu-aarch64-static "$T/cv-a64" aarch64 "$CASES" "$FRAMES"
# aarch64 with the dot product extension (Pi 5's Cortex-A76): the sdot micro-kernel, on QEMU's `max` CPU.
tools/swiftc.sh embedded aarch64 "$T/cv-a64dp.o" "${SRC[@]}" -D CRNN_CONV_DOTPROD -target-cpu cortex-a76 \
    -Xcc -march=armv8.2-a+dotprod
aarch64-linux-gnu-gcc -static-pie tools/embedded/conv_variants.c "$T/cv-a64dp.o" -o "$T/cv-a64dp"
qemu-aarch64-static -cpu max "$T/cv-a64dp" aarch64-dotprod "$CASES" "$FRAMES"
tools/swiftc.sh embedded armv7 "$T/cv-v7.o" "${SRC[@]}"
arm-linux-gnueabihf-gcc -static tools/embedded/conv_variants.c "$T/cv-v7.o" -o "$T/cv-v7"
qemu-arm-static "$T/cv-v7" armv7 "$CASES" "$FRAMES"
# armv7 with -D CRNN_CONV_SMLAD: the Cortex-M4/M7 micro-kernel (`smlad`, `sxtb16`: in every Armv7-A too), so that it
# meets the random battery here as well as firmware-sim's self-test on the Cortex-M image.
tools/swiftc.sh embedded armv7 "$T/cv-v7s.o" "${SRC[@]}" -D CRNN_CONV_SMLAD
arm-linux-gnueabihf-gcc -static tools/embedded/conv_variants.c "$T/cv-v7s.o" -o "$T/cv-v7s"
qemu-arm-static "$T/cv-v7s" armv7-smlad "$CASES" "$FRAMES"
# On an x86-64 host, natively: built for this CPU (tools/native-flags.sh), so the SSE2 micro-kernel and whichever of
# AVX2 / AVX-VNNI the CPU has run against the reference (they are compiled only for such a CPU; `swift test` on the
# portable build checks the SSE2 one).
if [ "$(uname -m)" = x86_64 ]; then
    read -r -a NATIVE <<< "$(tools/native-flags.sh --swiftc)"
    tools/swiftc.sh embedded x86_64 "$T/cv-x64.o" "${SRC[@]}" "${NATIVE[@]}"
    gcc tools/embedded/conv_variants.c "$T/cv-x64.o" -o "$T/cv-x64"
    "$T/cv-x64" "x86_64 (${NATIVE[*]})" "$CASES" "$FRAMES"
fi
