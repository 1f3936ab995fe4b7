#!/usr/bin/env bash
# Times the fixed-point MFCC (CRNNRuntime.FixedPointMFCC) of one 3-s segment, paper config, one thread, frontend
# versions 1 and 2 side by side, after validating one frame of each against a Float64 reference.
# Usage: tools/mfcc_fixed_bench.sh [extra swiftc flags, e.g. -target-cpu native]. Runs the SwiftPM target
# mfcc-fixed-bench (Sources/Tools/mfcc-fixed-bench) in release; in its own scratch folder (.build-bench), so that
# its flags never mix with the normal build.
# With LIBROSA_PYTHON=/path/to/python (a venv made from tools/reference/requirements-librosa.txt) it then runs
# tools/reference/bench_mfcc.py once per version (librosa timed in the same run as ours; ratio librosa / ours).
set -euo pipefail
cd "$(dirname "$0")/.."
# Built like runtime_bench.sh: CRNNRuntime with -enable-testing (the frame stage alone is internal), own scratch folder.
args=(-c release --scratch-path .build-bench -Xswiftc -enable-testing -Xswiftc -DRUNTIME_BENCH)
for f in "$@"; do args+=(-Xswiftc "$f"); done
swift build "${args[@]}" --product mfcc-fixed-bench >&2
bin="$(swift build "${args[@]}" --show-bin-path)/mfcc-fixed-bench"
"$bin"
if [ -n "${LIBROSA_PYTHON:-}" ]; then
    for v in 1 2; do
        echo "== librosa vs fixed-point MFCC version $v (${LIBROSA_SEGMENTS:-100} segments, best of 3 rounds)"
        "$LIBROSA_PYTHON" tools/reference/bench_mfcc.py --segments "${LIBROSA_SEGMENTS:-100}" --rounds 3 \
            --swift-cmd "$bin --version $v" | tail -3
    done
fi
