#!/usr/bin/env python3
"""One table of recipes x out-of-pool conditions from tools/oop_eval.sh run folders (docs/out-of-pool.md,
"Recipes measured"): float track accuracy mean ± sample sd over the seeds found, in percent, and the mean
device agreement (device top-1 == float top-1 per segment) where an int8 model was evaluated.

    tools/oop_recipes_table.py "label=RUNDIR" ...      (RUNDIR holds seed-N/oop/oop.json)
"""
import glob, json, statistics, sys

def pm(xs, digits=1):
    xs = [100 * x for x in xs]
    if not xs:
        return "–"
    m = statistics.mean(xs)
    return f"{m:.{digits}f} ± {statistics.stdev(xs):.{digits}f}" if len(xs) > 1 else f"{m:.{digits}f}"

recipes = []
for arg in sys.argv[1:]:
    label, d = arg.split("=", 1)
    tables = [json.load(open(p)) for p in sorted(glob.glob(f"{d}/seed-*/oop/oop.json"))]
    recipes.append((label, tables))
conds = [r["condition"] for r in recipes[0][1][0]["rows"]]
print("| condition | " + " | ".join(f"{l} (n={len(t)})" for l, t in recipes) + " |")
print("|---|" + "---:|" * len(recipes))
for c in conds:
    cells = []
    for _, tables in recipes:
        rows = [r for t in tables for r in t["rows"] if r["condition"] == c]
        cells.append(pm([r["float_track_accuracy"] for r in rows]))
    print(f"| {c} | " + " | ".join(cells) + " |")
# Per seed, the mean over the degraded rows (and over those no recipe here trained on), then mean ± sd over seeds.
UNSEEN = {"ogg-vorbis-q0.3", "mp3-q0.5", "gain-20db", "speed+3%", "speed-3%"}
for title, keep in [("mean of all degraded rows", lambda r: True),
                    ("mean of ogg, mp3, gain, speed ±3 % (trained on by no recipe)", lambda r: r["condition"] in UNSEEN)]:
    cells = []
    for _, tables in recipes:
        per_seed = []
        for t in tables:
            rows = [r for r in t["rows"] if r["kind"] == "degraded" and keep(r)]
            per_seed.append(statistics.mean(r["float_track_accuracy"] for r in rows))
        cells.append(pm(per_seed))
    print(f"| *{title}* | " + " | ".join(cells) + " |")
print()
print("Device agreement (int8 device top-1 == float top-1, per segment), mean over seeds, % (– = no int8 model):")
print()
print("| condition | " + " | ".join(l for l, _ in recipes) + " |")
print("|---|" + "---:|" * len(recipes))
for c in conds:
    cells = []
    for _, tables in recipes:
        rows = [r for t in tables for r in t["rows"] if r["condition"] == c and r.get("device_agreement") is not None]
        cells.append(f"{100 * statistics.mean(r['device_agreement'] for r in rows):.1f}" if rows else "–")
    print(f"| {c} | " + " | ".join(cells) + " |")
