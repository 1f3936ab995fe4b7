#!/usr/bin/env bash
# Compiles Sources/CRNNRuntime as Embedded Swift for aarch64 and armv7 hard-float (the recipes of DESIGN.md, in
# tools/swiftc.sh) and prints the size of each object. Exits non-zero when either compilation fails.
set -euo pipefail
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mapfile -t RUNTIME < <(tools/swiftc.sh runtime-sources)
tools/swiftc.sh embedded aarch64 "$T/rt-a64.o" "${RUNTIME[@]}"
tools/swiftc.sh embedded armv7 "$T/rt-v7.o" "${RUNTIME[@]}"
size "$T/rt-a64.o" "$T/rt-v7.o"
