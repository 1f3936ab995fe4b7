#!/usr/bin/env python3
"""Calibrates the `uncertain` threshold out of pool (docs/out-of-pool.md, "Saying when it is unsure").

    tools/uncertain_threshold.py RUN/seed-*/oop/oop.json ...

Pools the tracks of every out-of-pool row (degraded and other-folder; the clean in-pool row is left out) of the
given tables (`crnn-train oop` with --int8: the device path's confidence, the top genre's mean Q15 probability, as
crnn-infer computes it). For thresholds 0.20-0.90 it prints how many tracks fall below (flagged uncertain), the
accuracy of the flagged and of the kept tracks, and Youden's J = P(flagged | wrong) - P(flagged | right); the
threshold with the largest J separates wrong from right answers best and is the one proposed. Standard library only.
"""
import json
import sys

tracks = []
for path in sys.argv[1:]:
    table = json.load(open(path))
    for row in table["rows"]:
        if row["kind"] == "held-out":
            continue
        for t in row.get("track_results") or []:
            conf = t.get("device_confidence")
            genre = t.get("device_genre")
            if conf is None:
                conf, genre = t["float_confidence"], t["float_genre"]
            tracks.append((conf, genre == t["label"], row["condition"]))
if not tracks:
    sys.exit("no track_results in these tables (written by crnn-train oop of this version)")

right = sum(1 for _, ok, _ in tracks if ok)
wrong = len(tracks) - right
print(f"{len(tracks)} out-of-pool tracks from {len(sys.argv) - 1} tables: {right} right, {wrong} wrong "
      f"(accuracy {100 * right / len(tracks):.1f} %)")
print()
print("| threshold | flagged | accuracy flagged | accuracy kept | P(flag given wrong) | P(flag given right) | J |")
print("|---:|---:|---:|---:|---:|---:|---:|")
best = None
for step in range(20, 91, 5):
    th = step / 100
    flagged = [ok for c, ok, _ in tracks if c < th]
    kept = [ok for c, ok, _ in tracks if c >= th]
    fw = sum(1 for ok in flagged if not ok) / wrong if wrong else 0
    fr = sum(1 for ok in flagged if ok) / right if right else 0
    j = fw - fr
    acc_f = f"{100 * sum(flagged) / len(flagged):.1f} %" if flagged else "-"
    acc_k = f"{100 * sum(kept) / len(kept):.1f} %" if kept else "-"
    print(f"| {th:.2f} | {len(flagged)} ({100 * len(flagged) / len(tracks):.0f} %) | {acc_f} | {acc_k} | "
          f"{100 * fw:.1f} % | {100 * fr:.1f} % | {j:.3f} |")
    if best is None or j > best[1] + 1e-12:
        best = (th, j)
print()
print(f"proposed threshold: {best[0]:.2f} (largest J = {best[1]:.3f})")
