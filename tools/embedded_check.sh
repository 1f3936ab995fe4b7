#!/usr/bin/env bash
# Compiles CRNNRuntime as Embedded Swift for aarch64 and armv7 hard-float (the recipes in DESIGN.md), so that
# nothing Embedded Swift cannot compile (Foundation, existentials, untyped throws, ...) creeps into the runtime.
# Needs the Swift toolchain only (clang ships with it). Prints the text size of each object.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
src=(Sources/CRNNRuntime/*.swift)
swiftc=$(command -v swiftc)
clang="$(dirname "$swiftc")/clang"

"$swiftc" -target aarch64-none-none-elf -enable-experimental-feature Embedded -wmo -Osize -parse-as-library \
    -Xcc -fPIC -module-name CRNNRuntime -c "${src[@]}" -o "$out/runtime-aarch64.o"
"$swiftc" -target armv7-none-none-eabi -enable-experimental-feature Embedded -wmo -Osize -parse-as-library \
    -module-name CRNNRuntime -emit-ir "${src[@]}" -o "$out/runtime-armv7.ll"
"$clang" --target=armv7-unknown-linux-gnueabihf -mfloat-abi=hard -Wno-override-module -O2 -fPIC -c "$out/runtime-armv7.ll" -o "$out/runtime-armv7.o"

for arch in aarch64 armv7; do
    bytes=$(size -A "$out/runtime-$arch.o" 2>/dev/null | awk '$1 ~ /^\.text/ {s += $2} END {print s + 0}')
    echo "embedded-check: $arch ok, CRNNRuntime .text $bytes bytes"
done
