#!/usr/bin/env bash
# Quantization regression check on real data (called by .ci/run when the data exists).
#
#   tools/quantize_regression.sh [DATA_DIR]        (default: ../shared/data/gtzan-mini, relative to the repo root)
#
# Extracts the features of DATA_DIR (the default recipe: clean segments + the 5 degraded training copies), trains
# cnn-gru and cnn-lstm briefly with the default recipe and a fixed seed (track split,
# seed 42, OpenBLAS pinned to its baseline kernel and 2 threads by tools/pin_blas.sh, so that every machine trains the same model), quantizes each with calibration on the
# checkpoint's TRAINING tracks (and their degraded copies) and evaluates float vs int8 on its held-out TEST tracks
# (by running CRNNRuntime's interpreter), and the device path vs float on those tracks degraded (crnn-quantize
# --eval: the out-of-pool rows). Prints one line per model and fails (exit 1) when the int8 segment accuracy
# differs from the float one by more than MAX_CHANGE_POINTS (1.0) points, the top-1 agreement falls under
# MIN_AGREEMENT (0.97) or the pooled out-of-pool device agreement under MIN_OOP_AGREEMENT (0.97; the product's
# target is 0.98, docs/out-of-pool.md says where it stands). EPOCHS (6: an epoch of the default recipe is 6 times
# the clean segments) and WORK (a temporary folder) can be overridden from the environment.
set -euo pipefail

cd "$(dirname "$0")/.."
DATA="${1:-../shared/data/gtzan-mini}"
EPOCHS="${EPOCHS:-6}"
MAX_CHANGE_POINTS="${MAX_CHANGE_POINTS:-1.0}"
MIN_AGREEMENT="${MIN_AGREEMENT:-0.97}"
MIN_OOP_AGREEMENT="${MIN_OOP_AGREEMENT:-0.97}"
# OpenBLAS pinned (kernel and threads) so that every machine trains the same model.
source tools/pin_blas.sh   # (the script has cd-ed to the repository root)
real_data_setup quantize_regression crnn-train crnn-quantize   # DATA checked; WORK, BIN, features set

status=0
for model in cnn-gru cnn-lstm; do
    run="$WORK/$model"
    fit_and_quantize "$model" "$EPOCHS" "$run"
    report="$run/quantize-report.json"
    fs=$(report_value "$report" float_segment_accuracy); qs=$(report_value "$report" int8_segment_accuracy)
    ft=$(report_value "$report" float_track_accuracy); qt=$(report_value "$report" int8_track_accuracy)
    ag=$(report_value "$report" agreement)
    oop=$(report_value "$report" out_of_pool_device_agreement); oopmin=$(report_value "$report" out_of_pool_device_agreement_min)
    net=$(report_value "$report" network_bytes); flt=$(report_value "$report" float_weight_bytes)
    verdict=$(awk -v fs="$fs" -v qs="$qs" -v ag="$ag" -v oop="$oop" -v mc="$MAX_CHANGE_POINTS" -v ma="$MIN_AGREEMENT" -v mo="$MIN_OOP_AGREEMENT" 'BEGIN {
        d = 100 * (qs - fs); a = d < 0 ? -d : d
        # Compare in hundredths of a point / of a percent so that 1.0 == 1.0 exactly.
        ok = (int(a * 100 + 0.5) <= int(mc * 100 + 0.5)) && (int(ag * 10000 + 0.5) >= int(ma * 10000 + 0.5)) \
            && (int(oop * 10000 + 0.5) >= int(mo * 10000 + 0.5))
        print (ok ? "ok" : "FAIL") }')
    awk -v m="$model" -v fs="$fs" -v qs="$qs" -v ft="$ft" -v qt="$qt" -v ag="$ag" -v oop="$oop" -v oopmin="$oopmin" -v net="$net" -v flt="$flt" -v v="$verdict" 'BEGIN {
        printf "%s: %s  segment accuracy float %.2f %% int8 %.2f %% (%+.2f points), track accuracy float %.2f %% int8 %.2f %%, agreement %.2f %%, device agreement out of pool %.2f %% (lowest condition %.2f %%), network %d B = %.1f %% of float32\n",
            m, v, 100 * fs, 100 * qs, 100 * (qs - fs), 100 * ft, 100 * qt, 100 * ag, 100 * oop, 100 * oopmin, net, 100 * net / flt }'
    [ "$verdict" = ok ] || status=1
done
if [ "$status" -ne 0 ]; then
    echo "quantize_regression: FAILED (limits: |change| <= $MAX_CHANGE_POINTS points, agreement >= $MIN_AGREEMENT, device agreement out of pool >= $MIN_OOP_AGREEMENT); reports in $WORK" >&2
fi
exit "$status"
