"""Shared helpers for the Keras reference scripts (tools/reference/keras_parity.py, tools/reference/keras_bench.py).

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


# ---- our binary formats, read in Python (added for tools/reference/litert_bench.py) ----

def fnv1a32(data):
    """32-bit FNV-1a, the checksum of feature files and checkpoints (pure Python; ~1 s per 10 MB)."""
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


def read_feature_file(path, verify=True):
    """A feature file written by `crnn-train features` (layout: Sources/Features/FeatureCache.swift, version 1).

    Returns dict: config_bytes (64 raw bytes of the FeatureConfig), labels, tracks (list of dicts with
    track_id, path, label, first, count), values (float32 array segments x frames x coefficients),
    shard (index, count)."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:8] != b"CRNNFEAT":
        raise ValueError(f"{path}: not a feature file (bad magic)")
    pos = 8

    def u32():
        nonlocal pos
        if pos + 4 > len(b):
            raise ValueError(f"{path}: truncated feature file")
        (v,) = struct.unpack_from("<I", b, pos)
        pos += 4
        return v

    def string():
        nonlocal pos
        n = u32()
        if pos + n > len(b):
            raise ValueError(f"{path}: truncated feature file (string)")
        s = b[pos:pos + n].decode("utf-8")
        pos += n
        return s

    version = u32()
    if version != 1:
        raise ValueError(f"{path}: feature file version {version}, this reader knows 1")
    if verify and struct.unpack_from("<I", b, len(b) - 4)[0] != fnv1a32(b[:-4]):
        raise ValueError(f"{path}: checksum mismatch (corrupt or truncated)")
    shard = (u32(), u32())
    config_bytes = b[pos:pos + 64]
    pos += 64
    n_labels, n_tracks, n_segments, frames, coeffs = (u32() for _ in range(5))
    labels = [string() for _ in range(n_labels)]
    tracks, nxt = [], 0
    for _ in range(n_tracks):
        tid, rel = string(), string()
        label, first, count = u32(), u32(), u32()
        if first != nxt or label >= n_labels:
            raise ValueError(f"{path}: inconsistent track table at {tid}")
        nxt += count
        tracks.append({"track_id": tid, "path": rel, "label": label, "first": first, "count": count})
    if nxt != n_segments:
        raise ValueError(f"{path}: track table does not cover {n_segments} segments")
    n = n_segments * frames * coeffs
    if len(b) - pos != 4 * n + 4:
        raise ValueError(f"{path}: size disagrees with header")
    values = np.frombuffer(b, dtype="<f4", count=n, offset=pos).reshape(n_segments, frames, coeffs).copy()
    return {"config_bytes": config_bytes, "labels": labels, "tracks": tracks, "values": values, "shard": shard}


def read_checkpoint(path, verify=True):
    """A float checkpoint model.ckpt (layout: Sources/Training/Checkpoint.swift, version 1).

    Returns dict: config_bytes (FCFG payload), meta (the META JSON), weights (name -> float32 array in
    Keras layout), sections (tags seen, in order). Optimizer sections are skipped."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:8] != b"CRNNCKPT":
        raise ValueError(f"{path}: not a float checkpoint (bad magic)")
    (version,) = struct.unpack_from("<I", b, 8)
    if version > 1:
        raise ValueError(f"{path}: checkpoint version {version} is newer than this reader (1)")
    pos, sections, order, ended = 12, {}, [], False
    while pos < len(b):
        if len(b) - pos < 12:
            raise ValueError(f"{path}: truncated section header at {pos}")
        tag = b[pos:pos + 4].decode("ascii", "replace")
        (length,) = struct.unpack_from("<Q", b, pos + 4)
        if length > len(b) - pos - 12:
            raise ValueError(f"{path}: section {tag} runs past the end")
        payload = b[pos + 12:pos + 12 + length]
        order.append(tag)
        if tag == "END ":
            if verify and (length != 4 or struct.unpack("<I", payload)[0] != fnv1a32(b[:pos])):
                raise ValueError(f"{path}: checksum mismatch")
            ended = True
            pos += 12 + length
            break
        sections[tag] = payload
        pos += 12 + length
    if not ended or pos != len(b):
        raise ValueError(f"{path}: no end section, or bytes after it")
    for need in ("FCFG", "META", "WGHT"):
        if need not in sections:
            raise ValueError(f"{path}: no {need} section")
    meta = json.loads(sections["META"].decode("utf-8"))
    w, p, weights = sections["WGHT"], 0, {}
    (count,) = struct.unpack_from("<I", w, 0)
    p = 4
    for _ in range(count):
        (nl,) = struct.unpack_from("<I", w, p)
        name = w[p + 4:p + 4 + nl].decode("utf-8")
        p += 4 + nl
        (rank,) = struct.unpack_from("<I", w, p)
        shape = list(struct.unpack_from(f"<{rank}I", w, p + 4))
        p += 4 + 4 * rank
        n = int(np.prod(shape)) if shape else 1
        weights[name] = np.frombuffer(w, dtype="<f4", count=n, offset=p).reshape(shape).copy()
        p += 4 * n
    if p != len(w):
        raise ValueError(f"{path}: weight table has trailing bytes")
    return {"config_bytes": sections["FCFG"], "meta": meta, "weights": weights, "sections": order}
