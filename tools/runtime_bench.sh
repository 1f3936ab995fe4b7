#!/usr/bin/env bash
# Times the int8 network (reference conv vs dispatching fast conv) and each conv layer on paper-shaped models,
# after validating both paths against the regression logits. Median of 9 repetitions of 50 calls.
# Usage: tools/runtime_bench.sh [extra swiftc flags, e.g. -target-cpu native]
# Runs the SwiftPM target runtime-bench (Sources/Tools/runtime-bench) in release, CRNNRuntime built with
# -enable-testing (the bench calls single kernels through the interpreter's internals) and the extra flags, in its
# own scratch folder (.build-bench) so that the flags never mix with the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
xflags=(-Xswiftc -enable-testing -Xswiftc -DRUNTIME_BENCH)
for f in "$@"; do xflags+=(-Xswiftc "$f"); done
swift build -c release --scratch-path .build-bench "${xflags[@]}" --product runtime-bench >&2
"$(swift build -c release --scratch-path .build-bench "${xflags[@]}" --show-bin-path)/runtime-bench"
