#!/usr/bin/env python3
"""Single-thread float MFCC throughput: librosa.feature.mfcc vs the Swift MFCCExtractor, as a ratio in one run.

Requirements: librosa==0.11.0, numpy (the BLAS/OpenMP pools are pinned to one thread before numpy loads).

Usage (from the repository root):
    python3 tools/reference/bench_mfcc.py [--segments 500] [--rounds 3] [--swift-cmd "CMD"]

Each side is timed `--rounds` times over the same number of segments and the fastest round is reported
(the machine is shared; the minimum is the least disturbed measurement). All rounds are printed.

--swift-cmd is run with `--segments N` appended and must print a line containing `ms_per_segment=X`.
Default: the release build of `crnn-train bench-mfcc` (built first with `swift build -c release`).
"""
import os

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[var] = "1"

import argparse  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import librosa  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SR, SEG = 22050, 66150


def segments(count):
    rng = np.random.default_rng(7)
    t = np.arange(SEG) / SR
    base = [(0.4 * np.sin(2 * np.pi * 110 * (s + 1) * t) + 0.1 * rng.standard_normal(SEG)).astype(np.float32)
            for s in range(8)]
    return [base[i % 8] for i in range(count)]


def bench_librosa(count):
    segs = segments(count)
    for y in segs[:3]:
        librosa.feature.mfcc(y=y, sr=SR, n_mfcc=23)
    start = time.perf_counter()
    for y in segs:
        librosa.feature.mfcc(y=y, sr=SR, n_mfcc=23)
    return (time.perf_counter() - start) * 1000 / count


def default_swift_cmd():
    subprocess.run(["swift", "build", "-c", "release", "--product", "crnn-train"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return shlex.quote(os.path.join(ROOT, ".build", "release", "crnn-train")) + " bench-mfcc"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--segments", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--swift-cmd", default=None)
    args = ap.parse_args()
    cmd = args.swift_cmd or default_swift_cmd()
    swift_rounds, lib_rounds = [], []
    for _ in range(args.rounds):
        out = subprocess.run(f"{cmd} --segments {args.segments}", shell=True, cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        m = re.search(r"ms_per_segment=([0-9.eE+-]+)", out)
        if not m:
            sys.exit(f"no ms_per_segment in the Swift output:\n{out}")
        swift_rounds.append(float(m.group(1)))
        lib_rounds.append(bench_librosa(args.segments))
    swift_ms, lib_ms = min(swift_rounds), min(lib_rounds)
    print("rounds (ms/segment): swift " + " ".join(f"{x:.4f}" for x in swift_rounds)
          + " | librosa " + " ".join(f"{x:.4f}" for x in lib_rounds))
    print(f"segments: {args.segments} x 3 s at {SR} Hz, single thread, best of {args.rounds} rounds")
    print(f"swift:   {swift_ms:.4f} ms/segment   ({cmd})")
    print(f"librosa: {lib_ms:.4f} ms/segment   (librosa {librosa.__version__}, numpy {np.__version__})")
    print(f"ratio (librosa / swift): {lib_ms / swift_ms:.2f}x")


if __name__ == "__main__":
    main()
