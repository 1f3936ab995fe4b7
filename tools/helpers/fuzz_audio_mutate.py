#!/usr/bin/env python3
"""Writes N randomly mutated copies of the seed files (tools/fuzz_audio.sh). Standard library only.

Mutations (1-3 per file, chosen at random with a fixed seed, so a run is reproducible):
bit flips, random byte runs, truncation, forged 32-bit header fields (0, 1, 2^31-1, 2^32-1, 1000, 10^9, ...),
duplicated and deleted ranges, zeroed ranges. Usage: fuzz_audio_mutate.py SEED_DIR OUT_DIR N [RNG_SEED]"""
import os
import random
import struct
import sys

INTERESTING = [0, 1, 2, 3, 255, 256, 1000, 1024, 65535, 65536, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
               0xFFFFFFFE, 10**9, 2**24, 44100, 8000, 0x7FFF0000]


def mutate(data: bytearray, rng: random.Random) -> str:
    n = len(data)
    kind = rng.choice(["flip", "bytes", "truncate", "forge", "forge", "dup", "delete", "zero"])
    if n == 0:
        return "empty"
    if kind == "flip":
        k = rng.randint(1, 20)
        for _ in range(k):
            i = rng.randrange(min(n, rng.choice([64, 512, n])))
            data[i] ^= 1 << rng.randrange(8)
        return f"flip{k}"
    if kind == "bytes":
        i = rng.randrange(n)
        k = rng.randint(1, 64)
        data[i:i + k] = bytes(rng.randrange(256) for _ in range(k))
        return f"bytes@{i}"
    if kind == "truncate":
        cut = rng.choice([rng.randrange(n), rng.randrange(min(n, 200)), n - rng.randrange(1, min(n, 64) + 1)])
        del data[cut:]
        return f"cut@{cut}"
    if kind == "forge":
        i = rng.randrange(min(n, 96)) if rng.random() < 0.8 else rng.randrange(n)
        v = rng.choice(INTERESTING)
        fmt = rng.choice(["<I", ">I", "<H", ">H"])
        if "H" in fmt:
            v &= 0xFFFF
        packed = struct.pack(fmt, v)
        data[i:i + len(packed)] = packed
        return f"forge@{i}={v:#x}{fmt}"
    if kind == "dup":
        i = rng.randrange(n)
        k = rng.randint(1, min(4096, n - i))
        data[i:i] = data[i:i + k]
        return f"dup@{i}+{k}"
    if kind == "delete":
        i = rng.randrange(n)
        k = rng.randint(1, 256)
        del data[i:i + k]
        return f"del@{i}+{k}"
    i = rng.randrange(n)
    k = rng.randint(1, 1024)
    data[i:i + k] = bytes(min(k, n - i))
    return f"zero@{i}+{k}"


def main() -> None:
    seed_dir, out_dir, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    seeds = sorted(f for f in os.listdir(seed_dir) if f.startswith("seed"))
    os.makedirs(out_dir, exist_ok=True)
    for j in range(count):
        name = seeds[j % len(seeds)]
        data = bytearray(open(os.path.join(seed_dir, name), "rb").read())
        how = [mutate(data, rng) for _ in range(rng.randint(1, 3))]
        stem, ext = os.path.splitext(name)
        path = os.path.join(out_dir, f"m{j:04d}-{stem[5:] or 'x'}{ext}")
        with open(path, "wb") as f:
            f.write(data)
        print(path, " ".join(how))


if __name__ == "__main__":
    main()
