#!/usr/bin/env python3
"""Keras side of the k-fold comparison (issue 3 acceptance): trains the same cnn-gru / cnn-lstm with
TensorFlow/Keras on EXACTLY the folds our `crnn-train fit --split kfold` used, and reports segment and
track accuracy per fold and mean +- std.

The folds are read from our run folder (RUN_DIR/fold-N/split.json: train/validation/test track ids),
the features from our feature file (format: Sources/Features/FeatureCache.swift). Everything else
mirrors the Swift defaults (Sources/Training/Loop.swift, Sources/crnn-train/FitCommand.swift):
  - input: per-MFCC-coefficient standardisation with the TRAINING tracks' mean and population std
    (float64 over all frames of the training segments, std floored at 1e-6);
  - architecture: tools/keras_common.build_model (the Swift layer names; filters 32, GRU 20+20 or
    LSTM 30+30, dropout 0.1, BN momentum 0.99 eps 1e-3, Keras default initialisers), linear logits
    with SparseCategoricalCrossentropy(from_logits=True);
  - Adam 1e-3 (Keras defaults), batch 32, seeded shuffling, at most 60 epochs;
  - EarlyStopping(val_loss, patience 10, restore_best_weights=True,
    start_from_epoch = ceil(300 / steps_per_epoch)), our warm-up rule;
  - test: segment accuracy, and track accuracy = argmax of the mean of a track's segment softmax.
Threads: intra-op 2, inter-op 1 (the machine has 2 cores).

Usage:
  /tmp/keras-venv/bin/python tools/reference/keras_kfold.py --model cnn-gru --features /tmp/kf/gtzan-mini.features \
      --runs /tmp/kf/ours-gru --out docs/results/keras-kfold-cnn-gru.json
"""
import argparse
import glob
import json
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_common import build_model, check_versions, read_feature_file  # noqa: E402

UNITS = {"cnn-gru": 20, "cnn-lstm": 30}


# ---- the feature file (Sources/Features/FeatureCache.swift, version 1) ----

def read_features(path, verify_checksum=True):
    """keras_common.read_feature_file (all checks) as this script uses it: an unsharded file, tracks keyed by id."""
    try:
        f = read_feature_file(path, verify=verify_checksum)
    except ValueError as e:
        raise SystemExit(str(e))
    if f["shard"] != (1, 1):
        raise SystemExit(f"{path}: shard {f['shard'][0]}/{f['shard'][1]}; pass an unsharded file")
    labels, x = f["labels"], f["values"]
    tracks = [{"id": t["track_id"], "path": t["path"], "label": t["label"], "first": t["first"], "count": t["count"]}
              for t in f["tracks"]]
    n_segments = x.shape[0]
    seg_label = np.zeros(n_segments, np.int32)
    seg_track = np.zeros(n_segments, np.int32)
    for i, t in enumerate(tracks):
        seg_label[t["first"]:t["first"] + t["count"]] = t["label"]
        seg_track[t["first"]:t["first"] + t["count"]] = i
    return labels, tracks, x, seg_label, seg_track


# ---- one fold ----

def segments_of(track_ids, tracks):
    pos = {t["id"]: i for i, t in enumerate(tracks)}
    missing = [t for t in track_ids if t not in pos]
    if missing:
        raise SystemExit(f"split names tracks not in the feature file: {missing[:5]}")
    out = []
    for tid in track_ids:
        t = tracks[pos[tid]]
        out.extend(range(t["first"], t["first"] + t["count"]))
    return np.array(out, dtype=np.int64)


def standardisation(x, train_idx):
    """Float64 mean and population std per coefficient over all frames of the training segments."""
    v = x[train_idx].astype(np.float64).reshape(-1, x.shape[2])
    mean = v.mean(axis=0)
    std = np.maximum(1e-6, np.sqrt(np.maximum(0.0, (v * v).mean(axis=0) - mean * mean)))
    return mean.astype(np.float32), std.astype(np.float32)


def track_accuracy(probs, seg_track, seg_label):
    correct, total = 0, 0
    for t in np.unique(seg_track):
        m = seg_track == t
        pred = int(np.argmax(probs[m].mean(axis=0)))
        correct += int(pred == seg_label[m][0])
        total += 1
    return correct / total, total


def run_fold(args, fold, split, labels, tracks, x, seg_label, seg_track):
    import keras
    import tensorflow as tf

    tr = segments_of(split["train"], tracks)
    va = segments_of(split["validation"], tracks)
    te = segments_of(split["test"], tracks)
    if set(split["train"]) & set(split["test"]) or set(split["validation"]) & set(split["test"]):
        raise SystemExit(f"fold {fold}: test tracks overlap train/validation")
    mean, std = standardisation(x, tr)

    def inputs(idx):
        return ((x[idx] - mean) / std)[..., None].astype(np.float32)

    xtr, ytr = inputs(tr), seg_label[tr]
    xva, yva = inputs(va), seg_label[va]
    xte, yte = inputs(te), seg_label[te]

    seed = args.seed + fold - 1          # ours seeds the model with seed + fold index (0-based)
    keras.utils.set_random_seed(seed)    # python, numpy and TF: initialisers, dropout, shuffling
    model = build_model(args.model, args.filters, UNITS[args.model], classes=len(labels),
                        input_shape=xtr.shape[1:], dropout=0.1)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    steps = math.ceil(len(tr) / args.batch)
    warmup = math.ceil(300 / steps)

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            dt = time.perf_counter() - self.t0
            times.append(dt)
            if not args.quiet:
                print(f"  epoch {epoch + 1}/{args.epochs}: loss {logs['loss']:.4f} acc {logs['accuracy']:.3f}, "
                      f"val loss {logs['val_loss']:.4f} acc {logs['val_accuracy']:.3f}, {dt:.1f} s", flush=True)

    times = []
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=args.patience, restore_best_weights=True,
                                         start_from_epoch=warmup)
    t0 = time.perf_counter()
    hist = model.fit(xtr, ytr, batch_size=args.batch, epochs=args.epochs, shuffle=True,
                     validation_data=(xva, yva), callbacks=[stop, EpochTimer()], verbose=0)
    logits = model.predict(xte, batch_size=64, verbose=0)
    wall = time.perf_counter() - t0
    probs = tf.nn.softmax(logits).numpy()
    seg_acc = float(np.mean(np.argmax(probs, axis=1) == yte))
    trk_acc, n_tracks = track_accuracy(probs, seg_track[te], seg_label[te])
    h = hist.history
    epochs = len(h["loss"])
    return {
        "fold": fold, "train_tracks": len(split["train"]), "validation_tracks": len(split["validation"]),
        "test_tracks": n_tracks, "train_segments": int(len(tr)), "test_segments": int(len(te)),
        "segment_accuracy": seg_acc, "track_accuracy": trk_acc,
        "epochs_trained": epochs, "best_epoch": int(stop.best_epoch) + 1,
        "stopped_early": bool(stop.stopped_epoch > 0), "start_from_epoch": warmup,
        "wall_seconds": round(wall, 2), "mean_epoch_seconds": round(float(np.mean(times)), 3),
        "history": {k: [round(float(v), 5) for v in h[k]]
                    for k in ["loss", "accuracy", "val_loss", "val_accuracy"]},
    }


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, choices=sorted(UNITS))
    p.add_argument("--features", required=True, help="feature file written by `crnn-train features`")
    p.add_argument("--runs", required=True, help="our kfold run folder (holds fold-N/split.json)")
    p.add_argument("--out", required=True, help="JSON result file")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--patience", type=int, default=10)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--filters", type=int, default=32)
    p.add_argument("--folds", default="", help="comma-separated fold numbers to run (default: all)")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args()

    versions = check_versions()
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.experimental.enable_op_determinism()

    labels, tracks, x, seg_label, seg_track = read_features(args.features)
    split_files = sorted(glob.glob(os.path.join(args.runs, "fold-*", "split.json")),
                         key=lambda s: int(s.split("fold-")[-1].split("/")[0]))
    if not split_files:
        raise SystemExit(f"no fold-N/split.json under {args.runs}")
    wanted = {int(f) for f in args.folds.split(",") if f}
    results = []
    for path in split_files:
        with open(path) as f:
            split = json.load(f)
        fold = int(split["fold"])
        if wanted and fold not in wanted:
            continue
        print(f"{args.model} fold {fold}: train {len(split['train'])} / validation {len(split['validation'])} "
              f"/ test {len(split['test'])} tracks", flush=True)
        r = run_fold(args, fold, split, labels, tracks, x, seg_label, seg_track)
        r["split_file"] = path
        results.append(r)
        print(f"{args.model} fold {fold}: segment accuracy {100 * r['segment_accuracy']:.2f} %, track accuracy "
              f"{100 * r['track_accuracy']:.2f} % (best epoch {r['best_epoch']} of {r['epochs_trained']}, "
              f"{r['wall_seconds']:.1f} s)", flush=True)

    seg = np.array([r["segment_accuracy"] for r in results])
    trk = np.array([r["track_accuracy"] for r in results])
    # Sample std over folds (ddof 1), as crnn-train's kfold.json (Sources/Training/Metrics.swift meanAndStd).
    sd = (lambda a: float(a.std(ddof=1)) if len(a) > 1 else 0.0)
    summary = {
        "model": args.model, "framework": "keras", "folds": len(results),
        "segment_accuracy_mean": float(seg.mean()), "segment_accuracy_std": sd(seg),
        "track_accuracy_mean": float(trk.mean()), "track_accuracy_std": sd(trk),
        "segment_accuracy": seg.tolist(), "track_accuracy": trk.tolist(),
        "versions": dict(versions, numpy=np.__version__, python=sys.version.split()[0]),
        "settings": {"seed": args.seed, "epochs": args.epochs, "batch": args.batch, "patience": args.patience,
                     "lr": args.lr, "filters": args.filters, "rnn_units": UNITS[args.model], "dropout": 0.1,
                     "threads": {"intra_op": 2, "inter_op": 1}, "op_determinism": True,
                     "features": os.path.basename(args.features), "runs": args.runs},
        "per_fold": results,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    print(f"{args.model} {len(results)}-fold (keras): segment accuracy {100 * seg.mean():.2f} ± {100 * sd(seg):.2f} %, "
          f"track accuracy {100 * trk.mean():.2f} ± {100 * sd(trk):.2f} % -> {args.out}")


if __name__ == "__main__":
    main()
