#!/usr/bin/env python3
"""Test inputs of c-api/check.sh: 22050 Hz mono 16-bit WAV files, each also written as raw s16le PCM (.raw) for
`crnn-infer --stream`.

    c-api/make_inputs.py OUT_DIR [GTZAN_DIR]

Generated signals (always): deterministic integer-seeded tones, chirps, noise and pulses of several lengths,
including one of 2.98 s (a partial segment: at least 99 % of 3 s, classified zero-padded by finish) and one of
2.5 s (too short: nothing classified). With GTZAN_DIR (gtzan-mini: GENRE/*.flac), the first clip of every genre,
its first 6 s, decoded with libsndfile through ctypes (the library the host build already links).
"""
import ctypes
import ctypes.util
import math
import os
import struct
import sys
import wave

RATE = 22050


def write(out_dir, name, samples):
    data = struct.pack("<%dh" % len(samples), *samples)
    with wave.open(os.path.join(out_dir, name + ".wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(data)
    with open(os.path.join(out_dir, name + ".raw"), "wb") as f:
        f.write(data)


def clip16(v):
    return max(-32768, min(32767, int(round(v))))


def lcg(seed):
    x = seed
    while True:
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        yield x


def generated(out_dir):
    def tone(seconds, freqs, amp):
        n = int(seconds * RATE)
        return [clip16(sum(amp * math.sin(2 * math.pi * f * i / RATE) for f in freqs)) for i in range(n)]

    def chirp(seconds, f0, f1, amp):
        n = int(seconds * RATE)
        k = (f1 - f0) / (seconds)
        return [clip16(amp * math.sin(2 * math.pi * (f0 * t + 0.5 * k * t * t))) for t in (i / RATE for i in range(n))]

    def noise(seconds, seed, amp):
        g = lcg(seed)
        return [clip16(((next(g) >> 8) % 65536 - 32768) * amp) for _ in range(int(seconds * RATE))]

    def pulses(seconds, bpm, seed):
        g = lcg(seed)
        period = int(RATE * 60 / bpm)
        out = []
        for i in range(int(seconds * RATE)):
            k = i % period
            env = math.exp(-k / 800.0)
            out.append(clip16(20000 * env * math.sin(2 * math.pi * 60 * k / RATE) + ((next(g) >> 8) % 2001 - 1000) * env))
        return out

    write(out_dir, "gen-tone-7s", tone(7.0, [220.0, 330.0, 440.0], 6000))
    write(out_dir, "gen-chirp-6s", chirp(6.0, 50.0, 8000.0, 12000))
    write(out_dir, "gen-noise-5s", noise(5.0, 7, 0.3))
    write(out_dir, "gen-pulses-8s", pulses(8.0, 120, 3))
    write(out_dir, "gen-partial-2.98s", tone(2.98, [110.0, 880.0], 9000))
    write(out_dir, "gen-short-2.5s", noise(2.5, 11, 0.5))
    write(out_dir, "gen-silence-4s", [0] * (4 * RATE))


class SFInfo(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


def gtzan(out_dir, root, seconds=6.0):
    lib = ctypes.CDLL(ctypes.util.find_library("sndfile") or "libsndfile.so.1")
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SFInfo)]
    lib.sf_readf_short.restype = ctypes.c_int64
    lib.sf_readf_short.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_short), ctypes.c_int64]
    lib.sf_close.argtypes = [ctypes.c_void_p]
    for genre in sorted(os.listdir(root)):
        d = os.path.join(root, genre)
        if not os.path.isdir(d):
            continue
        files = sorted(f for f in os.listdir(d) if f.endswith((".flac", ".wav", ".au")))
        if not files:
            continue
        info = SFInfo()
        h = lib.sf_open(os.path.join(d, files[0]).encode(), 0x10, ctypes.byref(info))  # SFM_READ
        if not h or info.samplerate != RATE or info.channels != 1:
            raise SystemExit("make_inputs: %s: not 22050 Hz mono (or unreadable)" % files[0])
        n = min(info.frames, int(seconds * RATE))
        buf = (ctypes.c_short * n)()
        got = lib.sf_readf_short(h, buf, n)
        lib.sf_close(h)
        write(out_dir, "gtzan-" + os.path.splitext(files[0])[0], list(buf[:got]))


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    generated(out)
    if len(sys.argv) > 2 and os.path.isdir(sys.argv[2]):
        gtzan(out, sys.argv[2])
