# Sourced by the real-data checks that train a float model and then hold it to a limit
# (quantize_regression.sh, device_parity.sh), with the set-up and steps they share (real_data_setup,
# fit_and_quantize, report_value below). Float training depends on the OpenBLAS kernel, which the
# library picks for the CPU when it loads (docs/testing.md), so the same seed trains another model on
# another CPU and a limit that one model meets, the next may miss. Pin the architecture's baseline
# kernel, which every CPU of that architecture runs, so that these checks train the same model on
# every machine. An OPENBLAS_CORETYPE already set in the environment is kept: some machines set it
# because other kernels misbehave there.
export OPENBLAS_NUM_THREADS=2
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    case "$(uname -m)" in
        x86_64) export OPENBLAS_CORETYPE=Prescott ;;
        aarch64 | arm64) export OPENBLAS_CORETYPE=ARMV8 ;;
    esac
fi
echo "OpenBLAS kernel: ${OPENBLAS_CORETYPE:-chosen by the library}, ${OPENBLAS_NUM_THREADS} threads" >&2

# real_data_setup NAME PRODUCT...: the rest of the set-up these checks share: exit 2 when $DATA is not a folder,
# WORK (a new temporary folder unless set), the release build of each PRODUCT, BIN (the folder holding them) and
# the features of $DATA (the default recipe: clean segments + the degraded training copies) in $WORK/features.bin.
real_data_setup() {
    local name=$1 p; shift
    if [ ! -d "$DATA" ]; then
        echo "$name: no data at $DATA" >&2
        exit 2
    fi
    WORK="${WORK:-$(mktemp -d)}"
    mkdir -p "$WORK"
    for p in "$@"; do swift build -c release --product "$p" >&2; done
    BIN="$(swift build -c release --show-bin-path)"
    "$BIN/crnn-train" features --data "$DATA" --out "$WORK/features.bin" --quiet >&2
}

# fit_and_quantize MODEL EPOCHS RUN: trains MODEL on $WORK/features.bin (track split, seed 42) into RUN, then
# quantizes RUN/model.ckpt into RUN/model.crnn with `--eval $DATA --report RUN` (RUN/quantize-report.json).
# The logs go to RUN.fit.log and RUN.quantize.log, and to stderr when a step fails (exit 1).
fit_and_quantize() {
    local model=$1 epochs=$2 run=$3
    "$BIN/crnn-train" fit --features "$WORK/features.bin" --model "$model" --split track --seed 42 \
        --epochs "$epochs" --out "$run" --quiet >"$run.fit.log" 2>&1 || { cat "$run.fit.log" >&2; exit 1; }
    "$BIN/crnn-quantize" "$run/model.ckpt" --calibration "$WORK/features.bin" --eval "$DATA" --out "$run/model.crnn" \
        --report "$run" --quiet >"$run.quantize.log" 2>&1 || { cat "$run.quantize.log" >&2; exit 1; }
}

# report_value REPORT KEY: a value from the pretty-printed report JSON ("key" : value,).
report_value() {
    awk -v k="\"$2\"" '$1 == k { v = $3; sub(/,$/, "", v); print v; exit }' "$1"
}
