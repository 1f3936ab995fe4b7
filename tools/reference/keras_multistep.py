#!/usr/bin/env python3
"""Multi-step Keras parity golden for the Swift trainer (complements tools/reference/keras_parity.py, which checks ONE step).

Reads init_<model>.bin written by the Swift test KerasMultiStepTests.testExportMultiStepInitialState: the seeded
initial weights of a full-size cnn-gru (filters 32, GRU 20+20) / cnn-lstm (filters 32, LSTM 30+30), a pool of
inputs 130x23x1 with labels (synthetic "MFCC-like" data: uniform noise of unit variance plus a per-class template,
so that the loss falls) and a batch schedule (rows of pool indices, -1 = unused; epochs of 32,32,32,32,22 samples:
the last batch is partial, as in Loop.swift). Builds the same architecture (tools/keras_common.build_model), loads
the weights, compiles it as tools/reference/keras_kfold.py does (Adam defaults, SparseCategoricalCrossentropy(from_logits=True))
and runs the schedule through Keras' own compiled train step (train_on_batch, metrics reset before each call so the
reported loss is that batch's loss, computed before the update as in fit). Writes keras_multistep_<model>.bin:
  loss                 [steps] the training loss of every step
  final/<weight>       every weight after the last step (incl. batch-norm moving statistics)
  snap/<k>/<weight>    (--snapshots) every weight after step k, for finding a first divergence
  init_fingerprint     [n, 2] per weight (get_weights order): sum and sum of squares of the initial values

Usage (the committed golden: 30 steps, dropout 0):
  KERAS_MULTISTEP_EXPORT_DIR=/tmp/training-multistep swift test --filter KerasMultiStepTests/testExportMultiStepInitialState
  cd tools/reference && /tmp/keras-venv/bin/python keras_multistep.py /tmp/training-multistep ../../Tests/TrainingTests/Fixtures
Longer diagnostics (not committed), e.g. 300 steps with dropout 0.1 and another Keras seed:
  /tmp/keras-venv/bin/python keras_multistep.py /tmp/training-multistep /tmp/ms-out --steps 300 --dropout 0.1 --seed 3
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_common import build_model, check_versions, read_archive, variables_by_name, write_archive  # noqa: E402


def run(kind, src_dir, dst_dir, steps, dropout, seed, snapshots, suffix, versions, keras_init=False, fit_epochs=0):
    import keras
    import tensorflow as tf
    meta, t = read_archive(os.path.join(src_dir, f"init_{kind}.bin"))
    filters, units, classes = int(meta["filters"]), int(meta["rnn_units"]), int(meta["classes"])
    pool_x, pool_y, schedule = t["pool_x"], t["pool_labels"].astype(np.int32), t["schedule"].astype(np.int64)
    if steps > schedule.shape[0]:
        raise SystemExit(f"{kind}: the export holds {schedule.shape[0]} steps, {steps} asked")
    keras.utils.set_random_seed(seed)            # dropout masks only: the weights come from Swift
    model = build_model(kind, filters, units, classes, input_shape=pool_x.shape[1:], dropout=dropout)
    names = variables_by_name(model)
    init_names = [k[len("init/"):] for k in t if k.startswith("init/")]
    if sorted(names) != sorted(init_names):
        raise SystemExit(f"weight names differ:\nkeras {sorted(names)}\nswift {sorted(init_names)}")
    if keras_init:                                 # diagnostics: Keras' own initialisers (seeded by --seed)
        t = dict(t)
        for name, var in names.items():
            t["init/" + name] = var.numpy()
    else:
        for name, var in names.items():
            var.assign(t["init/" + name])
    model.compile(optimizer=keras.optimizers.Adam(),   # lr 1e-3, beta 0.9/0.999, epsilon 1e-7
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    losses, snaps = [], []
    if fit_epochs:                                 # diagnostics: Keras' own fit loop and shuffling instead of the schedule
        class BatchLosses(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.seen, self.total = 0, 0.0

            def on_train_batch_end(self, batch, logs=None):
                n = min(32, len(pool_y) - self.seen)   # logs["loss"] is the epoch's running mean, weighted by samples
                total = float(logs["loss"]) * (self.seen + n)
                losses.append((total - self.total) / n)
                self.seen, self.total = self.seen + n, total
        hist = model.fit(pool_x, pool_y, batch_size=32, epochs=fit_epochs, shuffle=True, verbose=0,
                         callbacks=[BatchLosses()])
        steps = len(losses)
        epoch_loss = np.array(hist.history["loss"], np.float32)
    for s in range(0 if fit_epochs else steps):
        idx = schedule[s][schedule[s] >= 0]
        model.reset_metrics()
        logs = model.train_on_batch(pool_x[idx], pool_y[idx], return_dict=True)
        losses.append(float(logs["loss"]))
        if snapshots:
            snaps += [(f"snap/{s + 1}/{n}", v.numpy()) for n, v in names.items()]
    if int(model.optimizer.iterations.numpy()) != steps:
        raise SystemExit("optimizer iterations do not match the step count")
    order = init_names                             # the Swift get_weights order
    fp = np.array([[float(np.sum(t["init/" + n], dtype=np.float64)), float(np.sum(np.square(t["init/" + n], dtype=np.float64)))]
                   for n in order])
    out = [("loss", np.array(losses, np.float32)), ("init_fingerprint", fp)]
    if fit_epochs:
        out.append(("fit_epoch_loss", epoch_loss))
    out += [("final/" + n, names[n].numpy()) for n in order]
    out += snaps
    meta_out = {k: v for k, v in meta.items() if k != "made_by"}
    meta_out.update({
        "init_made_by": meta.get("made_by", "?"),
        "generator": "tools/reference/keras_multistep.py "
                     f"(tensorflow {versions['tensorflow']}, keras {versions['keras']}, numpy {np.__version__})",
        "steps": str(steps), "dropout": str(dropout), "keras_seed": str(seed),
        "loop": f"model.fit, {fit_epochs} epochs, shuffle=True" if fit_epochs else "train_on_batch on the schedule",
        "initial_weights": "keras initialisers (--keras-init)" if keras_init else "swift export",
    })
    os.makedirs(dst_dir, exist_ok=True)
    dst = os.path.join(dst_dir, f"keras_multistep_{kind}{suffix}.bin")
    write_archive(dst, meta_out, out)
    head = " ".join(f"{v:.4f}" for v in losses[:5])
    print(f"{kind}: {steps} steps, dropout {dropout}, seed {seed}: loss {head} ... {losses[-1]:.4f} -> {dst} "
          f"({os.path.getsize(dst)} bytes)", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("src_dir")
    p.add_argument("dst_dir")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0, help="Keras seed (dropout masks)")
    p.add_argument("--models", default="cnn-gru,cnn-lstm")
    p.add_argument("--snapshots", action="store_true", help="store every weight after every step")
    p.add_argument("--suffix", default="", help="appended to the output file name")
    p.add_argument("--fit-epochs", type=int, default=0,
                   help="diagnostics: train with model.fit (Keras' shuffling) for this many epochs over the pool")
    p.add_argument("--keras-init", action="store_true",
                   help="diagnostics: start from Keras' own initial weights (seeded by --seed), not the Swift export")
    a = p.parse_args()
    versions = check_versions()
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(2)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    if a.dropout == 0:
        tf.config.experimental.enable_op_determinism()
    for kind in a.models.split(","):
        run(kind, a.src_dir, a.dst_dir, a.steps, a.dropout, a.seed, a.snapshots, a.suffix, versions, a.keras_init, a.fit_epochs)


if __name__ == "__main__":
    main()
