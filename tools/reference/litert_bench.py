#!/usr/bin/env python3
"""Our int8 network against LiteRT (ai-edge-litert) on the same architecture and weights, in one run.

    /tmp/keras-venv/bin/python tools/reference/litert_bench.py RUN/model.ckpt FEATURES [--crnn MODEL.crnn] [--runs N]
                                                     [--json-out FILE] [--calibration 200]

Steps (all figures printed, and written as JSON with --json-out):
 1. Reads our float checkpoint (model.ckpt) and feature file with the readers in keras_common.py, builds
    the same architecture in Keras (keras_common.build_model, then GRU/LSTM switched to unroll=True, as
    TFLite's int8 converter crashes on the while-loop form), loads the weights by name, and checks the
    Keras float segment accuracy on the checkpoint's test tracks against the run folder's metrics.json.
 2. Inputs are standardised per MFCC coefficient with the checkpoint's inputMean/inputStd (outside the
    network, as crnn-train does). Converts with tf.lite.TFLiteConverter.from_keras_model:
    (a) float32; (b) full-integer int8 (optimizations DEFAULT, representative dataset = --calibration
    segments of the checkpoint's TRAINING tracks, int8 input and output, TFLITE_BUILTINS_INT8 only).
    If (b) fails, falls back to TFLITE_BUILTINS_INT8 + TFLITE_BUILTINS (int8 where the converter can,
    float elsewhere) and the op table says which operators run in float.
 3. Accuracy on the test tracks: Keras float, LiteRT float, LiteRT int8, and top-1 agreement of LiteRT int8
    with the Keras float model (argmax of the logits; int8 argmax is taken on the int8 logits, first index
    on a tie).
 4. Latency: ai_edge_litert Interpreter, num_threads=1, one segment per invoke, median of --runs invokes
    after --warmup; with the default op resolver (which applies the XNNPACK delegate) and, for reference,
    without default delegates (LiteRT's built-in kernels).
 5. Ours: with --crnn MODEL.crnn and a release build at .build/release/crnn-infer, runs
    `crnn-infer MODEL.crnn --bench --runs N --json` (falls back to the text output) and takes
    `network_ms` (the int8 network per segment, input quantization to softmax, no MFCC). Expected output of
    crnn-infer --bench (branch `infer`):
        --json:  {"runs":N,...,"network_ms":0.1234,...,"model_bytes":...}
        text:    "  network              0.123 ms  (+ softmax)"
    Our int8-vs-float agreement comes from crnn-quantize's quantize-report.json (key `agreement`, fraction
    0-1) next to the .crnn file, or from --quant-report FILE. Anything missing is printed "not available".

Threads: LiteRT num_threads=1, TensorFlow intra/inter-op 1 (conversion and Keras evaluation).
"""
import argparse
import contextlib
import hashlib
import importlib.metadata
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402

from keras_common import build_model, check_versions, read_checkpoint, read_feature_file, variables_by_name  # noqa: E402

PINNED_LITERT = "2.3.0"  # /tmp/keras-venv/bin/pip install ai-edge-litert==2.3.0
RUNTIME_LOG = []  # LiteRT's own log lines (e.g. "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def check_litert():
    v = importlib.metadata.version("ai-edge-litert")
    if v != PINNED_LITERT:
        raise SystemExit(f"ai-edge-litert {v} found, {PINNED_LITERT} pinned: pip install ai-edge-litert=={PINNED_LITERT}")
    return v


# ---- data ----

def segments_of(features, track_ids):
    """Segment indices of the given track ids, in feature-file order; and the ids not found."""
    want = set(track_ids)
    seg, found = [], set()
    for t in features["tracks"]:
        if t["track_id"] in want:
            found.add(t["track_id"])
            seg.extend(range(t["first"], t["first"] + t["count"]))
    return np.array(seg, dtype=np.int64), sorted(want - found)


def segment_labels(features):
    y = np.zeros(len(features["values"]), dtype=np.int64)
    for t in features["tracks"]:
        y[t["first"]:t["first"] + t["count"]] = t["label"]
    return y


def standardise(values, mean, std):
    """(segments, frames, coeffs) -> (segments, frames, coeffs, 1), per-coefficient (x - mean) / std."""
    x = (values - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return x[..., None].astype(np.float32)


# ---- Keras model from our checkpoint ----

def keras_from_checkpoint(ckpt, frames, coeffs, batch=None):
    """Keras model with our checkpoint's weights; recurrent layers unrolled; batch None or fixed (1 for
    conversion: static shapes, no shape arithmetic in the LiteRT graph)."""
    import keras
    meta = ckpt["meta"]
    kind, o = meta["model"], meta.get("modelOptions", {})
    filters = int(o.get("filters", 32))
    units = int(o["rnn_units"]) if o.get("rnn_units") not in (None, "", "nil") else (20 if kind == "cnn-gru" else 30)
    classes = int(o.get("classes", len(meta["labels"])))
    dropout = float(o.get("dropout", 0.1))
    base = build_model(kind, filters, units, classes=classes, input_shape=(frames, coeffs, 1), dropout=dropout)
    # Same graph with unroll=True on the recurrent layers (a config edit; keras_common stays as it is).
    cfg = base.get_config()
    unrolled = 0
    for layer in cfg["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = (batch, frames, coeffs, 1)
        if layer["class_name"] in ("GRU", "LSTM"):
            layer["config"]["unroll"] = True
            unrolled += 1
    model = keras.Model.from_config(cfg)
    names = variables_by_name(model)
    w = ckpt["weights"]
    missing = sorted(set(names) - set(w))
    extra = sorted(set(w) - set(names))
    if missing:
        raise SystemExit(f"checkpoint lacks {missing} (has {sorted(w)})")
    for n, var in names.items():
        if tuple(var.shape) != w[n].shape:
            raise SystemExit(f"{n}: checkpoint shape {w[n].shape}, Keras {tuple(var.shape)}")
        var.assign(w[n])
    return model, {"kind": kind, "filters": filters, "rnn_units": units, "classes": classes,
                   "unrolled_layers": unrolled, "ignored_checkpoint_tensors": extra,
                   "parameters": int(sum(int(np.prod(v.shape)) for v in names.values()))}


def keras_logits(model, x):
    return np.asarray(model.predict(x, batch_size=64, verbose=0), dtype=np.float32)


# ---- conversion ----

@contextlib.contextmanager
def captured_fd2():
    """Captures C-level stderr (TFLite/XNNPACK log lines) into a list of lines."""
    sys.stderr.flush()
    saved = os.dup(2)
    lines = []
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(tmp.read().decode("utf-8", "replace").splitlines())


@contextlib.contextmanager
def quiet_converter():
    """The converter prints its SavedModel signature (hundreds of lines) to stdout and logs to fd 2."""
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), captured_fd2() as log:
        yield log


def convert_float(model):
    import tensorflow as tf
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    with quiet_converter():
        return conv.convert()


def convert_int8(model, calib, allow_float):
    import tensorflow as tf
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]

    def rep():
        for i in range(len(calib)):
            yield [calib[i:i + 1]]

    conv.representative_dataset = rep
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if allow_float:
        ops.append(tf.lite.OpsSet.TFLITE_BUILTINS)
    conv.target_spec.supported_ops = ops
    with quiet_converter():
        return conv.convert()


# ---- LiteRT interpreter ----

def make_interpreter(content, default_delegates=True):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    kw = {} if default_delegates else {
        "experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
    with captured_fd2() as log:
        it = Interpreter(model_content=content, num_threads=1, **kw)
        it.allocate_tensors()
    RUNTIME_LOG.extend(line for line in log if line.strip() and line not in RUNTIME_LOG)
    return it, log


def op_table(content):
    """Per operator: name, and whether it computes in int8/int16/float (from its input/output tensor types)."""
    it, _ = make_interpreter(content, default_delegates=False)
    tensors = {d["index"]: d for d in it.get_tensor_details()}
    rows = []
    for op in it._get_ops_details():
        types = set()
        for idx in list(op["inputs"]) + list(op["outputs"]):
            if idx < 0 or idx not in tensors:
                continue
            types.add(np.dtype(tensors[idx]["dtype"]).name)
        name = op["op_name"]
        if name in ("QUANTIZE", "DEQUANTIZE"):
            kind = "convert " + "->".join(np.dtype(tensors[i]["dtype"]).name
                                          for i in (op["inputs"][0], op["outputs"][0]))
        elif "float32" in types and types & {"int8", "int16"}:
            kind = "hybrid (float activations, int8 weights)"
        elif "float32" in types:
            kind = "float32"
        elif "int16" in types:
            kind = "int16 (+int8)"
        elif "int8" in types:
            kind = "int8 (int32 bias/indices)" if "int32" in types else "int8"
        else:
            kind = "+".join(sorted(types)) + " only (shape/index arithmetic)"
        detail = ""
        if "float32" in kind:  # say exactly where: tensor names, types and shapes
            def desc(ids):
                return ", ".join(f"{tensors[j]['name']} {np.dtype(tensors[j]['dtype']).name}"
                                 f"{[int(d) for d in tensors[j]['shape']]}" for j in ids if j >= 0 and j in tensors)
            detail = f"{desc(op['inputs'])} -> {desc(op['outputs'])}"
        rows.append((name, kind, detail))
    summary = {}
    for name, kind, _ in rows:
        summary.setdefault(kind, {}).setdefault(name, 0)
        summary[kind][name] += 1
    return rows, summary


def run_litert(content, x):
    """Logits (float for a float model; raw int8 and dequantized for an int8 model) of each segment."""
    it, _ = make_interpreter(content)
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    shape = list(inp["shape"])
    if shape[0] != 1:
        it.resize_tensor_input(inp["index"], [1] + list(x.shape[1:]))
        it.allocate_tensors()
        inp, out = it.get_input_details()[0], it.get_output_details()[0]
    in_scale, in_zp = inp["quantization"]
    out_scale, out_zp = out["quantization"]
    raw = []
    for i in range(len(x)):
        xi = x[i:i + 1]
        if inp["dtype"] == np.int8:
            xi = np.clip(np.round(xi / in_scale) + in_zp, -128, 127).astype(np.int8)
        it.set_tensor(inp["index"], xi)
        it.invoke()
        raw.append(it.get_tensor(out["index"])[0].copy())
    raw = np.stack(raw)
    if out["dtype"] == np.int8:
        return raw, (raw.astype(np.float32) - out_zp) * out_scale, {"input": [float(in_scale), int(in_zp)],
                                                                    "output": [float(out_scale), int(out_zp)]}
    return raw, raw.astype(np.float32), None


def time_litert(content, x0, runs, warmup, default_delegates=True):
    """Median (and p10/p90) wall time in ms of one invoke() on one segment, num_threads=1."""
    it, _ = make_interpreter(content, default_delegates)
    inp = it.get_input_details()[0]
    xi = x0[None]
    if inp["dtype"] == np.int8:
        s, z = inp["quantization"]
        xi = np.clip(np.round(xi / s) + z, -128, 127).astype(np.int8)
    if list(inp["shape"])[0] != 1:
        it.resize_tensor_input(inp["index"], list(xi.shape))
        it.allocate_tensors()
    it.set_tensor(inp["index"], xi)
    for _ in range(warmup):
        it.invoke()
    t = np.empty(runs)
    for r in range(runs):
        a = time.perf_counter_ns()
        it.invoke()
        t[r] = time.perf_counter_ns() - a
    delegate_nodes = sum(1 for op in it._get_ops_details() if op["op_name"] == "DELEGATE")
    return {"median_ms": float(np.median(t)) / 1e6, "p10_ms": float(np.percentile(t, 10)) / 1e6,
            "p90_ms": float(np.percentile(t, 90)) / 1e6, "runs": runs, "warmup": warmup,
            "default_delegates": default_delegates, "delegate_nodes": delegate_nodes}


def empty_invoke_overhead_ms(runs=2000):
    """Python call overhead of the timing loop itself (perf_counter_ns pair around a no-op call)."""
    t = np.empty(runs)
    f = (lambda: None)
    for r in range(runs):
        a = time.perf_counter_ns()
        f()
        t[r] = time.perf_counter_ns() - a
    return float(np.median(t)) / 1e6


# ---- ours: crnn-infer --bench and crnn-quantize's report ----

def parse_bench(stdout):
    """network_ms (and the other stage figures) from crnn-infer --bench output, JSON line or text."""
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if "network_ms" in d:
                return {k: d[k] for k in d}
    out = {}
    for key in ("mfcc", "convolution", "recurrent", "dense head", "network", "total"):
        m = re.search(r"^\s*" + re.escape(key) + r"\b[^\n0-9]*?([0-9]+(?:\.[0-9]+)?)\s*ms", stdout, re.M)
        if m:
            out[key.replace(" ", "_") + "_ms"] = float(m.group(1))
    m = re.search(r"model\s+([0-9]+)\s+bytes", stdout)
    if m:
        out["model_bytes"] = int(m.group(1))
    return out if "network_ms" in out else None


def ours_bench(crnn, runs, exe=None):
    exe = exe or os.path.join(REPO, ".build", "release", "crnn-infer")
    if not crnn:
        return None, "no --crnn MODEL.crnn given"
    if not os.path.exists(crnn):
        return None, f"{crnn} does not exist"
    if not os.access(exe, os.X_OK):
        return None, f"{exe} not built (swift build -c release --product crnn-infer)"
    notes = []
    for extra in (["--runs", str(runs), "--json"], ["--runs", str(runs)], []):
        cmd = [exe, crnn, "--bench"] + extra
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode == 0:
            parsed = parse_bench(p.stdout)
            if parsed:
                parsed["command"] = " ".join(cmd)
                return parsed, None
            notes.append(f"`{' '.join(cmd)}` printed no network latency")
        else:
            notes.append(f"`{' '.join(cmd)}` exit {p.returncode}: {(p.stderr or p.stdout).strip()[:300]}")
        if p.returncode == 2:  # bad input (e.g. no frontend in this build): other flag sets will not help
            break
    return None, "; ".join(notes)


def runtime_bench_proxy(kind):
    """tools/runtime_bench.sh: CRNNRuntime's kernels on a paper-shaped model with LCG weights (not our trained
    model, no MFCC, SwiftPM release build without -target-cpu). A proxy for our network latency while crnn-infer --bench
    is not available; reported on its own line, never in the ours/LiteRT column."""
    p = subprocess.run(["bash", os.path.join(REPO, "tools", "runtime_bench.sh")], cwd=REPO, capture_output=True, text=True)
    m = re.search(r"^" + re.escape(kind) + r":\s*([0-9.]+)\s*ms per inference", p.stdout, re.M)
    if p.returncode != 0 or not m:
        return None, f"tools/runtime_bench.sh exit {p.returncode}: {(p.stderr or p.stdout).strip()[-300:]}"
    return float(m.group(1)), p.stdout.strip()


def ours_agreement(crnn, report_path):
    cands = [report_path] if report_path else []
    if crnn:
        cands.append(os.path.join(os.path.dirname(os.path.abspath(crnn)), "quantize-report.json"))
    for c in cands:
        if c and os.path.exists(c):
            with open(c) as f:
                d = json.load(f)
            if "agreement" in d:
                return {"agreement": float(d["agreement"]), "source": c,
                        "int8_segment_accuracy": d.get("int8_segment_accuracy"),
                        "float_segment_accuracy": d.get("float_segment_accuracy")}
    return None


# ---- main ----

def fmt(v, spec=".4f"):
    return "not available" if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("features")
    ap.add_argument("--crnn", help="our int8 model file (crnn-quantize output) for crnn-infer --bench")
    ap.add_argument("--quant-report", help="crnn-quantize quantize-report.json (default: next to --crnn)")
    ap.add_argument("--crnn-infer", help="crnn-infer binary (default: .build/release/crnn-infer of this checkout)")
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--calibration", type=int, default=200, help="representative segments from training tracks")
    ap.add_argument("--runtime-bench", action="store_true",
                    help="also run tools/runtime_bench.sh (CRNNRuntime kernels, LCG weights) as a labelled proxy")
    ap.add_argument("--json-out")
    ap.add_argument("--save-tflite", help="folder to write <model>-float.tflite and <model>-int8.tflite")
    ap.add_argument("--no-verify", action="store_true", help="skip the files' FNV-1a checksums (slow in Python)")
    a = ap.parse_args()

    versions = check_versions()
    versions["ai-edge-litert"] = check_litert()
    versions["numpy"] = np.__version__
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    ckpt = read_checkpoint(a.checkpoint, verify=not a.no_verify)
    feats = read_feature_file(a.features, verify=not a.no_verify)
    meta = ckpt["meta"]
    if feats["config_bytes"] != ckpt["config_bytes"]:
        raise SystemExit("the feature file was made with another feature configuration than the checkpoint's")
    if feats["labels"] != meta["labels"]:
        raise SystemExit(f"labels differ: features {feats['labels']} vs checkpoint {meta['labels']}")
    _, frames, coeffs = feats["values"].shape
    test_seg, test_missing = segments_of(feats, meta["testTracks"])
    train_seg, train_missing = segments_of(feats, meta["trainTracks"])
    if test_missing or train_missing:
        raise SystemExit(f"feature file lacks tracks of the checkpoint: test {test_missing[:5]} train {train_missing[:5]}")
    y = segment_labels(feats)
    mean, std = meta.get("inputMean") or [0.0] * coeffs, meta.get("inputStd") or [1.0] * coeffs
    x_test = standardise(feats["values"][test_seg], mean, std)
    y_test = y[test_seg]
    # Calibration: evenly spaced over the training tracks' segments (deterministic, never test data).
    pick = np.unique(np.linspace(0, len(train_seg) - 1, min(a.calibration, len(train_seg))).round().astype(int))
    calib = standardise(feats["values"][train_seg[pick]], mean, std)

    model, info = keras_from_checkpoint(ckpt, frames, coeffs)
    model1, _ = keras_from_checkpoint(ckpt, frames, coeffs, batch=1)  # static shapes for conversion
    kind = info["kind"]
    print(f"{kind}: {info['parameters']} parameters, filters {info['filters']}, units {info['rnn_units']}; "
          f"test {len(test_seg)} segments of {len(meta['testTracks'])} tracks, calibration {len(calib)} "
          f"segments of {len(meta['trainTracks'])} training tracks", flush=True)

    # 1. Keras float vs our reported metrics.
    k_logits = keras_logits(model, x_test)
    k_pred = k_logits.argmax(1)
    k_acc = float((k_pred == y_test).mean())
    metrics_path = os.path.join(os.path.dirname(os.path.abspath(a.checkpoint)), "metrics.json")
    ours_float = None
    if os.path.exists(metrics_path):
        with open(metrics_path) as f:
            m = json.load(f)
        ours_float = {"segment_accuracy": m.get("segment_accuracy"), "segments": m.get("segments"),
                      "source": metrics_path}
    k_correct = int((k_pred == y_test).sum())
    print(f"Keras float segment accuracy {k_acc:.4f} ({k_correct}/{len(y_test)})", end="")
    if ours_float and ours_float["segment_accuracy"] is not None:
        ours_correct = ours_float["segment_accuracy"] * (ours_float["segments"] or len(y_test))
        ours_float["segments_difference"] = round(k_correct - ours_correct)
        print(f"; crnn-train metrics.json {ours_float['segment_accuracy']:.4f} over {ours_float['segments']} "
              f"segments: difference {ours_float['segments_difference']:+d} segment(s)")
    else:
        print("; no metrics.json next to the checkpoint")

    # 2. Conversion.
    t0 = time.time()
    tfl_float = convert_float(model1)
    int8_mode, int8_error = "full-int8 (TFLITE_BUILTINS_INT8 only)", None
    try:
        tfl_int8 = convert_int8(model1, calib, allow_float=False)
    except Exception as e:  # noqa: BLE001 -- the converter raises many types; we report and fall back
        int8_error = f"{type(e).__name__}: {str(e).strip().splitlines()[-1][:400] if str(e).strip() else ''}"
        print(f"full-int8 conversion failed: {int8_error}\nfalling back to TFLITE_BUILTINS_INT8 + TFLITE_BUILTINS",
              flush=True)
        int8_mode = "int8 with float fallback (TFLITE_BUILTINS_INT8 + TFLITE_BUILTINS)"
        tfl_int8 = convert_int8(model1, calib, allow_float=True)
    digests = {"litert_float": hashlib.sha256(tfl_float).hexdigest()[:16],
               "litert_int8": hashlib.sha256(tfl_int8).hexdigest()[:16]}
    print(f"converted in {time.time() - t0:.1f} s: float {len(tfl_float)} bytes, int8 {len(tfl_int8)} bytes "
          f"[{int8_mode}] (sha256 {digests['litert_float']}, {digests['litert_int8']})", flush=True)
    if a.save_tflite:
        os.makedirs(a.save_tflite, exist_ok=True)
        for tag, c in (("float", tfl_float), ("int8", tfl_int8)):
            with open(os.path.join(a.save_tflite, f"{kind}-{tag}.tflite"), "wb") as f:
                f.write(c)
    rows, summary = op_table(tfl_int8)
    float_ops = {name: n for kindname, ops in summary.items() if kindname.startswith(("float32", "hybrid"))
                 for name, n in ops.items()}
    print("int8 model operators by arithmetic:")
    for kindname, ops in sorted(summary.items()):
        print(f"  {kindname:42} " + ", ".join(f"{n} x{c}" for n, c in sorted(ops.items())))
    for i, (name, kindname, detail) in enumerate(rows):
        if detail:
            print(f"  op {i} {name} [{kindname}]: {detail}")

    # 3. Accuracy.
    _, lf_logits, _ = run_litert(tfl_float, x_test)
    raw8, l8_logits, qparams = run_litert(tfl_int8, x_test)
    lf_pred = lf_logits.argmax(1)
    l8_pred = raw8.argmax(1)  # on the int8 logits (first index on a tie)
    acc = {
        "keras_float": k_acc,
        "litert_float": float((lf_pred == y_test).mean()),
        "litert_int8": float((l8_pred == y_test).mean()),
        "litert_float_agreement_with_keras": float((lf_pred == k_pred).mean()),
        "litert_int8_agreement_with_keras_float": float((l8_pred == k_pred).mean()),
        "litert_int8_agreement_with_litert_float": float((l8_pred == lf_pred).mean()),
        "litert_float_max_abs_logit_diff": float(np.abs(lf_logits - k_logits).max()),
        "litert_int8_max_abs_logit_diff": float(np.abs(l8_logits - k_logits).max()),
        "int8_argmax_ties": int(sum(int((r == r.max()).sum() > 1) for r in raw8)),
        "segments": int(len(y_test)),
    }

    # 4. Latency (the machine may be shared: the load average goes into the JSON).
    load_before = os.getloadavg()
    overhead = empty_invoke_overhead_ms()
    lat = {}
    for tag, c in (("float", tfl_float), ("int8", tfl_int8)):
        lat[tag] = time_litert(c, x_test[0], a.runs, a.warmup, default_delegates=True)
        lat[tag + "_builtin_kernels"] = time_litert(c, x_test[0], a.runs, a.warmup, default_delegates=False)
        print(f"LiteRT {tag}: {lat[tag]['median_ms']:.4f} ms (default resolver: "
              f"{lat[tag]['delegate_nodes']} DELEGATE (XNNPACK) partitions), {lat[tag + '_builtin_kernels']['median_ms']:.4f} ms "
              f"(no default delegates)", flush=True)

    load_after = os.getloadavg()
    print(f"load average (1/5/15 min) before timing {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
          f"after {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} on {os.cpu_count()} CPUs")

    # 5. Ours.
    ours, ours_why = ours_bench(a.crnn, a.runs, a.crnn_infer)
    agree = ours_agreement(a.crnn, a.quant_report)
    ours_ms = ours["network_ms"] if ours else None
    ratio = ours_ms / lat["int8"]["median_ms"] if ours_ms else None
    proxy = None
    if a.runtime_bench:
        proxy_ms, proxy_out = runtime_bench_proxy(kind)
        proxy = {"ms": proxy_ms, "output": proxy_out,
                 "ratio_over_litert_int8": proxy_ms / lat["int8"]["median_ms"] if proxy_ms else None,
                 "ratio_over_litert_int8_builtin_kernels":
                     proxy_ms / lat["int8_builtin_kernels"]["median_ms"] if proxy_ms else None}

    print()
    print(f"per 3-s segment, one thread, median of {a.runs} runs; tensorflow {versions['tensorflow']}, "
          f"keras {versions['keras']}, ai-edge-litert {versions['ai-edge-litert']}")
    hdr = (f"| {'model':8} | {'LiteRT float ms':>15} | {'LiteRT int8 ms':>14} | {'ours int8 ms':>13} | "
           f"{'ours/LiteRT-int8':>16} | {'LiteRT int8 agreement':>21} | {'ours int8 agreement':>19} |")
    print(hdr)
    print("|" + "|".join("-" * (len(c)) for c in hdr.split("|")[1:-1]) + "|")
    print(f"| {kind:8} | {lat['float']['median_ms']:15.4f} | {lat['int8']['median_ms']:14.4f} | "
          f"{fmt(ours_ms):>13} | {fmt(ratio, '.2f'):>16} | "
          f"{acc['litert_int8_agreement_with_keras_float'] * 100:20.1f}% | "
          f"{(fmt(agree['agreement'] * 100, '.1f') + '%') if agree else 'not available':>19} |")
    print(f"accuracy on {len(y_test)} test segments: Keras float {acc['keras_float']:.4f}, LiteRT float "
          f"{acc['litert_float']:.4f}, LiteRT int8 {acc['litert_int8']:.4f}")
    print(f"sizes: LiteRT float {len(tfl_float)} B, LiteRT int8 {len(tfl_int8)} B, float32 weights "
          f"{4 * info['parameters']} B" + (f", ours .crnn {os.path.getsize(a.crnn)} B" if a.crnn and os.path.exists(a.crnn) else ""))
    print("ops outside int8 in the LiteRT int8 model: " + (", ".join(f"{k} x{v}" for k, v in sorted(float_ops.items())) or "none"))
    if proxy and proxy["ms"]:
        print(f"proxy for ours (tools/runtime_bench.sh: CRNNRuntime kernels, paper-shaped {kind} with LCG weights, "
              f"not this model): {proxy['ms']:.3f} ms = {proxy['ratio_over_litert_int8']:.1f}x LiteRT int8 (XNNPACK), "
              f"{proxy['ratio_over_litert_int8_builtin_kernels']:.1f}x LiteRT int8 built-in kernels")
    elif proxy:
        print(f"proxy for ours: not available ({proxy['output']})")
    print("LiteRT log: " + (" | ".join(RUNTIME_LOG[:3]) or "(nothing)"))
    if not ours:
        print(f"ours: not available ({ours_why})")
    if not agree:
        print("ours int8 agreement: not available (no quantize-report.json)")

    if a.json_out:
        res = {
            "model": kind, "checkpoint": a.checkpoint, "features": a.features, "versions": versions,
            "architecture": info, "test_segments": int(len(y_test)), "test_tracks": len(meta["testTracks"]),
            "calibration_segments": int(len(calib)), "keras_float_vs_crnn_train": ours_float,
            "conversion": {"int8_mode": int8_mode, "full_int8_error": int8_error,
                           "int8_quantization": qparams, "op_summary": summary,
                           "ops_not_int8": float_ops, "ops": [list(r) for r in rows]},
            "sha256_16": digests, "sizes_bytes": {"litert_float": len(tfl_float), "litert_int8": len(tfl_int8),
                            "float32_weights": 4 * info["parameters"],
                            "ours_crnn": os.path.getsize(a.crnn) if a.crnn and os.path.exists(a.crnn) else None},
            "accuracy": acc, "latency_ms": lat, "python_timing_overhead_ms": overhead,
            "load_average_before_after": [list(load_before), list(load_after)], "cpus": os.cpu_count(),
            "litert_log": RUNTIME_LOG[:10], "ours": {"bench": ours, "why_not": ours_why, "int8_agreement": agree,
                     "ratio_ours_over_litert_int8": ratio, "runtime_bench_proxy": proxy},
        }
        os.makedirs(os.path.dirname(os.path.abspath(a.json_out)), exist_ok=True)
        with open(a.json_out, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
            f.write("\n")
        print(f"wrote {a.json_out}")


if __name__ == "__main__":
    main()
