#!/usr/bin/env bash
# Out-of-pool evaluation over seeds (docs/out-of-pool.md): train on gtzan-mini with 8 training + 2 validation tracks
# per genre, quantize, and evaluate float and int8 (device path) on the held-out tracks clean and degraded and on
# another folder of unseen artists; prints mean ± sd over the seeds per condition.
#
#   tools/oop_eval.sh [DATA] [EXTRA]      (defaults ../shared/data/gtzan-mini and ../shared/data/gtzan-extra)
#
# Environment: SEEDS (default "1 2 3"), EPOCHS (default 60, fit's default), MODEL (cnn-gru), FIT_ARGS (extra
# `crnn-train fit` options, e.g. "--no-normalize" for the paper's raw-MFCC input), WORK (default runs/oop-<label>),
# QUANTIZE_ARGS (extra crnn-quantize options), FEATURE_ARGS (extra `crnn-train features` options, e.g.
# "--augment resample-16k,resample-8k" for degraded training copies), BIN (a folder holding crnn-train and
# crnn-quantize to use instead of building: lets a long run go on while the sources change). A checkpoint that
# crnn-quantize refuses because its input stage has no int8 form (--normalize segment / segment-mean) is evaluated
# in float only (no device columns). OpenBLAS is pinned to 2 threads so a rerun on the same machine repeats
# the float training exactly.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data/gtzan-mini}"
EXTRA="${2:-../shared/data/gtzan-extra}"
SEEDS="${SEEDS:-1 2 3}"
EPOCHS="${EPOCHS:-60}"
MODEL="${MODEL:-cnn-gru}"
FIT_ARGS="${FIT_ARGS:-}"
QUANTIZE_ARGS="${QUANTIZE_ARGS:-}"
FEATURE_ARGS="${FEATURE_ARGS:-}"
LABEL="$(echo "$MODEL $FIT_ARGS $FEATURE_ARGS" | tr -cs 'A-Za-z0-9.' '-' | sed 's/-*$//')"
WORK="${WORK:-runs/oop-$LABEL}"
[ -d "$DATA" ] || { echo "no data at $DATA" >&2; exit 2; }
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"

if [ -z "${BIN:-}" ]; then
    swift build -c release --product crnn-train >&2
    swift build -c release --product crnn-quantize >&2
    BIN="$(swift build -c release --show-bin-path)"
fi
mkdir -p "$WORK"
FEATURES="$WORK/features.bin"
# shellcheck disable=SC2086
[ -f "$FEATURES" ] || "$BIN/crnn-train" features --data "$DATA" --out "$FEATURES" $FEATURE_ARGS --quiet >&2

EXTRA_ARGS=()
if [ -d "$EXTRA" ]; then EXTRA_ARGS=(--extra "$EXTRA"); else echo "oop_eval: no folder $EXTRA, skipping the other-artists row" >&2; fi

TABLES=()
for seed in $SEEDS; do
    run="$WORK/seed-$seed"
    echo "oop_eval: seed $seed: fit $MODEL --epochs $EPOCHS $FIT_ARGS" >&2
    # 8 training + 2 validation tracks per genre of gtzan-mini's 10; no test part (the held-out tracks are the
    # validation ones, which early stopping has seen: the clean row is an in-pool upper figure).
    # shellcheck disable=SC2086
    "$BIN/crnn-train" fit --features "$FEATURES" --model "$MODEL" --split track --val-fraction 0.2 --test-fraction 0 \
        --seed "$seed" --epochs "$EPOCHS" $FIT_ARGS --quiet --out "$run" >&2
    INT8_ARGS=(--int8 "$run/model.crnn")
    case " $FIT_ARGS " in
    *" --normalize segment"*|*" --normalize=segment"*)
        echo "oop_eval: seed $seed: per-segment input normalisation has no int8 form yet: float columns only" >&2
        INT8_ARGS=() ;;
    *)
        # shellcheck disable=SC2086
        "$BIN/crnn-quantize" "$run/model.ckpt" --calibration "$FEATURES" --out "$run/model.crnn" \
            --report "$run/quantize" $QUANTIZE_ARGS --quiet >&2 ;;
    esac
    "$BIN/crnn-train" oop --checkpoint "$run/model.ckpt" "${INT8_ARGS[@]}" --data "$DATA" "${EXTRA_ARGS[@]}" \
        --seed "$seed" --out "$run/oop" --quiet >&2
    TABLES+=("$run/oop/oop.json")
done

{
    echo "## Out-of-pool: $MODEL ${FIT_ARGS:-(default recipe)}${FEATURE_ARGS:+ (features $FEATURE_ARGS)}, epochs $EPOCHS, seeds $SEEDS"
    echo
    "$BIN/crnn-train" oop-summary "${TABLES[@]}"
} | tee "$WORK/summary.md"
echo "oop_eval: per-seed tables in $WORK/seed-*/oop/oop.md, summary in $WORK/summary.md" >&2
