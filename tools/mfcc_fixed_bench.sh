#!/usr/bin/env bash
# Times the fixed-point MFCC (CRNNRuntime.FixedPointMFCC) of one 3-s segment, paper config, one thread, after
# validating one frame against a Float64 reference. Usage: tools/mfcc_fixed_bench.sh [extra swiftc flags,
# e.g. -target-cpu native]. Runs the SwiftPM target mfcc-fixed-bench (Sources/Tools/mfcc-fixed-bench) in release;
# in its own scratch folder (.build-bench), so that its flags never mix with the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
# Built like runtime_bench.sh: CRNNRuntime with -enable-testing (the frame stage alone is internal), own scratch folder.
args=(-c release --scratch-path .build-bench -Xswiftc -enable-testing -Xswiftc -DRUNTIME_BENCH)
for f in "$@"; do args+=(-Xswiftc "$f"); done
swift build "${args[@]}" --product mfcc-fixed-bench >&2
"$(swift build "${args[@]}" --show-bin-path)/mfcc-fixed-bench"
