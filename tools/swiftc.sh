#!/usr/bin/env bash
# The one place that calls swiftc by hand (besides tools/fuzz.sh, which builds the libFuzzer targets). Everything
# else is a SwiftPM target built by `swift build`. Verbs:
#
#   tools/swiftc.sh runtime-sources
#       CRNNRuntime's sources, one per line, sorted (the folder has sub-folders: never a flat glob).
#   tools/swiftc.sh embedded ARCH OUT.o ARGS...
#       Embedded Swift cross-compile of ARGS (sources and extra swiftc flags) into the object OUT.o, with the recipes
#       of DESIGN.md: ARCH aarch64 -> `-target aarch64-none-none-elf ... -Xcc -fPIC -c`; ARCH armv7 -> LLVM IR
#       (OUT.ll, kept beside OUT.o) compiled by the toolchain's clang for armv7 hard-float (a `-target
#       armv7-none-none-eabi` object would link only with soft-float code); ARCH x86_64 -> `-target
#       x86_64-unknown-linux-gnu ... -Xcc -fPIC -c` (the toolchain's Embedded stdlib for Linux x86-64); ARCH cortex-m
#       -> LLVM IR for armv7em-none-none-eabi compiled by the toolchain's clang for Thumb-2 Cortex-M4/M7 with the
#       hard-float ABI (fpv4-sp-d16, which also runs on an M7), the ABI of gcc-arm-none-eabi's `-mfloat-abi=hard`.
#       ARCH armv7em -> bare-metal Cortex-M4/M7 object straight from swiftc (`-target armv7em-none-none-eabi`: Thumb-2,
#       DSP, FPv4-SP code, soft-float calling convention; one function per section for --gc-sections): the
#       firmware-sim/cortex-m image. (cortex-m above is the hard-float ABI object of the C API's library.)
#   tools/swiftc.sh version
#       the first line of `swiftc --version`.
#
# Callers: tools/embedded_check.sh, tools/embedded_smoke.sh, firmware-sim/run, c-api/build.sh (and .ci/run through them).
set -euo pipefail
cd "$(dirname "$0")/.."

# -package-name: CRNNRuntime declares its in-package API `package` (docs/runtime-api.md), which needs a package name.
EMBEDDED=(-enable-experimental-feature Embedded -wmo -Osize -parse-as-library -package-name crnn-genre)

case ${1:-} in
    runtime-sources)
        find Sources/CRNNRuntime -name '*.swift' | LC_ALL=C sort ;;
    embedded)
        [ $# -ge 4 ] || { echo "usage: tools/swiftc.sh embedded aarch64|armv7|x86_64|cortex-m|armv7em OUT.o ARGS..." >&2; exit 1; }
        arch=$2 out=$3; shift 3
        case $arch in
            aarch64)
                swiftc -target aarch64-none-none-elf "${EMBEDDED[@]}" -Xcc -fPIC -c "$@" -o "$out" ;;
            armv7)
                swiftc -target armv7-none-none-eabi "${EMBEDDED[@]}" -emit-ir "$@" -o "${out%.o}.ll"
                "$(dirname "$(command -v swiftc)")/clang" --target=armv7-unknown-linux-gnueabihf -mfloat-abi=hard \
                    -Wno-override-module -O2 -fPIC -c "${out%.o}.ll" -o "$out" ;;
            x86_64)
                swiftc -target x86_64-unknown-linux-gnu "${EMBEDDED[@]}" -Xcc -fPIC -c "$@" -o "$out" ;;
            cortex-m)
                swiftc -target armv7em-none-none-eabi "${EMBEDDED[@]}" -emit-ir "$@" -o "${out%.o}.ll"
                "$(dirname "$(command -v swiftc)")/clang" --target=thumbv7em-none-eabihf -mcpu=cortex-m4 \
                    -mfpu=fpv4-sp-d16 -mfloat-abi=hard -Wno-override-module -Os -ffunction-sections -fdata-sections \
                    -c "${out%.o}.ll" -o "$out" ;;
            armv7em)
                swiftc -target armv7em-none-none-eabi "${EMBEDDED[@]}" -Xfrontend -function-sections -c "$@" -o "$out" ;;
            *) echo "tools/swiftc.sh: unknown architecture '$arch' (aarch64, armv7, x86_64, cortex-m, armv7em)" >&2; exit 1 ;;
        esac ;;
    version)
        swiftc --version 2>&1 | head -1 ;;
    *)
        sed -n '2,/^# Callers/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1 ;;
esac
