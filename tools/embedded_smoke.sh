#!/usr/bin/env bash
# Cross-builds the runtime + tools/embedded_smoke_main.swift as Embedded Swift for aarch64 and armv7 hard-float,
# links with tools/embedded_smoke.c, runs both under QEMU and checks the logits against the regression fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
SRC="$(find Sources/CRNNRuntime -name '*.swift' | sort | tr '\n' ' ')tools/paper_test_model.swift tools/embedded_smoke_main.swift"
swiftc -target aarch64-none-none-elf -enable-experimental-feature Embedded -wmo -Osize -parse-as-library -Xcc -fPIC -c $SRC -o $T/smoke-a64.o
aarch64-linux-gnu-gcc -static-pie tools/embedded_smoke.c $T/smoke-a64.o -o $T/smoke-a64
echo "aarch64:"; qemu-aarch64-static $T/smoke-a64
swiftc -target armv7-none-none-eabi -enable-experimental-feature Embedded -wmo -Osize -parse-as-library -emit-ir $SRC -o $T/smoke-v7.ll
"$(dirname "$(command -v swiftc)")/clang" --target=armv7-unknown-linux-gnueabihf -mfloat-abi=hard -Wno-override-module -O2 -fPIC -c $T/smoke-v7.ll -o $T/smoke-v7.o 2>/dev/null
arm-linux-gnueabihf-gcc -static tools/embedded_smoke.c $T/smoke-v7.o -o $T/smoke-v7
echo "armv7:"; qemu-arm-static $T/smoke-v7
