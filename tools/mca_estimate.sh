#!/usr/bin/env bash
# Pi 4 / Pi 5 speed ESTIMATE of the hot loops (issue 12, item 4): llvm-mca on the code the board binaries contain.
# Not a measurement: steady-state cycles of each innermost loop from LLVM's scheduling model, times the loop's trip
# count per 3-s segment of the shipped cnn-gru, at 1.8 GHz (Pi 4, Cortex-A72) and 2.4 GHz (Pi 5, Cortex-A76).
#
#   bash tools/mca_estimate.sh [--keep DIR]        prints markdown tables (docs/benchmarks.md "Pi 4 / Pi 5 estimate")
#
# 1. Objects: CRNNRuntime + crnn-infer compiled by the Embedded aarch64 recipe of tools/swiftc.sh (the dist/ Pi
#    builds: -target-cpu cortex-a72 and cortex-a76), each once as built (NEON micro-kernel) and once with
#    -DCRNN_CONV_PORTABLE (the portable Swift micro-kernel), disassembled with llvm-objdump.
# 2. Loops: the innermost loops (a backward branch with no other backward branch inside) of the conv micro-kernels'
#    `row` functions, of FixedRealFFT.powerSpectrum(packed:...) and of gruS8, recognised by their instructions
#    (e.g. 64 smlal/smlal2 = 4 taps x 4 pixels x 16 channels); the script stops if a loop it expects is missing.
# 3. llvm-mca -mtriple=aarch64 -mcpu=cortex-a72 / cortex-a76 -iterations=400 on each loop body; cycles per
#    iteration = Total Cycles / 400. LLVM 19 schedules cortex-a72 AND cortex-a76 with its Cortex-A57 model, so the
#    Pi 5 figure is also given with -mcpu=neoverse-n1 (the server core derived from the Cortex-A76, with its own
#    model in LLVM 19).
# 4. Trip counts per segment from the layer shapes of the shipped cnn-gru (below) and the loops' structure.
# Not counted: everything outside these loops (band copies, requantization epilogue, pooling, affine batch norm,
# mel/log/DCT, GRU gates), cache misses, and the OS. Needs llvm-19 (Debian: apt-get install llvm-19).
set -euo pipefail
cd "$(dirname "$0")/.."
KEEP=""
[ "${1:-}" = "--keep" ] && KEEP=$2
MCA=llvm-mca-19 OBJDUMP=llvm-objdump-19
if ! command -v $MCA >/dev/null 2>&1; then
    echo "mca_estimate: installing llvm-19 (apt-get)" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq llvm-19 >/dev/null
fi
WORK=${KEEP:-$(mktemp -d)}
mkdir -p "$WORK"
[ -n "$KEEP" ] || trap 'rm -rf "$WORK"' EXIT

mapfile -t SRC < <(tools/swiftc.sh runtime-sources)
while IFS= read -r f; do [ "$(basename "$f")" = main.swift ] || SRC+=("$f"); done < <(find Sources/crnn-infer -name '*.swift' | LC_ALL=C sort)
SRC+=(firmware-sim/EmbeddedMain.swift)
FLAGS=(-module-name CRNNRuntime -I Sources/CLibc -suppress-warnings -Xcc -I/usr/aarch64-linux-gnu/include)
for cpu in cortex-a72 cortex-a76; do
    for v in neon portable; do
        o="$WORK/$cpu-$v.o"
        [ -s "$o.s" ] && continue
        extra=(); [ $v = portable ] && extra=(-DCRNN_CONV_PORTABLE)
        echo "mca_estimate: compiling $o (-target-cpu $cpu ${extra[*]})" >&2
        tools/swiftc.sh embedded aarch64 "$o" "${FLAGS[@]}" -target-cpu $cpu "${extra[@]}" "${SRC[@]}"
        $OBJDUMP -d --no-show-raw-insn "$o" > "$o.s"
    done
done

python3 - "$WORK" "$MCA" "$(tools/swiftc.sh version)" "$($MCA --version | grep -m1 -i 'llvm version' | xargs)" <<'EOF'
import re, subprocess, sys
work, mca, swiftv, llvmv = sys.argv[1:5]

# ---- the shipped cnn-gru per 3-s segment (models/cnn-gru.md: 130 x 23 MFCC, 3 conv 3x3 of 32 filters with max-pool
# 2, 3, 4 ('same': ceil), GRU 20 + 20; n_fft 2048, 130 frames) ----
CONVS = [  # (name, H, W, Cin, K, kh, kw): the conv's input = output size ('same' padding)
    ("conv1 130x23x1->32", 130, 23, 1, 32, 3, 3),
    ("conv2 65x12x32->32", 65, 12, 32, 32, 3, 3),
    ("conv3 22x4x32->32", 22, 4, 32, 32, 3, 3),
]
GRUS = [(6, 32, 20), (6, 20, 20)]  # (time steps, input size, units): 22 rows / pool 4 -> 6 steps of 1 x 32
FRAMES, NFFT = 130, 2048
HALF = NFFT // 2
STAGES = HALF.bit_length() - 1  # 10 radix-2 stages of the 1024-point complex FFT
CONV_MACS = sum(H * W * C * K * kh * kw for _, H, W, C, K, kh, kw in CONVS)


def neon_trips():
    """Iterations per segment of the NEON row's three innermost loops (Conv2dS8FastNEON.swift)."""
    t = {"4tap": 0, "1tap": 0, "1px": 0}
    for _, H, W, C, K, kh, kw in CONVS:
        blocks, passes, rem, taps = K // 16, W // 4, W % 4, kw * C
        t["4tap"] += H * blocks * passes * kh * (taps // 4)
        t["1tap"] += H * blocks * passes * kh * (taps % 4)
        t["1px"] += H * blocks * rem * kh * taps
    return t


def portable_trips():
    """Iterations of the portable row's loops (Conv2dS8FastPortable.swift): the one-channel 3x3 row kernel, the
    4-pixel loop (1 tap x 4 px x 16 ch) and the 1-pixel loop (1 tap x 16 ch)."""
    t = {"1x3x3": 0, "4px": 0, "1px": 0}
    for _, H, W, C, K, kh, kw in CONVS:
        blocks = K // 16
        if C == 1 and kh == 3 and kw == 3:
            t["1x3x3"] += H * blocks * W
            continue
        taps = kw * C
        t["4px"] += H * blocks * (W // 4) * kh * taps
        t["1px"] += H * blocks * (W % 4) * kh * taps
    return t


def parse(path):
    """{function name: [(address, mnemonic, operands, branch target or None)]}"""
    funcs, cur = {}, None
    for line in open(path):
        m = re.match(r"^([0-9a-f]+) <(.*)>:$", line)
        if m:
            cur = funcs.setdefault(m.group(2), [])
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", line)
        if m and cur is not None:
            addr, mn, ops = int(m.group(1), 16), m.group(2), m.group(3)
            tgt = None
            if mn.startswith("b.") or mn in ("b", "cbz", "cbnz", "tbz", "tbnz"):
                t = re.search(r"0x([0-9a-f]+) <", ops)
                tgt = int(t.group(1), 16) if t else None
            ops = re.sub(r"\s*<.*>$", "", ops).split("//")[0].strip()
            cur.append((addr, mn, ops, tgt))
    return funcs


def innermost_loops(insns):
    idx = {a: i for i, (a, *_r) in enumerate(insns)}
    loops = [(idx[t], i) for i, (a, mn, ops, t) in enumerate(insns) if t is not None and t <= a and t in idx]
    inner = [(s, e) for s, e in loops if not any((s2, e2) != (s, e) and s <= s2 and e2 <= e for s2, e2 in loops)]
    return [insns[s:e + 1] for s, e in sorted(set(inner))]


def count(loop, pattern):
    return sum(1 for _, mn, _o, _t in loop if re.fullmatch(pattern, mn))


def function(funcs, key):
    names = [n for n in funcs if key in n]
    if len(names) != 1:
        sys.exit(f"mca_estimate: {len(names)} functions match {key!r} (want 1): {names[:3]}")
    return funcs[names[0]]


def mca_cycles(loop, cpu):
    # In order; every branch goes to a label at the loop's head (llvm-mca does not follow branches anyway).
    asm = "Lhead:\n" + "".join(
        f"{mn} {re.sub(r'0x[0-9a-f]+$', 'Lhead', ops) if t is not None else ops}".rstrip() + "\n" for _, mn, ops, t in loop)
    p = subprocess.run([mca, "-mtriple=aarch64", f"-mcpu={cpu}", "-iterations=400"], input=asm, text=True,
                       capture_output=True)
    if p.returncode != 0:
        sys.exit(f"mca_estimate: llvm-mca failed on:\n{asm}\n{p.stderr}")
    total = int(re.search(r"Total Cycles:\s+(\d+)", p.stdout).group(1))
    return total / 400


objs = {}
for cpu in ("cortex-a72", "cortex-a76"):
    for v in ("neon", "portable"):
        objs[(cpu, v)] = parse(f"{work}/{cpu}-{v}.o.s")

MUL64 = r"smull|smaddl|smsubl|madd|msub|mul"


def pick(loops, pred, what):
    got = [l for l in loops if pred(l)]
    if not got:
        sys.exit(f"mca_estimate: no innermost loop looks like {what}: the code changed, update the signatures")
    return max(got, key=len)


def select(v, funcs):
    """[(row label, loop, work per iteration, unit, trips per segment)] for one object."""
    rows = []
    if v == "neon":
        loops = innermost_loops(function(funcs, "Conv2dMicroKernelNEONO3row"))
        sm = lambda l: count(l, r"smlal2?")  # noqa: E731
        tr = neon_trips()
        rows.append(("conv NEON, 4 taps x 4 px x 16 ch", pick(loops, lambda l: sm(l) == 64, "64 smlal"), 256, "MAC", tr["4tap"]))
        rows.append(("conv NEON, 1 tap x 4 px x 16 ch", pick(loops, lambda l: sm(l) == 16, "16 smlal"), 64, "MAC", tr["1tap"]))
        rows.append(("conv NEON, 1 tap x 1 px x 16 ch", pick(loops, lambda l: sm(l) == 4, "4 smlal"), 16, "MAC", tr["1px"]))
        fft = innermost_loops(function(funcs, "FixedRealFFTV13powerSpectrum6packed"))
        rows.append(("FFT radix-2 butterfly (stages 2-10)", pick(fft, lambda l: count(l, MUL64) == 4, "4 multiplies"), 1,
                     "butterfly", FRAMES * (STAGES - 1) * HALF // 2))
        rows.append(("FFT first stage (W = 1)", pick(fft, lambda l: count(l, MUL64) == 0 and count(l, "stp") >= 2, "no multiply"),
                     2, "butterfly", FRAMES * HALF // 4))
        rows.append(("FFT real split + power", pick(fft, lambda l: count(l, MUL64) == 6, "6 multiplies"), 1, "bin",
                     FRAMES * (HALF + 1)))
        gru = innermost_loops(function(funcs, "5gruS8_5input"))
        dots = [l for l in gru if count(l, "ldrsb") >= 2 and count(l, MUL64 + "|mla|smlal2?|sdot") >= 1]
        if not dots:
            sys.exit("mca_estimate: no int8 dot-product loop in gruS8")
        trips = sum(T * 3 * U * (I + U) for T, I, U in GRUS)
        per = max(dots, key=lambda l: mca_cycles(l, "cortex-a72"))  # the slowest of its dot loops, for all MACs
        rows.append((f"GRU matvec (gateParts dot product; {len(dots)} such loops)", per, 1, "MAC", trips))
    else:
        loops = innermost_loops(function(funcs, "Conv2dMicroKernelPortableO3row"))
        vm = lambda l: count(l, r"mla|smlal2?|mul")  # noqa: E731  (vector multiply-adds of the SIMD16 code)
        tr = portable_trips()
        cands = sorted((l for l in loops if vm(l) >= 4), key=vm)
        if len(cands) < 3:
            sys.exit(f"mca_estimate: the portable row has {len(cands)} multiply loops, expected 3")
        rows.append(("conv portable, 1-channel 3x3 row, 1 px x 9 taps x 16 ch", cands[-1], 144, "MAC", tr["1x3x3"]))
        rows.append(("conv portable, 1 tap x 4 px x 16 ch", cands[-2], 64, "MAC", tr["4px"]))
        rows.append(("conv portable, 1 tap x 1 px x 16 ch", cands[0], 16, "MAC", tr["1px"]))
    return rows


GHZ = {"pi4": 1.8, "pi5": 2.4}
print(f"llvm-mca: {llvmv}; code: {swiftv}, Embedded aarch64 recipe (-Osize), -target-cpu cortex-a72 (Pi 4 rows) and "
      f"cortex-a76 (Pi 5 rows). Pi 5 columns: -mcpu=cortex-a76 (LLVM 19: Cortex-A57 model) / -mcpu=neoverse-n1 (A76-derived, own model).")
print(f"Model: shipped cnn-gru, per 3-s segment: conv {CONV_MACS / 1e6:.2f} M MAC, {FRAMES} FFT frames of {NFFT}.")
print()
print("| loop | instr. | work / iter. | cycles / iter. A72 | cycles / iter. A76 (A57 model / N1 model) | iterations per segment | Pi 4 ms (1.8 GHz) | Pi 5 ms (2.4 GHz, A57 / N1 model) |")
print("|---|---|---|---|---|---|---|---|")
totals = {}
for v in ("neon", "portable"):
    r72 = select(v, objs[("cortex-a72", v)])
    r76 = select(v, objs[("cortex-a76", v)])
    for (name, l72, work, unit, trips), (_n, l76, *_r) in zip(r72, r76):
        c72, c76, cn1 = mca_cycles(l72, "cortex-a72"), mca_cycles(l76, "cortex-a76"), mca_cycles(l76, "neoverse-n1")
        ms4 = trips * c72 / (GHZ["pi4"] * 1e6)
        ms5, ms5n = trips * c76 / (GHZ["pi5"] * 1e6), trips * cn1 / (GHZ["pi5"] * 1e6)
        group = "conv " + v if name.startswith("conv") else name.split()[0]
        t = totals.setdefault(group, [0.0, 0.0, 0.0, 0])
        t[0] += ms4; t[1] += ms5; t[2] += ms5n
        if unit == "MAC":
            t[3] += work * trips
        rate = f" ({work / c72:.1f} / {work / c76:.1f} / {work / cn1:.1f} MAC/cycle)" if unit == "MAC" else ""
        print(f"| {name} | {len(l72)} | {work} {unit}{rate} | {c72:.2f} | {c76:.2f} / {cn1:.2f} | {trips} | "
              f"{ms4:.3f} | {ms5:.3f} / {ms5n:.3f} |")
print()
print("| sum of the loops above | MACs | Pi 4 ms | Pi 5 ms (A57 / N1 model) | Pi 4 GMAC/s |")
print("|---|---|---|---|---|")
for g, (a, b, c, macs) in totals.items():
    gm = f"{macs / (a * 1e6):.2f}" if macs else ""
    print(f"| {g} | {f'{macs / 1e6:.2f} M' if macs else '-'} | {a:.3f} | {b:.3f} / {c:.3f} | {gm} |")
path = [totals[g] for g in ("conv neon", "FFT", "GRU")]
print(f"| device path's hot loops as built (NEON conv + FFT + GRU; not the rest: epilogues, mel, log, DCT) | | "
      f"{sum(t[0] for t in path):.3f} | {sum(t[1] for t in path):.3f} / {sum(t[2] for t in path):.3f} | |")
lo, hi = CONV_MACS / 4.6e9 * 1e3, CONV_MACS / 3.5e9 * 1e3
print(f"| anchor: ncnn int8 on a Pi 4 core, 3.5-4.6 GMAC/s, the same {CONV_MACS / 1e6:.2f} M conv MAC | | {lo:.2f}-{hi:.2f} | | 3.5-4.6 |")
EOF
