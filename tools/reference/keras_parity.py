#!/usr/bin/env python3
"""Keras parity golden for the Swift trainer (llm.c test_gpt2 style).

Reads init_<model>.bin written by the Swift test KerasParityTests.testExportInitialState (the
seeded initial weights of a small cnn-gru / cnn-lstm and a fixed batch of 4 inputs 130x23x1),
builds the same architecture in Keras (dropout rate 0 so the comparison is deterministic), loads
the weights, runs ONE training-mode forward + backward and ONE Adam step (Keras defaults), and
writes Tests/TrainingTests/Fixtures/keras_parity_<model>.bin with:
  input, labels, init/<weight>        what went in
  logits, loss                        training-mode forward with the initial weights
  grad/<weight>                       d(loss)/d(weight) for every trainable weight
  step/<weight>                       every weight after the Adam step (incl. batch-norm moving stats)
  inference_logits                    inference-mode logits after the step

Usage:
  KERAS_PARITY_EXPORT_DIR=/tmp/training-parity swift test --filter KerasParityTests/testExportInitialState
  /tmp/keras-venv/bin/python tools/reference/keras_parity.py /tmp/training-parity Tests/TrainingTests/Fixtures
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

from keras_common import build_model, check_versions, read_archive, variables_by_name, write_archive  # noqa: E402


def main(src_dir, dst_dir):
    versions = check_versions()
    import keras
    import tensorflow as tf
    tf.config.experimental.enable_op_determinism()
    for kind in ["cnn-gru", "cnn-lstm"]:
        meta, t = read_archive(os.path.join(src_dir, f"init_{kind}.bin"))
        filters, units, classes = int(meta["filters"]), int(meta["rnn_units"]), int(meta["classes"])
        model = build_model(kind, filters, units, classes, input_shape=t["input"].shape[1:], dropout=0.0)
        names = variables_by_name(model)
        swift_names = sorted(k[len("init/"):] for k in t if k.startswith("init/"))
        if sorted(names) != swift_names:
            raise SystemExit(f"weight names differ:\nkeras {sorted(names)}\nswift {swift_names}")
        for name, var in names.items():
            var.assign(t["init/" + name])
        x = tf.constant(t["input"])
        y = tf.constant(t["labels"].astype(np.int32))
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        trainable = model.trainable_variables
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = loss_fn(y, logits)
        grads = tape.gradient(loss, trainable)
        opt = keras.optimizers.Adam()   # lr 1e-3, beta 0.9/0.999, epsilon 1e-7
        opt.apply_gradients(zip(grads, trainable))
        inference_logits = model(x, training=False)

        path_of = {id(v): n for n, v in names.items()}
        out = [("input", t["input"]), ("labels", t["labels"])]
        out += [("init/" + n, t["init/" + n]) for n in names]
        out += [("logits", logits.numpy()), ("loss", np.array(loss.numpy()))]
        out += [("grad/" + path_of[id(v)], g.numpy()) for v, g in zip(trainable, grads)]
        out += [("step/" + n, v.numpy()) for n, v in names.items()]
        out += [("inference_logits", inference_logits.numpy())]
        meta_out = dict(meta)
        meta_out.update({
            "generator": "tools/reference/keras_parity.py "
                         f"(tensorflow {versions['tensorflow']}, keras {versions['keras']}, numpy {np.__version__})",
            "dropout": "0",
        })
        dst = os.path.join(dst_dir, f"keras_parity_{kind}.bin")
        write_archive(dst, meta_out, out)
        print(f"{kind}: loss {float(loss):.6f} -> {dst} ({os.path.getsize(dst)} bytes)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
