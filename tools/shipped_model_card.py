#!/usr/bin/env python3
"""Writes the model card (markdown, stdout) of a shipped model: tools/make_shipped_models.sh calls it.

    tools/shipped_model_card.py MODEL RUN_DIR COMMIT [RATE]   (RATE: the features' sample rate, default 22050)

RUN_DIR holds the fit run (metrics.json, split.json) and quantize/quantize-report.json. The recipe's out-of-pool
table is read from docs/results/out-of-pool/<MODEL>-default-recipe/summary.md (runs that held artists out) when it
exists. Python standard library only.
"""
import datetime
import json
import os
import sys

model, run, commit = sys.argv[1], sys.argv[2], sys.argv[3]
rate = int(sys.argv[4]) if len(sys.argv) > 4 else 22050  # the features' sample rate (make_shipped_models.sh RATE)
base = "cnn-lstm" if model.startswith("cnn-lstm") else "cnn-gru"  # cnn-gru-16k is a cnn-gru
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
r = json.load(open(os.path.join(run, "quantize", "quantize-report.json")))
m = json.load(open(os.path.join(run, "metrics.json")))
split = json.load(open(os.path.join(run, "split.json")))


def pct(x):
    return "n/a" if x is None else f"{100 * x:.1f} %"


def count(genre, ids):
    return sum(1 for t in ids if t.startswith(genre + "."))


labels = m["labels"]
train, val = split["train"], split["validation"]
rnn = "GRU 20 + 20" if base == "cnn-gru" else "LSTM 30 + 30"
today = datetime.date.today().isoformat()
out = []
w = out.append
w(f"# Model card: {model} (gtzan-mini + gtzan-extra, default recipe)")
w("")
w(f"Made by `tools/make_shipped_models.sh` on {today} from commit {commit}.")
w("")
w(f"- **Architecture**: the paper's {base} (3 conv blocks of 32 filters, max-pool 2/3/4, dropout 0.1, batch norm; {rnn};")
frames = 3 * rate // 512 + 1
w(f"  dense softmax over 10 genres). Input: {frames} frames x 23 MFCCs (librosa definition) of a 3-s segment at {rate} Hz,")
w("  standardised per coefficient with the training tracks' statistics.")
w("- **Recipe** (the default of `crnn-train fit`, chosen out of pool: docs/out-of-pool.md): besides each training")
w("  clip's clean segments, 5 degraded copies of it (resampled through 16 kHz and 8 kHz, a 300-3400 Hz band-pass,")
w("  white noise at 20 dB SNR, -10 dB gain), mixup (Beta(0.2, 0.2)); class-balanced loss weights (`--balance weights`),")
w("  because the data are imbalanced.")
per_genre = ", ".join(f"{g} {count(g, train)}+{count(g, val)}" for g in labels)
w(f"- **Data**: gtzan-mini (10 clips per genre) + gtzan-extra (46 blues, 45 jazz, mostly other artists): 191 clips.")
w(f"  Track split, seed 42: {len(train)} training and {len(val)} validation tracks (training+validation per genre:")
w(f"  {per_genre}); no test part. Only ../shared/data was used.")
w(f"- **Training**: Adam 1e-3, batch 32, at most 60 epochs, early stopping on validation loss (patience 10), best")
w(f"  weights restored (epoch {m['best_epoch']}).")
w(f"- **Quantization**: int8 (docs/quantization.md), crnn-quantize's defaults: {r['calibration_method']} ranges over")
w(f"  {r['calibration_scope']}.")
w(f"- **Files**: `{model}.ckpt` (float32), `{model}.crnn` (int8 + fixed-point frontend tables), `{model}.metrics.json`,")
w(f"  `{model}.quantize-report.json`, `{model}.curves.svg`, `{model}.confusion.svg`.")
w("")
w("## What 10 tracks per genre can and cannot do")
w("")
w("Eight of the ten genres have 10 clips each, and GTZAN groups clips by artist, so for those genres the model has")
w("heard a handful of artists. On the degraded copies of tracks by artists it knows it does well; on other artists")
w("it is right far less often (the table below: about 4 in 10 unseen blues/jazz tracks for a model trained on")
w("gtzan-mini alone, and blues by other artists mostly missed). Blues and jazz have 5 times more (and more varied)")
w("clips here, which should help those two genres; unseen artists of the other eight stay the weak spot, and no")
w("unseen tracks of those eight were available to measure it. Treat the answer as a hint, and read `uncertain`")
w("(crnn-infer and `crnn-train predict`: the top genre's mean probability below 0.55, calibrated out of pool;")
w("on the out-of-pool tracks of the table below it flags 86 % of the wrong answers and 30 % of the right ones).")
w("")
summary = os.path.join(root, "docs", "results", "out-of-pool", f"{model}-default-recipe", "summary.md")
w("## The recipe out of pool (runs that held artists out)")
w("")
if os.path.exists(summary):
    w("The same recipe trained on gtzan-mini alone (8 training + 2 validation tracks per genre, 3 seeds) and evaluated")
    w("on gtzan-extra (other artists) and on the held-out tracks degraded; device = the int8 model run as crnn-infer")
    how = "`tools/oop_eval.sh`" if rate == 22050 else f"`FEATURE_ARGS=\"--sample-rate {rate}\" QUANTIZE_ARGS=\"--frontend-version 2\" tools/oop_eval.sh`"
    w(f"runs it. From `docs/results/out-of-pool/{model}-default-recipe/` ({how}):")
    w("")
    body = [l for l in open(summary).read().splitlines() if l.startswith("|")]
    out.extend(body)
else:
    how = f"MODEL={base} tools/oop_eval.sh" if rate == 22050 else f"MODEL={base} FEATURE_ARGS=\"--sample-rate {rate}\" tools/oop_eval.sh"
    w(f"Not measured for {model} yet (`{how}`); see docs/out-of-pool.md for cnn-gru.")
w("")
w("## This model on its validation tracks (in pool)")
w("")
w(f"{r['evaluation_scope']}. They share artists with the training tracks (except gtzan-extra's), so these figures")
w("are optimistic; they check the int8 model against the float one.")
w("")
w("| path | segment accuracy | track accuracy |")
w("|---|---|---|")
w(f"| float (float MFCC + float network) | {pct(r['float_segment_accuracy'])} | {pct(r['float_track_accuracy'])} |")
w(f"| int8 network on float MFCC | {pct(r['int8_segment_accuracy'])} | {pct(r['int8_track_accuracy'])} |")
w(f"| device path (fixed-point MFCC + int8 network) | {pct(r['device_segment_accuracy'])} | {pct(r['device_track_accuracy'])} |")
w("")
w(f"Top-1 agreement with the float model: int8 {pct(r['agreement'])}, device path {pct(r['device_agreement'])}.")
if r.get("out_of_pool"):
    w("")
    w(f"Degraded ({r['out_of_pool_scope']}):")
    w("")
    w("| condition | float track | device track | device = float (segments) |")
    w("|---|---:|---:|---:|")
    for row in r["out_of_pool"]:
        w(f"| {row['condition']} | {pct(row['float_track_accuracy'])} | {pct(row['device_track_accuracy'])} | {pct(row['device_agreement'])} |")
    w("")
    w(f"Device agreement pooled over the degraded rows: {pct(r['out_of_pool_device_agreement'])} (lowest row "
      f"{pct(r['out_of_pool_device_agreement_min'])}).")
w("")
w(f"Sizes: model file {r['model_bytes']} B (network {r['network_bytes']} B, frontend tables {r['frontend_bytes']} B); "
  f"float32 weights {r['float_weight_bytes']} B; interpreter arena {r['arena_bytes']} B.")
print("\n".join(out))
