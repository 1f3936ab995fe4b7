#!/usr/bin/env bash
# Times the fixed-point MFCC (CRNNRuntime.FixedPointMFCC) of one 3-s segment, paper config, one thread, after
# validating one frame against a Float64 reference. Usage: tools/mfcc_fixed_bench.sh [extra swiftc flags,
# e.g. -target-cpu native]. Built from the runtime sources and tools/mfcc_fixed_bench_main.swift (not a package target).
set -euo pipefail
cd "$(dirname "$0")/.."
swiftc -O -parse-as-library "$@" $(find Sources/CRNNRuntime -name '*.swift' | sort) tools/mfcc_fixed_bench_main.swift -o /tmp/crnn-mfcc-fixed-bench
/tmp/crnn-mfcc-fixed-bench
