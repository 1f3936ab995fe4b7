#!/usr/bin/env python3
"""The device path against librosa + LiteRT, side by side in one run, one thread, per 3-s segment of one clip.

Called by tools/bench_device_path.sh (which makes the venv, the builds and the WAV); by hand:

    VENV/bin/python tools/reference/device_path_bench.py --wav CLIP.wav --clip-note "..." \
        --model models/cnn-gru --build portable=.build/release/crnn-infer --build native=.build-native/release/crnn-infer \
        [--runs 51] [--rounds 15] [--cache DIR] [--json-out FILE]

What is timed (segment 0 of the WAV = its first 66150 samples, the same samples on both sides):
 - MFCC: ours = `crnn-infer MODEL --bench WAV --runs N --json` key `mfcc_ms` (the fixed-point front end, one full
   segment from PCM); librosa = `librosa.feature.mfcc(y=segment, sr=22050, n_mfcc=23)`, the call of
   bench_mfcc.py (the project's MFCC definition), on the same samples as float32.
 - int8 network: ours = `network_ms` of the same bench; LiteRT = one `invoke()` of the int8 .tflite of the same
   architecture and weights (built as litert_bench.py builds it: keras_from_checkpoint -> convert_int8, full
   integer, int8 input/output; calibration = the standardised librosa MFCC segments of the clip of the first run,
   as only the ranges and not the kernels depend on it; cached per checkpoint under --cache), num_threads=1, with the default resolver (XNNPACK) and without default
   delegates (LiteRT's own kernels): litert_bench.time_litert.
 - whole path: ours = `total_ms` (MFCC + network + softmax); librosa + LiteRT = librosa MFCC, standardise, int8
   quantize, set_tensor, invoke, get_tensor, timed as one loop.
 - stream cost per 1-s hop: the bench's own key when it has one (any key with "hop" in it); always also
   `crnn-infer MODEL --stream --hop 1` over raw PCM piped from a file, wall time of a 62-s input minus a 12-s
   input (the same start, so start-up and model load cancel), divided by the difference in windows printed.
Each figure: median of N calls inside one process (crnn-infer's --runs, the same N here), then the fastest of
--rounds rounds (as bench_mfcc.py: on a shared machine the fastest round is the least disturbed one; the median of
the rounds is printed beside it); the rounds interleave all the timings so a load change hits every column.
Ratios are computed from the fastest rounds of this run only.
"""
import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import litert_bench  # noqa: E402  (sets the thread variables to 1 before numpy loads)
import bench_mfcc  # noqa: E402  (SR, SEG, librosa with one thread)
from keras_common import read_checkpoint  # noqa: E402

import numpy as np  # noqa: E402
import librosa  # noqa: E402
import soundfile  # noqa: E402

SR, SEG = bench_mfcc.SR, bench_mfcc.SEG


def librosa_mfcc(y):
    return librosa.feature.mfcc(y=y, sr=SR, n_mfcc=23)


def median_ms(fn, runs, warmup=5):
    for _ in range(warmup):
        fn()
    t = np.empty(runs)
    for r in range(runs):
        a = time.perf_counter_ns()
        fn()
        t[r] = time.perf_counter_ns() - a
    return float(np.median(t)) / 1e6


# ---- the .tflite model (cached: conversion takes a while) ----

def tflite_int8(ckpt_path, calib, cache):
    with open(ckpt_path, "rb") as f:
        key = hashlib.sha256(f.read()).hexdigest()[:16]
    path = os.path.join(cache, f"{os.path.basename(ckpt_path)}-{key}-int8.tflite")
    if os.path.exists(path):
        with open(path, "rb") as f:
            return f.read(), path, "cached"
    import tensorflow as tf
    litert_bench.check_versions()
    litert_bench.check_litert()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    ckpt = read_checkpoint(ckpt_path)
    model1, _ = litert_bench.keras_from_checkpoint(ckpt, 130, 23, batch=1)
    note = "full integer int8"
    try:
        content = litert_bench.convert_int8(model1, calib, allow_float=False)
    except Exception as e:  # noqa: BLE001 -- as litert_bench.py: report and fall back
        note = f"int8 with float fallback ({type(e).__name__})"
        content = litert_bench.convert_int8(model1, calib, allow_float=True)
    os.makedirs(cache, exist_ok=True)
    with open(path + ".tmp", "wb") as f:
        f.write(content)
    os.replace(path + ".tmp", path)
    return content, path, note


def standardised(y_segments, mean, std):
    m = np.stack([librosa_mfcc(s).T for s in y_segments])  # (n, 130, 23)
    return litert_bench.standardise(m, mean, std)


# ---- ours ----

def ours_bench(exe, model, wav, runs):
    cmd = [exe, model, "--bench", wav, "--runs", str(runs), "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` exit {p.returncode}: {p.stderr.strip()[:400]}")
    line = [x for x in p.stdout.splitlines() if x.startswith("{")][-1]
    return json.loads(line)


def stream_run(exe, model, pcm_path):
    with open(pcm_path, "rb") as f:
        a = time.perf_counter_ns()
        p = subprocess.run([exe, model, "--stream", "--hop", "1", "--json"], stdin=f, capture_output=True, text=True)
        t = time.perf_counter_ns() - a
    if p.returncode != 0:
        raise SystemExit(f"crnn-infer --stream exit {p.returncode}: {p.stderr.strip()[:400]}")
    return t / 1e6, len([x for x in p.stdout.splitlines() if x.strip()])


def stream_hop_ms(exe, model, pcm_long, pcm_short, reps):
    long_t, short_t, nl, ns = [], [], 0, 0
    for _ in range(reps):
        t, nl = stream_run(exe, model, pcm_long)
        long_t.append(t)
        t, ns = stream_run(exe, model, pcm_short)
        short_t.append(t)
    if nl <= ns:
        raise SystemExit(f"crnn-infer --stream printed {nl} lines for the long input and {ns} for the short one")
    return (statistics.median(long_t) - statistics.median(short_t)) / (nl - ns), nl - ns


# ---- report ----

def rng(values, spec=".3f"):
    return "median " + format(statistics.median(values), spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wav", required=True)
    ap.add_argument("--clip-note", default="")
    ap.add_argument("--model", default=os.path.join(HERE, "..", "..", "models", "cnn-gru"),
                    help="path without extension: MODEL.ckpt (float, for the .tflite) and MODEL.crnn (int8, ours)")
    ap.add_argument("--build", action="append", required=True, help="NAME=PATH/crnn-infer (repeatable)")
    ap.add_argument("--runs", type=int, default=51)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--stream-reps", type=int, default=3)
    ap.add_argument("--cache", default=os.path.expanduser("~/.cache/crnn-bench"))
    ap.add_argument("--json-out")
    a = ap.parse_args()
    builds = [b.split("=", 1) for b in a.build]
    ckpt_path, crnn_path = a.model + ".ckpt", a.model + ".crnn"
    kind = os.path.basename(a.model)

    y16, sr = soundfile.read(a.wav, dtype="int16")
    if sr != SR or y16.ndim != 1:
        raise SystemExit(f"{a.wav}: want mono {SR} Hz, got {sr} Hz with shape {y16.shape}")
    y = (y16.astype(np.float32) / 32768.0)
    seg0 = y[:SEG].copy()
    segs = [y[i:i + SEG] for i in range(0, len(y) - SEG + 1, SEG)]
    meta = read_checkpoint(ckpt_path)["meta"]
    mean, std = meta.get("inputMean") or [0.0] * 23, meta.get("inputStd") or [1.0] * 23

    content, tfl_path, tfl_note = tflite_int8(ckpt_path, standardised(segs, mean, std), a.cache)
    x0 = standardised([seg0], mean, std)[0]

    # Stream inputs: raw s16le, the clip repeated to 62 s, and its first 12 s.
    tmp = tempfile.mkdtemp(prefix="crnn-bench-")
    reps = -(-62 * SR // len(y16))
    loop = np.tile(y16, reps)
    pcm_long, pcm_short = os.path.join(tmp, "long.pcm"), os.path.join(tmp, "short.pcm")
    loop[:62 * SR].astype("<i2").tofile(pcm_long)
    loop[:12 * SR].astype("<i2").tofile(pcm_short)

    from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: F401

    def litert_path_fn(delegates):
        it, _ = litert_bench.make_interpreter(content, delegates)
        inp, out = it.get_input_details()[0], it.get_output_details()[0]
        s, z = inp["quantization"]
        m32, s32 = np.asarray(mean, np.float32), np.asarray(std, np.float32)

        def fn():
            x = ((librosa_mfcc(seg0).T - m32) / s32)[None, ..., None]
            it.set_tensor(inp["index"], np.clip(np.round(x / s) + z, -128, 127).astype(np.int8))
            it.invoke()
            return it.get_tensor(out["index"])
        return fn

    path_fns = {"xnnpack": litert_path_fn(True), "builtin": litert_path_fn(False)}
    R = {"librosa_mfcc": [], "litert_xnnpack": [], "litert_builtin": [], "path_xnnpack": [], "path_builtin": []}
    ours = {name: {"mfcc_ms": [], "network_ms": [], "total_ms": [], "stream_hop_ms": [], "bench_hop_ms": []}
            for name, _ in builds}
    hop_key = None
    for rnd in range(a.rounds):
        for name, exe in builds:
            d = ours_bench(exe, crnn_path, a.wav, a.runs)
            for k in ("mfcc_ms", "network_ms", "total_ms"):
                ours[name][k].append(float(d[k]))
            keys = [k for k in d if "hop" in k and k.endswith("_ms")]
            if keys:
                hop_key = keys[0]
                ours[name]["bench_hop_ms"].append(float(d[hop_key]))
            h, hops = stream_hop_ms(exe, crnn_path, pcm_long, pcm_short, a.stream_reps)
            ours[name]["stream_hop_ms"].append(h)
        R["librosa_mfcc"].append(median_ms(lambda: librosa_mfcc(seg0), a.runs))
        for d in (True, False):
            R["litert_xnnpack" if d else "litert_builtin"].append(
                litert_bench.time_litert(content, x0, a.runs, 20, default_delegates=d)["median_ms"])
        for d in ("xnnpack", "builtin"):
            R["path_" + d].append(median_ms(path_fns[d], a.runs))
        print(f"round {rnd + 1}/{a.rounds} done", file=sys.stderr, flush=True)

    med = {k: min(v) for k, v in R.items()}
    om = {n: {k: min(v) for k, v in d.items() if v} for n, d in ours.items()}

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(f"clip: {a.wav} ({a.clip_note}), segment 0 (first 3 s), {len(segs)} segments in the clip")
    print(f"model: {crnn_path} (ours) / {tfl_path} ({tfl_note}, same checkpoint {ckpt_path})")
    print(f"host: {cpu}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; one thread everywhere")
    print(f"timing: median of {a.runs} calls per figure, fastest of {a.rounds} interleaved rounds "
          f"(the median of the rounds in brackets); stream: 62-s minus 12-s input, median of {a.stream_reps} reps per round")
    print(f"versions: librosa {librosa.__version__}, numpy {np.__version__}, ai-edge-litert "
          f"{litert_bench.importlib.metadata.version('ai-edge-litert')}")
    print()
    names = [n for n, _ in builds]
    print("| stage, ms per 3-s segment | " + " | ".join(f"ours, {n} build" for n in names) + " | anchor |")
    print("|---|" + "---|" * len(names) + "---|")

    def cell(n, k):
        return f"{om[n][k]:.3f} ({rng(ours[n][k])})"
    print("| MFCC | " + " | ".join(cell(n, "mfcc_ms") for n in names)
          + f" | librosa {med['librosa_mfcc']:.3f} ({rng(R['librosa_mfcc'])}) |")
    print("| int8 network | " + " | ".join(cell(n, "network_ms") for n in names)
          + f" | LiteRT XNNPACK {med['litert_xnnpack']:.3f} ({rng(R['litert_xnnpack'])}); "
          f"LiteRT own kernels {med['litert_builtin']:.3f} ({rng(R['litert_builtin'])}) |")
    print("| whole path | " + " | ".join(cell(n, "total_ms") for n in names)
          + f" | librosa + LiteRT XNNPACK {med['path_xnnpack']:.3f} ({rng(R['path_xnnpack'])}); "
          f"+ LiteRT own kernels {med['path_builtin']:.3f} ({rng(R['path_builtin'])}) |")
    print("| stream, per 1-s hop (`--stream` wall time) | " + " | ".join(cell(n, "stream_hop_ms") for n in names)
          + " | (full segment = whole path) |")
    if hop_key:
        print(f"| stream, per hop (bench key `{hop_key}`) | " + " | ".join(cell(n, "bench_hop_ms") for n in names)
              + " | |")
    print()
    print("| ratio (this run's fastest rounds) | " + " | ".join(f"{n} build" for n in names) + " | target |")
    print("|---|" + "---|" * len(names) + "---|")

    def x(v):
        return f"{v:.2f}x"
    print("| MFCC throughput, ours / librosa | " + " | ".join(x(med["librosa_mfcc"] / om[n]["mfcc_ms"]) for n in names)
          + " | >= 5x |")
    print("| network speed, ours / LiteRT own kernels | "
          + " | ".join(x(med["litert_builtin"] / om[n]["network_ms"]) for n in names) + " | >= 1x (portable) |")
    print("| network speed, ours / LiteRT XNNPACK | "
          + " | ".join(x(med["litert_xnnpack"] / om[n]["network_ms"]) for n in names) + " | >= 1x (native) |")
    print("| whole path speed, ours / (librosa + LiteRT XNNPACK) | "
          + " | ".join(x(med["path_xnnpack"] / om[n]["total_ms"]) for n in names) + " | >= 4x |")
    print("| stream hop cost / whole segment (ours) | "
          + " | ".join(f"{100 * om[n]['stream_hop_ms'] / om[n]['total_ms']:.0f} %" for n in names) + " | <= 40 % |")
    for n in names:
        if om[n]["total_ms"] < om[n]["mfcc_ms"] + om[n]["network_ms"] * 0.5:
            print(f"WARNING: {n} build: whole path {om[n]['total_ms']:.3f} ms < MFCC {om[n]['mfcc_ms']:.3f} ms + half the "
                  "network: the load changed within the rounds; re-run on a quieter machine or with more --rounds")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"clip": a.wav, "clip_note": a.clip_note, "runs": a.runs, "rounds": a.rounds,
                       "anchors_rounds": R, "ours_rounds": ours, "anchors_fastest": med, "ours_fastest": om,
                       "tflite": tfl_path, "tflite_note": tfl_note, "bench_hop_key": hop_key}, f, indent=1)


if __name__ == "__main__":
    main()
