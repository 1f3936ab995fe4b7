#!/usr/bin/env bash
# Cross-builds the runtime + tools/embedded_smoke_main.swift as Embedded Swift for aarch64 and armv7 hard-float,
# links with tools/embedded_smoke.c, runs both under QEMU and checks the logits against the regression fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="Sources/CRNNRuntime/*.swift tools/embedded_smoke_main.swift"
swiftc -target aarch64-none-none-elf -enable-experimental-feature Embedded -wmo -Osize -parse-as-library -Xcc -fPIC -c $SRC -o /tmp/smoke-a64.o
aarch64-linux-gnu-gcc -static-pie tools/embedded_smoke.c /tmp/smoke-a64.o -o /tmp/smoke-a64
echo "aarch64:"; qemu-aarch64-static /tmp/smoke-a64
swiftc -target armv7-none-none-eabi -enable-experimental-feature Embedded -wmo -Osize -parse-as-library -emit-ir $SRC -o /tmp/smoke-v7.ll
/opt/swift/usr/bin/clang --target=armv7-unknown-linux-gnueabihf -mfloat-abi=hard -Wno-override-module -O2 -fPIC -c /tmp/smoke-v7.ll -o /tmp/smoke-v7.o 2>/dev/null
arm-linux-gnueabihf-gcc -static tools/embedded_smoke.c /tmp/smoke-v7.o -o /tmp/smoke-v7
echo "armv7:"; qemu-arm-static /tmp/smoke-v7
