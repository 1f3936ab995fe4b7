#!/usr/bin/env bash
# Times the int8 network (reference conv vs dispatching fast conv) and each conv layer on paper-shaped models,
# after validating both paths against the regression logits. Median of 9 repetitions of 50 calls.
# Usage: tools/runtime_bench.sh [extra swiftc flags, e.g. -target-cpu native]
set -euo pipefail
cd "$(dirname "$0")/.."
swiftc -O -wmo -parse-as-library "$@" $(find Sources/CRNNRuntime -name '*.swift' | sort) tools/paper_test_model.swift tools/runtime_bench_main.swift -o /tmp/crnn-runtime-bench
/tmp/crnn-runtime-bench
