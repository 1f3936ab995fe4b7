#!/usr/bin/env bash
# Cross-builds the runtime + the paper-shaped test model (Tests/TestSupport) + tools/embedded/smoke_main.swift as
# Embedded Swift for aarch64 and armv7 hard-float (tools/swiftc.sh), links with tools/embedded/smoke.c, runs both
# under QEMU and checks the logits against the regression fixture.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mapfile -t SRC < <(tools/swiftc.sh runtime-sources)
SRC+=(Tests/TestSupport/Generators.swift Tests/TestSupport/PaperTestModel.swift tools/embedded/smoke_main.swift)
# One module named CRNNRuntime: PaperTestModel.swift's `import CRNNRuntime` then names its own module (ignored).
tools/swiftc.sh embedded aarch64 "$T/smoke-a64.o" -module-name CRNNRuntime -suppress-warnings "${SRC[@]}"
aarch64-linux-gnu-gcc -static-pie tools/embedded/smoke.c "$T/smoke-a64.o" -o "$T/smoke-a64"
echo "aarch64:"; qemu-aarch64-static "$T/smoke-a64"
tools/swiftc.sh embedded armv7 "$T/smoke-v7.o" -module-name CRNNRuntime -suppress-warnings "${SRC[@]}"
arm-linux-gnueabihf-gcc -static tools/embedded/smoke.c "$T/smoke-v7.o" -o "$T/smoke-v7"
echo "armv7:"; qemu-arm-static "$T/smoke-v7"
