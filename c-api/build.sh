#!/usr/bin/env bash
# Builds libcrnn.a, the C API (c-api/include/crnn.h) over CRNNRuntime, as Embedded Swift: CRNNRuntime's sources and
# c-api/CRNNC.swift in one whole-module compile (the recipes of tools/swiftc.sh), the Swift names made local so
# that only the crnn_* functions are exported, archived with the toolchain's llvm-ar.
#
#   c-api/build.sh ARCH OUT_DIR      ARCH: x86_64 | aarch64 | armv7 | cortex-m
#
# Writes OUT_DIR/libcrnn-ARCH.a (and the object crnn-ARCH.o). The library needs from the C library only
# malloc-family functions (posix_memalign, free), memset and memmove (plus __stack_chk_fail on Linux targets):
# docs/c-api.md says how to link it for Linux and for a bare-metal Cortex-M image.
set -euo pipefail
[ $# -eq 2 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; }
arch=$1 out=$2
cd "$(dirname "$0")/.."
mkdir -p "$out"
TOOLS="$(dirname "$(command -v swiftc)")"
mapfile -t SRC < <(tools/swiftc.sh runtime-sources)
SRC+=(c-api/CRNNC.swift)
FLAGS=(-module-name CRNNRuntime -import-bridging-header c-api/include/crnn.h -suppress-warnings)
case $arch in
    x86_64|aarch64|armv7) ;;
    # Cortex-M4/M7: the smlad convolution (DSP extension; weights read in place, no packed copy) and no stream DCT
    # sums (CRNNC.swift): less RAM, the same results.
    cortex-m) FLAGS+=(-D CRNN_CONV_SMLAD -D CRNN_LOW_RAM) ;;
    *) echo "c-api/build.sh: unknown architecture '$arch' (x86_64, aarch64, armv7, cortex-m)" >&2; exit 1 ;;
esac
obj="$out/crnn-$arch.o"
tools/swiftc.sh embedded "$arch" "$obj" "${FLAGS[@]}" "${SRC[@]}"
# Only the API is global: CRNNRuntime's Swift symbols and the Embedded runtime's helpers become local, so the
# library links beside other Embedded Swift code (its own copy of the runtime) without duplicate symbols.
"$TOOLS/llvm-objcopy" --wildcard --keep-global-symbol='crnn_*' "$obj"
rm -f "$out/libcrnn-$arch.a"
"$TOOLS/llvm-ar" rcs "$out/libcrnn-$arch.a" "$obj"
echo "c-api/build.sh: $out/libcrnn-$arch.a"
