#!/usr/bin/env bash
# Times the fixed-point MFCC (CRNNRuntime.FixedPointMFCC) of one 3-s segment, paper config, one thread, after
# validating one frame against a Float64 reference. Usage: tools/mfcc_fixed_bench.sh [extra swiftc flags,
# e.g. -target-cpu native]. Runs the SwiftPM target mfcc-fixed-bench (Sources/Tools/mfcc-fixed-bench) in release;
# with extra flags in its own scratch folder (.build-bench), so that they never mix with the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
args=(-c release)
if [ $# -gt 0 ]; then
    args+=(--scratch-path .build-bench)
    for f in "$@"; do args+=(-Xswiftc "$f"); done
fi
swift build "${args[@]}" --product mfcc-fixed-bench >&2
"$(swift build "${args[@]}" --show-bin-path)/mfcc-fixed-bench"
