#!/usr/bin/env python3
"""Write the librosa golden files for the float MFCC tests (Tests/FeaturesTests/Fixtures/mfcc/).

Requirements (pinned; checked at run time):
    librosa==0.11.0
    numpy, scipy, soundfile (versions are recorded in the manifest)

Usage (from the repository root):
    python3 tools/reference/mfcc_goldens.py [--gtzan ../shared/data/gtzan-mini] [--out Tests/FeaturesTests/Fixtures/mfcc]

What it writes:
  manifest.json           generator, library versions, and one entry per case: the FeatureConfig fields,
                          how to obtain the input signal, and the expected-output files.
  signal_<name>.f32       input signals, float32 little-endian (only the ones that cannot be derived exactly).
  mfcc_<case>.f32         expected MFCC, float32 little-endian, frame-major (frames x n_mfcc).
  logmel_<case>.f32       expected log-mel dB (before the DCT), frame-major (frames x n_mels), for some cases.
  melbasis_paper.f32      the non-zero weights of librosa.filters.mel for the paper config, band after band;
                          the bin spans are in the manifest.

Derived signals are rebuilt in Swift with operations that are exact in float32 (zeros, an integer-period square
wave of +-0.75, scaling by a power of two, gain by 4 then clipping to +-1, taking a prefix), so the Swift test
sees bit-identical input without the file having to be stored. The manifest also records each signal's float64
sum and sum of squares so the test can check that it rebuilt the same signal.

The real-audio case (MFCC of segment 3 of blues.00000.flac, decoded by soundfile as float32 at its native
22050 Hz) stores only the MFCC, never the audio.
"""
import argparse
import json
import os
import sys

import numpy as np
import scipy
import scipy.signal
import soundfile
import librosa

REQUIRED_LIBROSA = "0.11.0"
SR = 22050
SEG = 66150  # 3 s at 22050 Hz


def config(**overrides):
    """FeatureConfig fields (integers, as in Sources/CRNNRuntime/Frontend/FeatureConfig.swift) with the paper defaults."""
    c = dict(sampleRate=SR, segmentSamples=SEG, nFFT=2048, hopLength=512, nMels=128, nMFCC=23, fMinHz=0,
             fMaxHz=0, topDbCentibels=8000, aminExponent=-10, refPowerExponent=0, spectrumPower=2, center=True)
    c.update(overrides)
    return c


def librosa_reference(y, c):
    """(mfcc, logmel) with librosa for float32 `y` and config `c`; both (n, frames) float32 as librosa returns."""
    assert y.dtype == np.float32 and y.shape == (c["segmentSamples"],)
    fmax = c["fMaxHz"] if c["fMaxHz"] != 0 else c["sampleRate"] / 2
    mel = librosa.feature.melspectrogram(
        y=y, sr=c["sampleRate"], n_fft=c["nFFT"], hop_length=c["hopLength"], window="hann", center=c["center"],
        pad_mode="constant", power=float(c["spectrumPower"]), n_mels=c["nMels"], fmin=float(c["fMinHz"]),
        fmax=float(fmax), htk=False, norm="slaney")
    top_db = None if c["topDbCentibels"] == 0 else c["topDbCentibels"] / 100.0
    logmel = librosa.power_to_db(mel, ref=float(f"1e{c['refPowerExponent']}"),
                                 amin=float(f"1e{c['aminExponent']}"), top_db=top_db)
    mfcc = librosa.feature.mfcc(S=logmel, n_mfcc=c["nMFCC"], dct_type=2, norm="ortho")
    if c == config():
        # The paper config must also equal the one-call API the paper used.
        direct = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=23)
        assert np.array_equal(direct, mfcc), "piecewise librosa differs from librosa.feature.mfcc"
    return mfcc.astype(np.float32), logmel.astype(np.float32)


def write_f32(path, a):
    np.ascontiguousarray(a, dtype="<f4").tofile(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tools/
    ap.add_argument("--out", default=os.path.join(here, "..", "Tests", "FeaturesTests", "Fixtures", "mfcc"))
    ap.add_argument("--gtzan", default=os.path.join(here, "..", "..", "shared", "data", "gtzan-mini"))
    args = ap.parse_args()
    if librosa.__version__ != REQUIRED_LIBROSA:
        sys.exit(f"librosa {REQUIRED_LIBROSA} required, found {librosa.__version__}")
    os.makedirs(args.out, exist_ok=True)

    t = np.arange(SEG, dtype=np.float64) / SR
    stored = {
        "sine440": (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32),
        "sine3000": (0.25 * np.sin(2 * np.pi * 3000.0 * t)).astype(np.float32),
        "chirp": (0.5 * scipy.signal.chirp(t, f0=50.0, t1=3.0, f1=10000.0, method="logarithmic")).astype(np.float32),
        "noise": (0.3 * np.random.default_rng(20240607).standard_normal(SEG)).astype(np.float32),
    }
    signals = dict(stored)
    specs = {name: {"kind": "file", "file": f"signal_{name}.f32", "count": SEG} for name in stored}
    # Derived signals: float32 operations that are exact, so Swift rebuilds them bit for bit.
    signals["silence"] = np.zeros(SEG, dtype=np.float32)
    specs["silence"] = {"kind": "zeros", "count": SEG}
    n = np.arange(SEG)
    signals["square441"] = np.where((n // 25) % 2 == 0, np.float32(0.75), np.float32(-0.75)).astype(np.float32)
    specs["square441"] = {"kind": "square", "count": SEG, "halfPeriod": 25, "amplitude": 0.75}
    signals["quiet_chirp"] = signals["chirp"] * np.float32(2.0 ** -10)  # -60.2 dBFS peak
    specs["quiet_chirp"] = {"kind": "scaled", "source": "chirp", "scale": 2.0 ** -10}
    signals["clipped440"] = np.clip(signals["sine440"] * np.float32(4.0), np.float32(-1.0), np.float32(1.0))
    specs["clipped440"] = {"kind": "clipped", "source": "sine440", "gain": 4.0, "limit": 1.0}
    signals["noise_prefix48000"] = signals["noise"][:48000].copy()
    specs["noise_prefix48000"] = {"kind": "prefix", "source": "noise", "count": 48000}
    for name, spec in specs.items():
        s = signals[name].astype(np.float64)
        spec["sum"] = float(s.sum())
        spec["sumOfSquares"] = float((s * s).sum())

    cfg_small = config(nFFT=1024, hopLength=256, nMels=40, nMFCC=13, fMinHz=50, fMaxHz=8000, topDbCentibels=6000)
    cfg_16k = config(sampleRate=16000, segmentSamples=48000, nFFT=512, hopLength=160, nMels=64, nMFCC=20,
                     center=False, spectrumPower=1, topDbCentibels=0, aminExponent=-5)
    cases = [
        ("sine440", "sine440", config(), False),
        ("sine3000", "sine3000", config(), False),
        ("chirp", "chirp", config(), True),
        ("noise", "noise", config(), False),
        ("silence", "silence", config(), False),
        ("square441", "square441", config(), False),
        ("clipped440", "clipped440", config(), False),
        ("quiet_chirp", "quiet_chirp", config(), True),
        ("chirp_nfft1024_mels40_mfcc13", "chirp", cfg_small, True),
        ("noise_16k_nfft512_nocenter_mag", "noise_prefix48000", cfg_16k, False),
    ]
    manifest = {
        "generator": "tools/reference/mfcc_goldens.py",
        "versions": {"librosa": librosa.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
                     "soundfile": soundfile.__version__, "python": sys.version.split()[0]},
        "layout": "float32 little-endian, frame-major (frames x coefficients)",
        "signals": specs,
        "cases": [],
    }
    for name, sig, c, with_logmel in cases:
        mfcc, logmel = librosa_reference(signals[sig], c)
        entry = {"name": name, "signal": sig, "config": c, "frames": int(mfcc.shape[1]), "nMFCC": int(mfcc.shape[0]),
                 "mfcc": f"mfcc_{name}.f32"}
        write_f32(os.path.join(args.out, entry["mfcc"]), mfcc.T)
        if with_logmel:
            entry["logmel"] = f"logmel_{name}.f32"
            write_f32(os.path.join(args.out, entry["logmel"]), logmel.T)
        manifest["cases"].append(entry)
    for name, y in stored.items():
        write_f32(os.path.join(args.out, specs[name]["file"]), y)

    # The mel filter bank of the paper config, sparse: per band its non-zero span and weights.
    basis = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128, fmin=0.0, fmax=SR / 2, htk=False, norm="slaney")
    spans, values = [], []
    for row in basis:
        nz = np.nonzero(row)[0]
        lo, hi = (int(nz[0]), int(nz[-1]) + 1) if nz.size else (0, 0)
        assert np.all(row[lo:hi] > 0), "a band's non-zero bins are not contiguous"
        spans.append([lo, hi])
        values.append(row[lo:hi])
    write_f32(os.path.join(args.out, "melbasis_paper.f32"), np.concatenate(values))
    manifest["melBasisPaper"] = {"file": "melbasis_paper.f32", "dtype": str(basis.dtype), "spans": spans}

    # Real audio: segment 3 of blues.00000 (only the MFCC is stored).
    flac = os.path.join(args.gtzan, "blues", "blues.00000.flac")
    if os.path.exists(flac):
        audio, sr = soundfile.read(flac, dtype="float32", always_2d=True)
        assert sr == SR, f"{flac}: expected {SR} Hz, got {sr}"
        mono = audio.mean(axis=1, dtype=np.float32) if audio.shape[1] > 1 else audio[:, 0]
        seg = np.ascontiguousarray(mono[3 * SEG:4 * SEG])
        mfcc, _ = librosa_reference(seg, config())
        write_f32(os.path.join(args.out, "mfcc_gtzan_blues00000_seg3.f32"), mfcc.T)
        manifest["gtzan"] = {"file": "blues/blues.00000.flac", "segmentIndex": 3, "decoder": "soundfile float32",
                             "channels": int(audio.shape[1]), "sampleRate": sr,
                             "mfcc": "mfcc_gtzan_blues00000_seg3.f32", "frames": int(mfcc.shape[1]),
                             "nMFCC": int(mfcc.shape[0]), "config": config(),
                             "segmentSum": float(seg.astype(np.float64).sum())}
    else:
        print(f"note: {flac} not found; real-audio golden not written", file=sys.stderr)

    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(args.out, p)) for p in os.listdir(args.out))
    print(f"wrote {len(manifest['cases'])} cases to {os.path.normpath(args.out)} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
