#!/usr/bin/env bash
# libFuzzer targets for every reader of untrusted bytes (docs/fuzzing.md).
#   tools/fuzz.sh --list                       target names, one per line
#   tools/fuzz.sh NAME SECONDS [FLAGS...]      build NAME (into $FUZZ_SCRATCH, default .build-fuzz) and fuzz it
#                                              for SECONDS (0: no time limit, e.g. with -runs=N) with its corpus
#                                              and dictionary; extra FLAGS go to libFuzzer. Exit status non-zero
#                                              on a crash; the crashing input's path is printed.
#   tools/fuzz.sh --build [NAME...]            build only (all targets by default)
#   tools/fuzz.sh seeds                        regenerate fuzz/corpus/*/ with fuzz/make_seeds/main.swift
# Builds: Swift 6.3 `-sanitize=fuzzer,address`. CRNNRuntime is compiled whole from Sources/CRNNRuntime; the
# feature-file and checkpoint readers are compiled from their own files only (Features: FeatureCache.swift +
# DatasetIndex.swift; Training: Checkpoint.swift + Plots.swift) as modules of the same names, so the targets
# import them unchanged without FFTW, libsndfile, soxr or OpenBLAS. Work corpora grow in the scratch folder;
# fuzz/corpus/NAME (committed seeds) and fuzz/regressions/NAME (inputs that once crashed) are only read.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
targets=(model model_invoke wav pcm_stream frontend_tables feature_file checkpoint)
scratch=${FUZZ_SCRATCH:-.build-fuzz}
obj=$scratch/obj
flags=(-O -g -sanitize=fuzzer,address -parse-as-library)
# The runtime declares its in-package API `package` (docs/runtime-api.md): every module here shares one package name.
pkg=(-package-name crnn-genre)
# A Swift trap must reach libFuzzer's deadly-signal handler (which saves the input), not the Swift backtracer.
export SWIFT_BACKTRACE=enable=no

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; }

# module NAME OUTDIR FLAGS... -- SOURCES...: compile a module to OUTDIR/NAME.o unless it is newer than its sources.
module() {
    local name=$1 out=$2; shift 2
    local mflags=()
    while [ "$1" != "--" ]; do mflags+=("$1"); shift; done; shift
    mkdir -p "$out"
    local stale=1
    if [ -f "$out/$name.o" ]; then
        stale=0
        for s in "$@"; do [ "$s" -nt "$out/$name.o" ] && stale=1; done
    fi
    [ $stale -eq 0 ] && return 0
    echo "fuzz: compiling module $name" >&2
    quiet "$out/$name.build.log" bash -c 'cd "$0" && shift && exec swiftc "$@"' "$out" -emit-module -emit-object -wmo \
        -parse-as-library "${pkg[@]}" -module-name "$name" -I . "${mflags[@]}" "${@/#/$root/}" \
        -emit-module-path "$name.swiftmodule" -o "$name.o"
}

# quiet LOG COMMAND...: runs COMMAND with its output in LOG, shown only on failure (the ASan link prints
# hundreds of harmless ld.gold "Cannot export local symbol" warnings).
quiet() {
    local log=$1; shift
    "$@" >"$log" 2>&1 || { cat "$log" >&2; echo "fuzz: build failed (log $log)" >&2; exit 1; }
}

runtime_sources() { find Sources/CRNNRuntime -name '*.swift' | LC_ALL=C sort; }   # sub-folders: never a flat glob
features_sources=(Sources/Features/FeatureCache.swift Sources/Features/DatasetIndex.swift)
training_sources=(Sources/Training/Checkpoint.swift Sources/Training/Plots.swift)
# Compiled into every target and the seed generator: the fuzz model and the reference frontend tables it carries.
support_sources=(fuzz/Support/FuzzSupport.swift Tests/TestSupport/ReferenceFrontend.swift)

build_modules() {  # build_modules OUTDIR FLAGS...: the three modules a target may import
    local out=$1; shift
    # shellcheck disable=SC2046
    module CRNNRuntime "$out" "$@" -- $(runtime_sources)
    module Features "$out" "$@" -- "${features_sources[@]}"
    module Training "$out" "$@" -- "${training_sources[@]}"
}

build_target() {
    local name=$1 bin=$scratch/bin/$1
    local objs=("$obj/CRNNRuntime.o")
    case $name in
        feature_file) objs+=("$obj/Features.o") ;;
        checkpoint) objs+=("$obj/Features.o" "$obj/Training.o") ;;
    esac
    mkdir -p "$scratch/bin"
    local src=(fuzz/targets/$name.swift "${support_sources[@]}")
    if [ -f "$bin" ]; then
        local stale=0
        for s in "${src[@]}" "${objs[@]}"; do [ "$s" -nt "$bin" ] && stale=1; done
        [ $stale -eq 0 ] && return 0
    fi
    echo "fuzz: linking target $name" >&2
    quiet "$scratch/bin/$name.build.log" swiftc "${flags[@]}" "${pkg[@]}" -I "$obj" -module-name "fuzz_$name" "${src[@]}" "${objs[@]}" -o "$bin"
}

valid() { for t in "${targets[@]}"; do [ "$t" = "$1" ] && return 0; done; return 1; }

case ${1:-} in
    --list) printf '%s\n' "${targets[@]}"; exit 0 ;;
    --build)
        shift
        build_modules "$obj" "${flags[@]}"
        for t in "${@:-${targets[@]}}"; do valid "$t" || usage; build_target "$t"; done
        exit 0 ;;
    seeds)
        seeds=$scratch/seeds
        build_modules "$seeds" -O
        swiftc -O "${pkg[@]}" -I "$seeds" fuzz/make_seeds/main.swift "${support_sources[@]}" \
            "$seeds/CRNNRuntime.o" "$seeds/Features.o" "$seeds/Training.o" -o "$seeds/make_seeds"
        "$seeds/make_seeds"
        exit 0 ;;
    ""|-h|--help) usage ;;
esac

name=$1 seconds=${2:-}
valid "$name" || { echo "fuzz: unknown target '$name' (tools/fuzz.sh --list)" >&2; exit 1; }
[[ "$seconds" =~ ^[0-9]+$ ]] || usage
shift 2
build_modules "$obj" "${flags[@]}"
build_target "$name"

work=$scratch/corpus/$name artifacts=$scratch/artifacts/$name
mkdir -p "$work" "$artifacts"
limit=()
# Inputs that once crashed (fuzz/regressions/NAME) are replayed at every start, as part of the corpus.
regressions=()
[ -d "fuzz/regressions/$name" ] && regressions=("fuzz/regressions/$name")
[ "$seconds" -gt 0 ] && limit=(-max_total_time="$seconds")
log=$scratch/$name.log
echo "fuzz: $name for ${seconds}s (corpus $work + fuzz/corpus/$name, dict fuzz/dict/$name.dict, log $log)"
status=0
"$scratch/bin/$name" "${limit[@]}" -dict="fuzz/dict/$name.dict" -artifact_prefix="$artifacts/" \
    -max_len=8192 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$@" \
    "$work" "fuzz/corpus/$name" "${regressions[@]}" >"$log" 2>&1 || status=$?
grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
if [ $status -ne 0 ]; then
    grep -E 'ERROR: (libFuzzer|AddressSanitizer)|Fatal error|SUMMARY|artifact_prefix|Test unit written' "$log" | head -20
    echo "fuzz: $name FAILED (exit $status); artifacts in $artifacts/:"
    ls -t "$artifacts" | head -5 | sed "s|^|  $artifacts/|"
    exit $status
fi
echo "fuzz: $name ok"
