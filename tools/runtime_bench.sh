#!/usr/bin/env bash
# Times the runtime's reference kernels on paper-shaped models (validated against the regression logits first).
# Usage: tools/runtime_bench.sh [extra swiftc flags, e.g. -target-cpu native]
set -euo pipefail
cd "$(dirname "$0")/.."
swiftc -O -parse-as-library "$@" Sources/CRNNRuntime/*.swift tools/runtime_bench_main.swift -o /tmp/crnn-runtime-bench
/tmp/crnn-runtime-bench
