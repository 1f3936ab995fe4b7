"""Shared helpers for the Keras reference scripts (tools/keras_parity.py, tools/keras_bench.py).

Pinned reference stack (checked at run time):
    python -m venv /tmp/keras-venv && /tmp/keras-venv/bin/pip install tensorflow-cpu==2.20.0 keras==3.15.1
"""
import json
import struct

import numpy as np

PINNED = {"tensorflow": "2.20.0", "keras": "3.15.1"}


def check_versions():
    import keras
    import tensorflow as tf
    found = {"tensorflow": tf.__version__, "keras": keras.__version__}
    for k, v in PINNED.items():
        if found[k] != v:
            raise SystemExit(f"{k} {found[k]} found, {v} pinned: pip install tensorflow-cpu=={PINNED['tensorflow']} "
                             f"keras=={PINNED['keras']}")
    return found


# ---- the tensor archive (format in Tests/TrainingTests/TensorArchive.swift) ----

MAGIC = b"TNSRARC1"


def read_archive(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: not a tensor archive")
    (n,) = struct.unpack("<Q", data[8:16])
    header = json.loads(data[16:16 + n])
    base = 16 + n
    tensors = {}
    for e in header["tensors"]:
        count = int(np.prod(e["shape"])) if e["shape"] else 1
        start = base + e["offset"]
        arr = np.frombuffer(data[start:start + 4 * count], dtype="<f4").reshape(e["shape"])
        tensors[e["name"]] = arr.copy()
    return header["meta"], tensors


def write_archive(path, meta, tensors):
    """tensors: list of (name, np.ndarray) in order."""
    entries, blobs, offset = [], [], 0
    for name, arr in tensors:
        a = np.ascontiguousarray(np.asarray(arr, dtype="<f4"))
        entries.append({"name": name, "offset": offset, "shape": list(a.shape)})
        blobs.append(a.tobytes())
        offset += a.nbytes
    header = json.dumps({"meta": meta, "tensors": entries}, sort_keys=True).encode()
    with open(path, "wb") as f:
        f.write(MAGIC + struct.pack("<Q", len(header)) + header + b"".join(blobs))


# ---- the architectures, named as the Swift models name their layers ----

def build_model(kind, filters, rnn_units, classes=10, input_shape=(130, 23, 1), dropout=0.1):
    """cnn-gru / cnn-lstm / cnn with LINEAR logits (softmax is fused into the loss, from_logits=True)."""
    import keras
    from keras import layers
    inp = keras.Input(input_shape)
    x = inp
    shape = list(input_shape)
    for i, pool in enumerate([2, 3, 4]):
        s = "" if i == 0 else f"_{i}"
        x = layers.Conv2D(filters, 3, padding="same", name="conv2d" + s)(x)
        x = layers.ReLU(name="re_lu" + s)(x)
        x = layers.MaxPooling2D(pool, padding="same", name="max_pooling2d" + s)(x)
        x = layers.Dropout(dropout, name="dropout" + s)(x)
        x = layers.BatchNormalization(momentum=0.99, epsilon=1e-3, name="batch_normalization" + s)(x)
        shape = [-(-shape[0] // pool), -(-shape[1] // pool), filters]
    if kind == "cnn":
        x = layers.Flatten(name="flatten")(x)
    else:
        x = layers.Reshape((shape[0], shape[1] * shape[2]), name="reshape")(x)
        rnn = layers.GRU if kind == "cnn-gru" else layers.LSTM
        base = "gru" if kind == "cnn-gru" else "lstm"
        x = rnn(rnn_units, return_sequences=True, name=base)(x)
        x = rnn(rnn_units, name=base + "_1")(x)
    out = layers.Dense(classes, name="dense")(x)
    return keras.Model(inp, out, name=kind)


def variables_by_name(model):
    """'layer/variable' -> keras Variable, the Swift parameter naming."""
    out = {}
    for layer in model.layers:
        for v in layer.weights:
            out[f"{layer.name}/{v.name}"] = v
    return out
