#!/usr/bin/env bash
# Cross-builds the conv micro-kernel battery (tools/conv_variants_main.swift) with the runtime as Embedded Swift
# for aarch64 (selected kernel: NEON) and armv7 hard-float (portable), runs both under QEMU and prints
# `conv variants: <arch> K/K bit-exact` (each micro-kernel of the target against the reference conv2dS8).
# Usage: tools/conv_variants_qemu.sh [cases, default 300]. Needs the packages of tools/embedded_smoke.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${1:-300}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SRC="$(find Sources/CRNNRuntime -name '*.swift' | sort | tr '\n' ' ')tools/conv_variants_main.swift"
swiftc -target aarch64-none-none-elf -enable-experimental-feature Embedded -wmo -O -parse-as-library -Xcc -fPIC -c $SRC -o $T/cv-a64.o
aarch64-linux-gnu-gcc -static-pie tools/conv_variants_qemu.c $T/cv-a64.o -o $T/cv-a64
qemu-aarch64-static $T/cv-a64 aarch64 "$CASES"
swiftc -target armv7-none-none-eabi -enable-experimental-feature Embedded -wmo -O -parse-as-library -emit-ir $SRC -o $T/cv-v7.ll
"$(dirname "$(command -v swiftc)")/clang" --target=armv7-unknown-linux-gnueabihf -mfloat-abi=hard -Wno-override-module -O2 -fPIC -c $T/cv-v7.ll -o $T/cv-v7.o 2>/dev/null
arm-linux-gnueabihf-gcc -static tools/conv_variants_qemu.c $T/cv-v7.o -o $T/cv-v7
qemu-arm-static $T/cv-v7 armv7 "$CASES"
