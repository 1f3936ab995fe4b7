#!/usr/bin/env bash
# Device-path acceptance check on real data (issue 5): crnn-quantize's device-path evaluation and crnn-infer
# must give exactly the same answers, and the fixed-point MFCC must match the float one.
#
#   tools/device_parity.sh [DATA_DIR]        (default: ../shared/data/gtzan-mini, relative to the repo root)
#
# 1. extracts DATA_DIR's features, trains MODEL (cnn-gru; cnn-lstm also works) briefly with a fixed seed (track
#    split, seed 42, OpenBLAS kernel and threads pinned by tools/pin_blas.sh so every machine trains the same model);
# 2. quantizes it with `--eval DATA_DIR --report`: float vs int8 on the float MFCC, and the device path from the
#    audio of the checkpoint's TEST clips (int16 PCM -> fixed-point MFCC -> int8 network -> clip scores);
# 3. converts those test clips to 16-bit WAV with `crnn-train convert` and classifies them with
#    `crnn-infer MODEL.crnn <wavs> --json`;
# 4. compares every clip (genre, segment genres, all scores) with the report's device_tracks
#    (device-parity-compare: Sources/Tools/device-parity-compare/main.swift) and prints `device-parity: N/N clips identical` and the figures.
# Fails (exit 1) on any difference, when the top-1 agreement of (fixed MFCC + int8 net) vs (float MFCC + int8 net)
# is under MIN_AGREEMENT (0.99), or when the fixed vs float MFCC SNR of any segment is under MIN_SNR_DB (40).
# MODEL (cnn-gru), EPOCHS (25) and WORK (a temporary folder) can be set from the environment.
set -euo pipefail

cd "$(dirname "$0")/.."
DATA="${1:-../shared/data/gtzan-mini}"
MODEL="${MODEL:-cnn-gru}"
EPOCHS="${EPOCHS:-25}"
MIN_AGREEMENT="${MIN_AGREEMENT:-0.99}"
MIN_SNR_DB="${MIN_SNR_DB:-40}"
# OpenBLAS pinned (kernel and threads) so that every machine trains the same model.
source tools/pin_blas.sh   # (the script has cd-ed to the repository root)
real_data_setup device_parity crnn-train crnn-quantize crnn-infer device-parity-compare   # DATA checked; WORK, BIN, features set

run="$WORK/$MODEL"
fit_and_quantize "$MODEL" "$EPOCHS" "$run"
report="$run/quantize-report.json"

# The evaluated clips, as the report lists them ("relative_path" : "blues\/blues.00003.flac", JSON escapes '/').
mapfile -t clips < <(awk '/^ *"relative_path" : "/ { v = $0; sub(/^ *"relative_path" : "/, "", v); sub(/",?$/, "", v); gsub(/\\\//, "/", v); print v }' "$report")
if [ ${#clips[@]} -eq 0 ]; then
    echo "device_parity: the report has no device_tracks" >&2
    cat "$run.quantize.log" >&2
    exit 1
fi
sources=()
for c in "${clips[@]}"; do sources+=("$DATA/$c"); done
"$BIN/crnn-train" convert "${sources[@]}" --out-dir "$WORK/wav" >&2
wavs=()
for c in "${clips[@]}"; do b="${c##*/}"; wavs+=("$WORK/wav/${b%.*}.wav"); done
"$BIN/crnn-infer" "$run/model.crnn" "${wavs[@]}" --json >"$WORK/infer.jsonl" || {
    echo "device_parity: crnn-infer failed" >&2; cat "$WORK/infer.jsonl" >&2; exit 1; }

status=0
"$BIN/device-parity-compare" "$report" "$WORK/infer.jsonl" || status=1

fs=$(report_value "$report" float_segment_accuracy); qs=$(report_value "$report" int8_segment_accuracy)
ds=$(report_value "$report" device_segment_accuracy)
ft=$(report_value "$report" float_track_accuracy); qt=$(report_value "$report" int8_track_accuracy)
dt=$(report_value "$report" device_track_accuracy)
ag=$(report_value "$report" agreement); dag=$(report_value "$report" device_agreement)
fx=$(report_value "$report" device_vs_int8_agreement)
smin=$(report_value "$report" mfcc_snr_db_min); smean=$(report_value "$report" mfcc_snr_db_mean)
nseg=$(report_value "$report" device_segments)
verdict=$(awk -v fx="$fx" -v smin="$smin" -v ma="$MIN_AGREEMENT" -v ms="$MIN_SNR_DB" 'BEGIN {
    # Agreement compared in hundredths of a percent so that 0.99 == 0.99 exactly.
    ok = (fx != "null") && (smin != "null") && (int(fx * 10000 + 0.5) >= int(ma * 10000 + 0.5)) && (smin + 0 >= ms + 0)
    print (ok ? "ok" : "FAIL") }')
awk -v m="$MODEL" -v fs="$fs" -v qs="$qs" -v ds="$ds" -v ft="$ft" -v qt="$qt" -v dt="$dt" -v ag="$ag" -v dag="$dag" \
    -v fx="$fx" -v smin="$smin" -v smean="$smean" -v n="$nseg" -v v="$verdict" -v ma="$MIN_AGREEMENT" -v ms="$MIN_SNR_DB" 'BEGIN {
    printf "%s (%d test segments):\n", m, n
    printf "  segment accuracy: float %.2f %%, int8 on float MFCC %.2f %%, device %.2f %%\n", 100 * fs, 100 * qs, 100 * ds
    printf "  track accuracy:   float %.2f %%, int8 on float MFCC %.2f %%, device %.2f %%\n", 100 * ft, 100 * qt, 100 * dt
    printf "  top-1 agreement with float: int8 on float MFCC %.2f %%, device %.2f %%\n", 100 * ag, 100 * dag
    printf "  %s: fixed vs float MFCC on the int8 net: agreement %.2f %% (>= %.0f %%), SNR min %.2f dB mean %.2f dB (>= %g dB)\n",
        v, 100 * fx, 100 * ma, smin, smean, ms }'
[ "$verdict" = ok ] || status=1
if [ "$status" -ne 0 ]; then
    echo "device_parity: FAILED; work files in $WORK" >&2
fi
exit "$status"
