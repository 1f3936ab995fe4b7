#!/usr/bin/env python3
"""One training epoch of cnn-gru and cnn-lstm in Keras vs the Swift trainer, same shapes and threads.

Keras side: batch 32, N=800 random float inputs 130x23x1 with random labels, Adam, sparse categorical
cross-entropy (from logits), 2 threads (intra-op 2, inter-op 2). The first epoch (graph tracing) is
discarded; the median of the next `--epochs` epochs is reported.

Swift side (default on): builds crnn-train in release and runs `crnn-train bench-train` (TrainingBenchmark.epochSeconds
on the same shapes and thread count), parsing its 'swift-epoch <model> <seconds>' lines, so both figures come from
one run of this script.

Usage: /tmp/keras-venv/bin/python tools/reference/keras_bench.py [--segments 800] [--epochs 3] [--no-swift]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

from keras_common import build_model, check_versions  # noqa: E402

MODELS = ["cnn-gru", "cnn-lstm"]


def keras_epochs(kind, segments, batch, epochs, threads):
    import keras
    model = build_model(kind, 32, 20 if kind == "cnn-gru" else 30)
    model.compile(optimizer=keras.optimizers.Adam(),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((segments, 130, 23, 1), dtype=np.float32)
    y = rng.integers(0, 10, segments).astype(np.int32)
    times = []
    for _ in range(epochs + 1):
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])


def swift_epochs(repo, segments, batch):
    subprocess.run(["swift", "build", "-c", "release", "--product", "crnn-train"], cwd=repo, check=True,
                   stdout=subprocess.DEVNULL)
    cmd = [os.path.join(repo, ".build", "release", "crnn-train"), "bench-train",
           "--segments", str(segments), "--batch", str(batch), "--threads", "2"]
    out = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    found = dict((m.group(1), float(m.group(2)))
                 for m in re.finditer(r"swift-epoch (\S+) ([0-9.]+)", out.stdout))
    if not found:
        sys.stderr.write(out.stdout[-3000:] + out.stderr[-3000:])
        raise SystemExit("the Swift benchmark printed no 'swift-epoch' line")
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--segments", type=int, default=800)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-swift", action="store_true")
    a = ap.parse_args()
    versions = check_versions()
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    keras_t = {k: keras_epochs(k, a.segments, a.batch, a.epochs, a.threads) for k in MODELS}
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    swift_t = {} if a.no_swift else swift_epochs(repo, a.segments, a.batch)
    print(f"one epoch, {a.segments} segments 130x23x1, batch {a.batch}, {a.threads} threads; "
          f"tensorflow {versions['tensorflow']}, keras {versions['keras']}")
    print(f"{'model':10} {'keras s':>9} {'swift s':>9} {'swift/keras':>12}")
    for k in MODELS:
        s = swift_t.get(k)
        ratio = f"{s / keras_t[k]:.2f}" if s else "-"
        print(f"{k:10} {keras_t[k]:9.3f} {s if s else float('nan'):9.3f} {ratio:>12}")


if __name__ == "__main__":
    main()
