#!/usr/bin/env bash
# Compiles Sources/CRNNRuntime as Embedded Swift for aarch64 and armv7 hard-float (the recipes of DESIGN.md)
# and prints the size of each object. Exits non-zero when either compilation fails. Run from the package root.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
RT=$(find Sources/CRNNRuntime -name '*.swift' | sort)  # sub-folders: Format/, Ops/, Kernels/, ...
swiftc -target aarch64-none-none-elf -enable-experimental-feature Embedded -wmo -Osize -parse-as-library -Xcc -fPIC -c $RT -o $T/rt-a64.o
swiftc -target armv7-none-none-eabi -enable-experimental-feature Embedded -wmo -Osize -parse-as-library -emit-ir $RT -o $T/rt.ll && "$(dirname "$(command -v swiftc)")/clang" --target=armv7-unknown-linux-gnueabihf -mfloat-abi=hard -Wno-override-module -O2 -fPIC -c $T/rt.ll -o $T/rt-v7.o
size $T/rt-a64.o $T/rt-v7.o
