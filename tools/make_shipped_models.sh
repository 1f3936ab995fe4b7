#!/usr/bin/env bash
# Trains, quantizes and evaluates the models shipped in models/ and writes their model cards.
#
#   tools/make_shipped_models.sh [DATA_DIR]      (default ../shared/data/gtzan-mini)
#
# cnn-gru and cnn-lstm, 32 filters, track split (seed 42: 70 training / 10 validation / 20 test tracks of
# gtzan-mini), default training options; int8 calibration on the training tracks, evaluation on the test tracks,
# including the device path from audio (fixed-point MFCC + int8 network). Activation ranges: the 99.99th
# percentile (--calibration-method percentile), which agreed with the float models better than min/max on
# gtzan-mini (cnn-lstm: 99.5 % vs 97.5 % top-1 agreement; cnn-gru: 99.5 % both). OpenBLAS is pinned to 2 threads so a
# rerun on the same machine repeats the float training exactly.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${1:-../shared/data/gtzan-mini}"
[ -d "$DATA" ] || { echo "no data at $DATA" >&2; exit 2; }
export OPENBLAS_NUM_THREADS=2
WORK="${WORK:-$(mktemp -d)}"
swift build -c release --product crnn-train >&2
swift build -c release --product crnn-quantize >&2
BIN="$(swift build -c release --show-bin-path)"
"$BIN/crnn-train" features --data "$DATA" --out "$WORK/features.bin" --quiet >&2
mkdir -p models
for model in cnn-gru cnn-lstm; do
    "$BIN/crnn-train" fit --features "$WORK/features.bin" --model "$model" --split track --seed 42 \
        --out "$WORK/$model" --quiet >&2
    "$BIN/crnn-quantize" "$WORK/$model/model.ckpt" --calibration "$WORK/features.bin" --eval "$DATA" \
        --calibration-method percentile --out "models/$model.crnn" --report "$WORK/$model/quantize" --quiet >&2
    cp "$WORK/$model/model.ckpt" "models/$model.ckpt"
    cp "$WORK/$model/quantize/quantize-report.json" "models/$model.quantize-report.json"
    cp "$WORK/$model/metrics.json" "models/$model.metrics.json"
    cp "$WORK/$model/curves.svg" "models/$model.curves.svg"
    cp "$WORK/$model/confusion.svg" "models/$model.confusion.svg"
    {
        echo "# Model card: $model (gtzan-mini)"
        echo
        echo "Made by \`tools/make_shipped_models.sh\` on $(date -u +%Y-%m-%d) from commit $(git rev-parse --short HEAD)."
        echo
        echo "- **Architecture**: the paper's $model (3 conv blocks of 32 filters, max-pool 2/3/4, dropout 0.1, batch norm;"
        echo "  $( [ "$model" = cnn-gru ] && echo 'GRU 20 + 20' || echo 'LSTM 30 + 30'); dense softmax over 10 genres). Input: 130 frames x 23 MFCCs"
        echo "  (librosa definition) of a 3-s segment at 22050 Hz, standardised per coefficient with the training tracks' statistics."
        echo "- **Data**: gtzan-mini, 100 GTZAN clips (10 per genre); track split, seed 42: 70 training, 10 validation and"
        echo "  20 test tracks (all segments of a clip on one side). Small data: expect a noisy estimate (one test track = 5 points)."
        echo "- **Training**: Adam 1e-3, batch 32, at most 60 epochs, early stopping on validation loss (patience 10, after the"
        echo "  batch-norm warm-up), best weights restored."
        echo "- **Quantization**: int8 (docs/quantization.md), activation ranges from the 99.99th percentile over the 700"
        echo "  training segments; frontend tables for the fixed-point MFCC included."
        echo "- **Files**: \`$model.ckpt\` (float32 checkpoint), \`$model.crnn\` (int8 model with its fixed-point frontend tables),"
        echo "  \`$model.metrics.json\` (float evaluation), \`$model.quantize-report.json\` (int8 and device-path evaluation),"
        echo "  \`$model.curves.svg\`, \`$model.confusion.svg\`."
        echo
        echo "## Held-out test tracks"
        echo
        python3 - "$WORK/$model/quantize/quantize-report.json" <<'PY' 2>/dev/null || echo "(see $model.quantize-report.json)"
import json, sys
r = json.load(open(sys.argv[1]))
def pct(k): return f"{100 * r[k]:.1f} %" if r.get(k) is not None else "n/a"
print("| path | segment accuracy | track accuracy |")
print("|---|---|---|")
print(f"| float (float MFCC + float network) | {pct('float_segment_accuracy')} | {pct('float_track_accuracy')} |")
print(f"| int8 network on float MFCC | {pct('int8_segment_accuracy')} | {pct('int8_track_accuracy')} |")
print(f"| device path (fixed-point MFCC + int8 network) | {pct('device_segment_accuracy')} | {pct('device_track_accuracy')} |")
print()
print(f"Top-1 agreement with the float model: int8 {pct('agreement')}, device path {pct('device_agreement')}.")
print(f"Sizes: model file {r['model_bytes']} B (network {r['network_bytes']} B, frontend tables {r['frontend_bytes']} B); "
      f"float32 weights {r['float_weight_bytes']} B; interpreter arena {r['arena_bytes']} B.")
PY
    } > "models/$model.md"
    echo "$model: models/$model.ckpt, models/$model.crnn, models/$model.md" >&2
done
