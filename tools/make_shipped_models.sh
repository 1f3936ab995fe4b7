#!/usr/bin/env bash
# Trains, quantizes and evaluates the models shipped in models/ and writes their model cards.
#
#   tools/make_shipped_models.sh [MINI_DIR [EXTRA_DIR]]   (default ../shared/data/gtzan-mini, ../shared/data/gtzan-extra)
#
# The default recipe (docs/out-of-pool.md): per-coefficient standardised MFCCs and the 5 degraded training copies of
# `crnn-train features` (resample-16k, resample-8k, bandpass-300-3400, noise-snr20db, gain-10db), on gtzan-mini +
# gtzan-extra together (56 blues, 55 jazz, 10 of every other genre) with class-balanced loss weights
# (`--balance weights`). Track split, seed 42: 85 % of each genre's tracks for training, 15 % for validation (early
# stopping), no test part: every track that can teach is used. int8 by crnn-quantize's defaults (percentile 99.99,
# calibrated on the training tracks and their degraded copies); its evaluation runs on the validation tracks, clean
# and degraded (in pool: they share artists with training and early stopping has seen them). The out-of-pool figures
# of the recipe come from runs that held artists out (tools/oop_eval.sh); the card quotes them from
# docs/results/out-of-pool/.
#
# RATE=16000 makes the microphone-rate variant instead: features at 16 kHz (n_fft, hop, mels and MFCCs as at
# 22050 Hz; f_max 8 kHz), the same recipe, written as models/<model>-16k.* (MODELS: which models, default both;
# the 16-kHz one shipped is cnn-gru). Its WORK defaults to runs/shipped-16k.
#
# Paths in the artifacts are relative (WORK defaults to runs/shipped under the project). OpenBLAS: one thread, the
# machine's own kernel (set OPENBLAS_CORETYPE to repeat a run on another CPU). REUSE=1 keeps already trained
# checkpoints in WORK and redoes only quantization and the cards; it refuses a WORK whose checkpoint differs from the
# shipped one unless REPLACE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
MINI="${1:-../shared/data/gtzan-mini}"
EXTRA="${2:-../shared/data/gtzan-extra}"
for d in "$MINI" "$EXTRA"; do [ -d "$d" ] || { echo "no data at $d" >&2; exit 2; }; done
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
RATE="${RATE:-22050}"
SUFFIX=""; [ "$RATE" = 22050 ] || SUFFIX="-$((RATE / 1000))k"
WORK="${WORK:-runs/shipped$SUFFIX}"
MODELS="${MODELS:-cnn-gru cnn-lstm}"
swift build -c release --product crnn-train >&2
swift build -c release --product crnn-quantize >&2
BIN="$(swift build -c release --show-bin-path)"
BIN="${BIN#"$PWD"/}"

# One folder of both datasets (links, so nothing is copied).
DATA="$WORK/data"
mkdir -p "$DATA"
for src in "$MINI" "$EXTRA"; do
    abs="$(cd "$src" && pwd)"
    for g in "$abs"/*/; do
        g="$(basename "$g")"
        mkdir -p "$DATA/$g"
        for f in "$abs/$g"/*; do ln -sf "$f" "$DATA/$g/"; done
    done
done
[ -f "$WORK/features.bin" ] && [ -n "${REUSE:-}" ] || "$BIN/crnn-train" features --data "$DATA" --sample-rate "$RATE" --out "$WORK/features.bin" --quiet >&2

mkdir -p models
for base in $MODELS; do
    model="$base$SUFFIX"
    if [ -n "${REUSE:-}" ] && [ -f "$WORK/$model/model.ckpt" ] && [ -f "models/$model.ckpt" ] \
        && ! cmp -s "$WORK/$model/model.ckpt" "models/$model.ckpt" && [ -z "${REPLACE:-}" ]; then
        echo "REUSE: $WORK/$model/model.ckpt is not the shipped models/$model.ckpt (another training folder?);" \
             "set WORK to the folder that trained it, or REPLACE=1 to ship this one" >&2
        exit 2
    fi
    if [ -z "${REUSE:-}" ] || [ ! -f "$WORK/$model/model.ckpt" ]; then
        "$BIN/crnn-train" fit --features "$WORK/features.bin" --model "$base" --split track --val-fraction 0.15 \
            --test-fraction 0 --balance weights --seed 42 --out "$WORK/$model" --quiet >&2
    fi
    # Front end version 2 (16-bit log-mel: streams reuse frames), as shipped; crnn-quantize's default is still 1.
    "$BIN/crnn-quantize" "$WORK/$model/model.ckpt" --calibration "$WORK/features.bin" --eval "$DATA" \
        --frontend-version 2 --out "models/$model.crnn" --report "$WORK/$model/quantize" --quiet >&2
    cp "$WORK/$model/model.ckpt" "models/$model.ckpt"
    cp "$WORK/$model/quantize/quantize-report.json" "models/$model.quantize-report.json"
    cp "$WORK/$model/metrics.json" "models/$model.metrics.json"
    cp "$WORK/$model/curves.svg" "models/$model.curves.svg"
    cp "$WORK/$model/confusion.svg" "models/$model.confusion.svg"
    python3 tools/shipped_model_card.py "$model" "$WORK/$model" "$(git rev-parse --short HEAD)" "$RATE" > "models/$model.md"
    echo "$model: models/$model.ckpt, models/$model.crnn, models/$model.md" >&2
done
