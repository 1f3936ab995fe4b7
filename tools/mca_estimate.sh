#!/usr/bin/env bash
# Pi 4 / Pi 5 speed ESTIMATE of one 3-s segment (issue 12, item 4): llvm-mca on the code the board binaries contain.
# Not a measurement: steady-state cycles of each hot innermost loop from LLVM 19's scheduling models, times the
# loop's trip count per 3-s segment of the shipped cnn-gru, at 1.8 GHz (Pi 4, Cortex-A72) and 2.4 GHz (Pi 5,
# Cortex-A76).
#
#   bash tools/mca_estimate.sh [--keep DIR]     prints markdown tables (docs/benchmarks.md "Pi 4 / Pi 5 estimate");
#                                               --keep: objects and disassembly in DIR, reused by the next run
#   MODEL=FILE bash tools/mca_estimate.sh       another model file (default models/cnn-gru.crnn; frontend version 2)
#
# 1. Objects: CRNNRuntime + crnn-infer compiled by the Embedded aarch64 recipe of tools/swiftc.sh (-Osize), as
#    tools/dist.sh builds them: crnn-infer-pi4 = -target-cpu cortex-a72 (NEON smlal conv micro-kernel), crnn-infer-pi5
#    = -target-cpu cortex-a76 -DCRNN_CONV_DOTPROD -Xcc -march=armv8.2-a+dotprod (sdot micro-kernel); both with the
#    NEON FFT stage kernel (FixedFFTV2NEON.swift, selected on arm64). For comparison: cortex-a76 with the NEON
#    micro-kernel, and both CPUs with -DCRNN_CONV_PORTABLE -DCRNN_FFT_PORTABLE (portable conv micro-kernel and FFT
#    stage kernel). Disassembled by llvm-objdump-19.
# 2. Loops: innermost loops (a backward branch with no other backward branch inside), recognised by their
#    instructions, of: the version-2 front end (FrameLogMel.swift frameLogMel: window peak scan, window multiply, mel
#    sum, and the band loop minus the mel sum = the table log; FixedFFTV2NEON.swift FFTRadix4StageNEON.stage: the
#    pass of two radix-4 butterflies with twiddles (inner loop) and the per-pair twiddle set-up (the j loop's code
#    besides it); FixedFFTV2.swift FixedRealFFTV2.powerSpectrum: the last radix-4 stage, the fused split + power, and
#    in the portable comparison objects the inlined portable radix-4 butterfly; LogMel16.swift floor16 and
#    dctRow16: top_db maximum, the row halves, DCT dot product and coefficient finish) and of the network (conv micro-kernels' `row`,
#    the conv requantization epilogue, affineS8Lookup (the table the Pi builds run), gruS8/gateParts dot products; GRU gates = the gruS8 code per unit
#    and step outside its dot loops + gateParts' + 2 sigmoidQ15 + tanhQ15, as straight code). The script stops with a
#    message if a loop it expects is missing (the code changed: update its signature and trip count).
# 3. llvm-mca-19 -mtriple=aarch64 -iterations=400 on each loop body (cycles per iteration = Total Cycles / 400):
#    Pi 4 with -mcpu=cortex-a72, Pi 5 with -mcpu=cortex-a76 and -mcpu=neoverse-n1. The script prints the model each
#    -mcpu gets (from llvm-mca's resource names): LLVM 19.1 schedules cortex-a72 AND cortex-a76 with its Cortex-A57
#    model; neoverse-n1 (the server core built on the Cortex-A76 microarchitecture) has its own. Loads and stores with
#    base writeback are given to llvm-mca as the access plus an add of the base (the cores' separate writeback uop;
#    llvm-mca 19 would otherwise chain iterations through the stored data); the total without this is printed too.
# 4. Trip counts per segment from the model file itself (feature config, frontend section, operators' shapes) and
#    the loops' structure. Calls inside a loop (bl) are not followed, except the GRU gate functions named above.
# Not counted: loop set-up of short trips (the NEON FFT pass loop runs once per twiddle set-up in the first stage,
# L = 1024, and the portable kernel's j loop 4 butterflies per block at L = 16; mel bands ~16 weights),
# the window's second pass (quiet frames only), band copies, pooling, input quantization, the fully connected layer,
# cache misses (llvm-mca assumes L1 hits), branch mispredictions and the OS. Needs llvm-19 and libc6-dev-arm64-cross
# (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
KEEP=""
MODEL=${MODEL:-models/cnn-gru.crnn}
[ "${1:-}" = "--keep" ] && KEEP=$2
MCA=llvm-mca-19 OBJDUMP=llvm-objdump-19
# llvm-19 (llvm-mca-19, llvm-objdump-19) and the aarch64 libc headers CLibc's shim includes (dist.sh's list).
need=()
command -v $MCA >/dev/null 2>&1 || need+=(llvm-19)
[ -f /usr/aarch64-linux-gnu/include/stdio.h ] || need+=(libc6-dev-arm64-cross)
if [ ${#need[@]} -gt 0 ]; then
    echo "mca_estimate: installing ${need[*]} (apt-get)" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
WORK=${KEEP:-$(mktemp -d)}
mkdir -p "$WORK"
[ -n "$KEEP" ] || trap 'rm -rf "$WORK"' EXIT

mapfile -t SRC < <(tools/swiftc.sh runtime-sources)
while IFS= read -r f; do [ "$(basename "$f")" = main.swift ] || SRC+=("$f"); done < <(find Sources/crnn-infer -name '*.swift' | LC_ALL=C sort)
SRC+=(firmware-sim/EmbeddedMain.swift)
grep -q CRNN_CONV_DOTPROD Sources/CRNNRuntime/Kernels/Conv2dS8FastSelect.swift ||
    { echo "mca_estimate: Conv2dS8FastSelect.swift names no CRNN_CONV_DOTPROD: dist.sh's Pi 5 build has no sdot kernel; update this script" >&2; exit 1; }
grep -q "= FFTRadix4StageNEON" Sources/CRNNRuntime/Frontend/FixedFFTV2Select.swift ||
    { echo "mca_estimate: FixedFFTV2Select.swift does not select FFTRadix4StageNEON: update this script's FFT rows" >&2; exit 1; }
FLAGS=(-module-name CRNNRuntime -I Sources/CLibc -suppress-warnings -Xcc -I/usr/aarch64-linux-gnu/include)
# Pi 4 = dist.sh's crnn-infer-pi4 (NEON mull micro-kernel, the aarch64 default); Pi 5 = crnn-infer-pi5 (sdot
# micro-kernel: dist.sh's cpu_flags pi5); the others are the comparison rows (smlal: the by-element NEON kernel).
for obj in cortex-a72:neon cortex-a72:smlal cortex-a72:portable cortex-a76:dotprod cortex-a76:smlal cortex-a76:portable; do
    cpu=${obj%%:*} v=${obj#*:}
    o="$WORK/$cpu-$v.o"
    [ -s "$o.s" ] && continue
    extra=()
    [ $v = portable ] && extra=(-DCRNN_CONV_PORTABLE -DCRNN_FFT_PORTABLE)
    [ $v = dotprod ] && extra=(-DCRNN_CONV_DOTPROD -Xcc -march=armv8.2-a+dotprod)
    [ $v = smlal ] && extra=(-DCRNN_CONV_NEON_SMLAL)
    echo "mca_estimate: compiling $o (-target-cpu $cpu ${extra[*]})" >&2
    tools/swiftc.sh embedded aarch64 "$o" "${FLAGS[@]}" -target-cpu $cpu "${extra[@]}" "${SRC[@]}"
    $OBJDUMP -d --no-show-raw-insn "$o" > "$o.s"
done

python3 - "$WORK" "$MCA" "$(tools/swiftc.sh version)" "$($MCA --version | grep -m1 -i 'llvm version' | xargs)" "$MODEL" <<'EOF'
import re, struct, subprocess, sys
work, mca, swiftv, llvmv, model = sys.argv[1:6]


def stop(msg):
    sys.exit(f"mca_estimate: {msg}")


# ---- the model file (docs/model-format.md): feature config, frontend tables, operators ----
b = open(model, "rb").read()
sections = {}
for i in range(struct.unpack_from("<I", b, 20)[0]):
    kind, off, length, cnt = struct.unpack_from("<4I", b, struct.unpack_from("<I", b, 24)[0] + 16 * i)
    sections[kind] = (off, length, cnt)
if 7 not in sections:
    stop(f"{model} has no frontend section")
cfg = struct.unpack_from("<16i", b, sections[1][0])
SEG, NFFT, HOP, NMELS, NMFCC, CENTER = cfg[2], cfg[3], cfg[4], cfg[5], cfg[6], cfg[15]
fo = sections[7][0]
FE_VERSION, _n, _m, _k, _w, _s, _wo, MEL_WEIGHTS = struct.unpack_from("<8I", b, fo)
if FE_VERSION != 2:
    stop(f"{model} uses frontend version {FE_VERSION}; this script models version 2 (FixedFFTV2.swift, FrameLogMel.swift)")
FRAMES = 1 + SEG // HOP if CENTER else 1 + (SEG - NFFT) // HOP
HALF = NFFT // 2
PAD = NFFT // 2 if CENTER else 0
VALID = sum(max(0, min(NFFT, SEG - (t * HOP - PAD)) - max(0, PAD - t * HOP)) for t in range(FRAMES))
R4_STAGES = 0  # radix-4 stages with twiddles (L >= 8)
R4_PAIRS = 0  # pairs of butterflies j, j + 1 per frame over those stages: the NEON kernel's twiddle set-ups
L = HALF
while L >= 8:
    R4_STAGES += 1
    R4_PAIRS += L // 8
    L //= 4
if L != 4:
    stop(f"n = {NFFT}: the last FFT stage is radix-2, which this script does not model (only the radix-4 one)")

tens_off = sections[3][0]


def dims(t):
    o = tens_off + 64 * t
    return struct.unpack_from("<4I", b, o + 4)[:b[o + 1]]


CONVS, AFFINES, GRUS = [], [], []  # conv: (H, W, Cin, K, kh, kw, pooled outputs); affine: values; GRU: (T, I, U)
for i in range(sections[4][2]):
    o = sections[4][0] + 64 * i
    op, nin = struct.unpack_from("<HH", b, o)
    ins = struct.unpack_from(f"<{nin}I", b, o + 4)
    out = dims(struct.unpack_from("<I", b, o + 36)[0])
    if op == 2:
        (H, W, C), (K, kh, kw, _c) = dims(ins[0]), dims(ins[1])
        CONVS.append((H, W, C, K, kh, kw, out[0] * out[1] * out[2]))
    elif op == 4:
        n = 1
        for d in dims(ins[0]):
            n *= d
        AFFINES.append(n)
    elif op == 7:
        (T, I), U = dims(ins[0]), dims(ins[1])[0] // 3
        GRUS.append((T, I, U))
if not CONVS or not GRUS:
    stop(f"{model}: expected conv2d and GRU operators")
CONV_MACS = sum(H * W * C * K * kh * kw for H, W, C, K, kh, kw, _o in CONVS)
GRU_MACS = sum(T * 3 * U * (I + U) for T, I, U in GRUS)


def neon_trips():
    """Iterations per segment of the NEON row's three innermost loops (Conv2dS8FastNEON.swift)."""
    t = {"4tap": 0, "1tap": 0, "1px": 0}
    for H, W, C, K, kh, kw, _o in CONVS:
        blocks, passes, rem, taps = K // 16, W // 4, W % 4, kw * C
        t["4tap"] += H * blocks * passes * kh * (taps // 4)
        t["1tap"] += H * blocks * passes * kh * (taps % 4)
        t["1px"] += H * blocks * rem * kh * taps
    return t


def mull_trips():
    """Iterations of the NEON mull row's four innermost loops (Conv2dS8FastNEONMull.swift): 2 px or 1 px x 16 ch x a
    pair of tap quads (smull + smlal + sadalp) or one quad alone; a row's kw * Cin taps padded up to quads."""
    t = {"pair2": 0, "one2": 0, "pair1": 0, "one1": 0}
    for H, W, C, K, kh, kw, _o in CONVS:
        blocks, G = K // 16, (kw * C + 3) // 4
        t["pair2"] += H * blocks * (W // 2) * kh * (G // 2)
        t["one2"] += H * blocks * (W // 2) * kh * (G % 2)
        t["pair1"] += H * blocks * (W % 2) * kh * (G // 2)
        t["one1"] += H * blocks * (W % 2) * kh * (G % 2)
    return t


def dotprod_trips():
    """Iterations of the dot-product row's two innermost loops (Conv2dS8FastDotProd.swift): 4 px x 16 ch x one
    group of 4 taps (16 sdot), 1 px x 16 ch x 4 taps (4 sdot); a row's kw * Cin taps padded up to groups of 4."""
    t = {"4px": 0, "1px": 0}
    for H, W, C, K, kh, kw, _o in CONVS:
        blocks, G = K // 16, (kw * C + 3) // 4
        t["4px"] += H * blocks * (W // 4) * kh * G
        t["1px"] += H * blocks * (W % 4) * kh * G
    return t


def portable_trips():
    """Iterations of the portable row's loops (Conv2dS8FastPortable.swift): the one-channel 3x3 row kernel, the
    4-pixel loop (1 tap x 4 px x 16 ch) and the 1-pixel loop (1 tap x 16 ch)."""
    t = {"1x3x3": 0, "4px": 0, "1px": 0}
    for H, W, C, K, kh, kw, _o in CONVS:
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


def all_loops(insns):
    """(first, last) index of every backward branch's range."""
    idx = {a: i for i, (a, *_r) in enumerate(insns)}
    return sorted(set((idx[t], i) for i, (a, mn, ops, t) in enumerate(insns) if t is not None and t <= a and t in idx))


def innermost_loops(insns):
    loops = all_loops(insns)
    inner = [(s, e) for s, e in loops if not any((s2, e2) != (s, e) and s <= s2 and e2 <= e for s2, e2 in loops)]
    return [insns[s:e + 1] for s, e in sorted(set(inner))]


def outer_rest(insns, loop):
    """The smallest loop strictly containing `loop`, without the instructions of the loops nested in it: the code
    an outer iteration runs besides its inner loops (branches taken as straight code)."""
    a0, a1 = loop[0][0], loop[-1][0]
    idx = {a: i for i, (a, *_r) in enumerate(insns)}
    s0, e0 = idx[a0], idx[a1]
    outers = [(s, e) for s, e in all_loops(insns) if s <= s0 and e0 <= e and (s, e) != (s0, e0)]
    if not outers:
        stop("no loop encloses the loop given")
    s, e = min(outers, key=lambda r: r[1] - r[0])
    nested = [(s2, e2) for s2, e2 in all_loops(insns) if s <= s2 and e2 <= e and (s2, e2) != (s, e)]
    return [insns[i] for i in range(s, e + 1) if not any(s2 <= i <= e2 for s2, e2 in nested)]


def enclosing(insns, loop):
    """The smallest loop strictly containing `loop`, all its instructions."""
    idx = {a: i for i, (a, *_r) in enumerate(insns)}
    s0, e0 = idx[loop[0][0]], idx[loop[-1][0]]
    outers = [(s, e) for s, e in all_loops(insns) if s <= s0 and e0 <= e and (s, e) != (s0, e0)]
    if not outers:
        stop("no loop encloses the loop given")
    s, e = min(outers, key=lambda r: r[1] - r[0])
    return insns[s:e + 1]


def without_loops(insns, loops):
    drop = {a for l in loops for a, *_r in l}
    return [x for x in insns if x[0] not in drop]


def count(loop, pattern):
    return sum(1 for _, mn, _o, _t in loop if re.fullmatch(pattern, mn))


def function(funcs, key):
    names = [n for n in funcs if key in n]
    if len(names) != 1:
        stop(f"{len(names)} functions match {key!r} (want 1): {names[:3]}")
    return funcs[names[0]]


_cache = {}
SPLIT = True  # split base-register writeback off loads and stores (see split_writeback)


def split_writeback(mn, ops):
    """A load or store with base writeback, as the access plus an add of the base. The cores update the base with a
    micro-op of its own (Cortex-A72 / A76 software optimization guides: an extra integer uop); llvm-mca 19 gives the
    new base the latency of the whole instruction, so a post-indexed store would make the next iteration's loads wait
    for the stored data (the last radix-4 stage: 48 instead of 17 cycles on the A57 model)."""
    if not re.match(r"(ld|st)", mn):
        return [f"{mn} {ops}"]
    m = re.fullmatch(r"(.*)\[(\w+)\],\s*(#?)(-?)(\w+)", ops)  # post-index: [xN], #imm or [xN], xM
    if m:
        op = "sub" if m.group(4) else "add"
        return [f"{mn} {m.group(1)}[{m.group(2)}]", f"{op} {m.group(2)}, {m.group(2)}, {m.group(3)}{m.group(5)}"]
    m = re.fullmatch(r"(.*)\[(\w+),\s*#(-?)(\w+)\]!", ops)  # pre-index: [xN, #imm]!
    if m:
        op = "sub" if m.group(3) else "add"
        return [f"{op} {m.group(2)}, {m.group(2)}, #{m.group(4)}", f"{mn} {m.group(1)}[{m.group(2)}]"]
    return [f"{mn} {ops}"]


def mca_cycles(loop, cpu, split=None):
    """Steady-state cycles per iteration of `loop` (Total Cycles / 400 iterations). Every branch goes to a label at
    the block's head (llvm-mca does not follow branches anyway), calls included: a called function is not counted."""
    split = SPLIT if split is None else split
    lines = []
    for _, mn, ops, t in loop:
        if t is not None or mn == "bl":
            lines.append(f"{mn} {re.sub(r'0x[0-9a-f]+$', 'Lhead', ops)}")
        else:
            lines += split_writeback(mn, ops) if split else [f"{mn} {ops}"]
    asm = "Lhead:\n" + "".join(x.rstrip() + "\n" for x in lines)
    key = (asm, cpu)
    if key not in _cache:
        p = subprocess.run([mca, "-mtriple=aarch64", f"-mcpu={cpu}", "-iterations=400"], input=asm, text=True,
                           capture_output=True)
        if p.returncode != 0:
            stop(f"llvm-mca failed on:\n{asm}\n{p.stderr}")
        _cache[key] = int(re.search(r"Total Cycles:\s+(\d+)", p.stdout).group(1)) / 400
    return _cache[key]


def sched_model(cpu):
    """The scheduling model LLVM uses for -mcpu=cpu, from the resource names llvm-mca prints."""
    p = subprocess.run([mca, "-mtriple=aarch64", f"-mcpu={cpu}", "-iterations=1", "-resource-pressure"],
                       input="add x0, x0, x1\n", text=True, capture_output=True)
    units = sorted(set(re.findall(r"^\[[0-9.]+\]\s+-\s+(\w+?)Unit", p.stdout, re.M)))
    names = {"A57": "Cortex-A57", "N1": "Neoverse N1", "A55": "Cortex-A55", "A53": "Cortex-A53", "A510": "Cortex-A510",
             "N2": "Neoverse N2", "V1": "Neoverse V1", "V2": "Neoverse V2"}
    return "/".join(names.get(u, u) for u in units) or "none (no model)"


def pick(loops, pred, what):
    got = [l for l in loops if pred(l)]
    if not got:
        stop(f"no innermost loop looks like {what}: the code changed, update the signatures")
    return max(got, key=len)


MUL64 = r"smull|smaddl|smsubl|madd|msub|mul"


class Row:
    def __init__(self, group, name, code, work, unit, trips, note=""):
        self.group, self.name, self.code, self.work, self.unit, self.trips = group, name, code, work, unit, trips


def fft_rows(funcs, kernel):
    """FixedRealFFTV2's hot loops with the radix-4 stage kernel `kernel` ("neon": FixedFFTV2NEON.swift, its own
    function; "portable": inlined into powerSpectrum), the last radix-4 stage and the split + power."""
    fft = function(funcs, "14FixedRealFFTV2V13powerSpectrum")
    fl = innermost_loops(fft)
    if kernel == "neon":
        nf = function(funcs, "18FFTRadix4StageNEONO5stage")
        st = pick(innermost_loops(nf), lambda l: count(l, r"sqdmull2?|sqdmlal2?") == 12 and count(l, "addhn2?") == 6,
                  "the NEON radix-4 pass (12 sqdmull/sqdmlal, 6 addhn)")
        setup = outer_rest(nf, st)
        # The pair's six doubled twiddle vectors come from the packed table (`packTwiddlePair`): 96 bytes of loads.
        if sum(2 if mn == "ldp" else 1 for _a, mn, ops, _t in setup if re.fullmatch(r"ldp|ldr|ldur", mn) and re.match(r"q", ops)) < 6:
            stop("the NEON stage's j loop loads fewer than 6 q registers: not the packed twiddle set-up")
        if any(count(l, MUL64) == 12 for l in fl):
            stop("powerSpectrum still has a 12-multiply loop: the portable stage kernel is inlined")
        rows = [Row("FFT", f"FFT NEON radix-4 pass with twiddles, 2 butterflies ({R4_STAGES} stages)", st, 2,
                    "butterfly", FRAMES * R4_STAGES * HALF // 8),
                Row("FFT", "FFT NEON twiddle loads per pair of butterflies (j loop outside its pass loop)", setup, 1,
                    "pair", FRAMES * R4_PAIRS)]
    else:
        st = pick(fl, lambda l: count(l, MUL64) == 12, "the radix-4 twiddle butterfly (12 multiplies)")
        rows = [Row("FFT", f"FFT portable radix-4 butterfly with twiddles ({R4_STAGES} stages)", st, 1, "butterfly",
                    FRAMES * R4_STAGES * HALF // 4)]
    last = pick(fl, lambda l: count(l, MUL64) == 0 and count(l, "sshl") == 2 and count(l, "stp") == 1,
                "the last radix-4 stage (SIMD4: no multiply, 2 rounding shifts, one stp)")
    split = pick(fl, lambda l: count(l, MUL64) == 8 and count(l, "ldrh") == 2, "the split + power (8 multiplies)")
    rows.append(Row("FFT", "FFT last radix-4 stage (no twiddles)", last, 1, "butterfly", FRAMES * HALF // 4))
    if kernel == "neon":
        # FFTRadix4StageNEON.splitPowerGroupPair (n/2 = 1024 is a power of 4): the four k = r, r + m, 2m - r, m - r
        # (m = n/8) for r = 1 ..< m/2, from two groups of four consecutive slots (two q loads each, uzp, rev64); the
        # three k left (m/2, m, 3m/2) one at a time (straight code; counted at the scalar loop's cycles); k = 0 and
        # k = n/4 run once outside any loop (not counted: 2 of 513).
        group = pick(fl, lambda l: count(l, r"sqdmull2?") == 8 and count(l, r"sqdmlsl2?") == 4
                     and count(l, r"(add|sub)hn2?") == 8 and count(l, "rev64") >= 2,
                     "the NEON split + power by slot groups, 4 k (8 sqdmull, 4 sqdmlsl, 8 addhn/subhn, rev64)")
        return rows + [
            Row("FFT", "FFT NEON real split + power by slot-group pairs, 4 k (8 bins)", group, 8, "bin",
                FRAMES * (HALF // 8 - 1)),
            Row("FFT", "FFT real split + power, one k at a time (the 3 k left over)", split, 2, "bin", FRAMES * 3),
        ]
    return rows + [Row("FFT", "FFT real split + power", split, 2, "bin", FRAMES * (HALF // 2 + 1))]


def frontend_rows(funcs):
    """The version-2 front end's hot loops (FrameLogMel.swift, FixedFFTV2*.swift, LogMel16.swift)."""
    rows = []
    # frameLogMel and the closures -Osize outlines from it (the mel sums and logs run in the one that gets the
    # stack buffer of band sums).
    parts = [funcs[n] for n in funcs if "FixedPointMFCCV11frameLogMel6source" in n]
    if not parts:
        stop("no frameLogMel function")
    ml = [l for f in parts for l in innermost_loops(f)]
    # orOfMagnitudes16: eight samples per pass (v ^ (v >> 15), OR); the <= 7 samples left per frame are not counted.
    peak = pick(ml, lambda l: len(l) <= 10 and count(l, r"sshr|cmlt") == 1 and count(l, "eor") == 1
                and count(l, "orr") == 1 and count(l, MUL64) == 0, "the window's peak scan (8 samples: sshr, eor, orr)")
    win = pick(ml, lambda l: count(l, r"smull2?") == 2 and count(l, r"smlal2?") == 2 and count(l, r"stp|str") >= 1,
               "the window from its table (8 samples: smull, smull2, smlal, smlal2 with the rounding, stores)")
    mel = pick(ml, lambda l: count(l, "ldrh") == 2 and count(l, MUL64) == 1, "the mel sum (2 ldrh, 1 multiply)")
    melf = next(f for f in parts if mel[0] in f)
    # Per band: the band loop around the sum (set-up, store of the sum), then the separate loop of table logs.
    logl = pick(ml, lambda l: count(l, "clz") == 1 and count(l, "strh") == 1, "the band log loop (clz, strh)")
    log = outer_rest(melf, mel) + logl
    flo = innermost_loops(function(funcs, "FixedPointMFCCV7floor16"))
    fmax = pick(flo, lambda l: count(l, "ldrsh") == 1 and count(l, "csel") == 1, "the top_db maximum")
    # dctRow16 itself, not the closures -Osize outlines from it (their copies serve rows of more than 256 bands).
    dctn = [n for n in funcs if "FixedPointMFCCV8dctRow16_5floor4into" in n and "XEfU" not in n]
    if len(dctn) != 1:
        stop(f"{len(dctn)} dctRow16 functions besides its closures (want 1): {dctn[:3]}")
    dctf = funcs[dctn[0]]
    halves = pick(innermost_loops(dctf), lambda l: count(l, "smax") == 2 and count(l, "sshr") == 2,
                  "the DCT row's halves (dctHalves16: 16 values, 2 smax, 2 sshr)")
    dct = pick(innermost_loops(dctf), lambda l: count(l, r"smlal2?") == 8 and count(l, "smax") == 0,
               "the DCT dot product (dctDot16: 16 bands, 8 smlal over both halves)")
    # Per coefficient: the run-of-128-bands loop around the dot loop (one run for 128 bands), then the k loop's
    # rounding and saturation.
    run128 = enclosing(dctf, dct)
    dctr = outer_rest(dctf, dct) + outer_rest(dctf, run128)
    rows += [
        Row("window", "window: peak scan (OR of magnitudes), 8 samples", peak, 8, "sample", VALID // 8),
        Row("window", "window: x = round(pcm * w / 2^r), 8 samples from the table", win, 8, "sample", VALID // 8),
    ] + fft_rows(funcs, "neon") + [
        Row("mel", "mel sum (one weight)", mel, 1, "MAC", FRAMES * MEL_WEIGHTS),
        Row("log", "log: band's table log2, dB, Int16 (its loop + the band loop around the sum)", log, 1, "band", FRAMES * NMELS),
        Row("DCT", "top_db floor: segment maximum", fmax, 1, "value", FRAMES * NMELS),
        Row("DCT", "DCT row halves (max with the floor, 8-bit halves; once per frame)", halves, 16, "value",
            FRAMES * NMELS // 16),
        Row("DCT", "DCT dot product (coefficient x both halves of the floored values)", dct, 16, "MAC",
            FRAMES * NMFCC * NMELS // 16),
        Row("DCT", "DCT coefficient finish (run set-up, rounding, saturation)", dctr, 1, "coef.", FRAMES * NMFCC),
    ]
    return rows


def network_rows(funcs):
    """Besides the conv micro-kernels: requantization epilogue, affine, GRU."""
    run = function(funcs, "18Conv2dEpilogueNEONO3run")
    epi = pick(innermost_loops(run), lambda l: count(l, r"smull2?") == 8 and count(l, "srshl") == 8,
               "the conv requantization epilogue (Conv2dEpilogueNEON: 16 values, 8 smull, 8 srshl)")
    # The Pi builds keep speed tables (only CRNN_LOW_RAM builds do not), so the affine runs by table lookup.
    aff = pick(innermost_loops(function(funcs, "14affineS8Lookup_5input")),
               lambda l: count(l, "ldrsb") == 1 and count(l, "ldrb") == 1 and count(l, "strb") == 1,
               "the affine (batch norm) table lookup loop (ldrsb, ldrb, strb)")
    gru = function(funcs, "5gruS8_5input")
    # RecurrentS8Weights.gateParts (KernelSupport.swift) is @inline(__always) since the de-duplication (d5eca44):
    # then gruS8 holds all 6 dot loops; a gateParts function, if one is emitted, must have 2.
    gps = [n for n in funcs if "9gateParts" in n]
    if len(gps) > 1:
        stop(f"{len(gps)} gateParts functions: {gps[:3]}")
    gp = funcs[gps[0]] if gps else []
    isdot = lambda l: count(l, "ldrsb") == 2 and count(l, MUL64) == 1 and len(l) <= 8  # noqa: E731
    dots = [l for l in innermost_loops(gru) + innermost_loops(gp) if isdot(l)]
    if gp and len([l for l in innermost_loops(gp) if isdot(l)]) != 2:
        stop("gateParts should have 2 int8 dot-product loops")
    if len(dots) not in (4, 6):
        stop(f"gruS8 + gateParts have {len(dots)} int8 dot-product loops (expected 6, or 4 with gateParts apart)")
    per = max(dots, key=lambda l: mca_cycles(l, "cortex-a72"))  # the slowest of the dot loops, for all MACs
    gdots = [l for l in innermost_loops(gru) if isdot(l)]
    gates = outer_rest(gru, gdots[0]) if gdots else []
    sig, tanh = function(funcs, "10sigmoidQ15ys5Int16VADF"), function(funcs, "7tanhQ15ys5Int16VADF")
    gpr = without_loops(gp, [l for l in innermost_loops(gp) if isdot(l)])
    # Per unit and step: 3 gate evaluations (as many gateParts' non-dot code as are not inlined into gruS8), 2
    # sigmoid, 1 tanh, the mix; straight code, every branch path included.
    ncalls = 3 - len(gdots) // 2
    gatecode = gates + gpr * ncalls + sig * 2 + tanh
    return [
        Row("conv epilogue", "conv requantization epilogue (NEON, 16 pooled outputs)", epi, 16, "value",
            sum(o for *_r, o in CONVS) // 16),
        Row("affine", "affine (batch norm, table lookup per value)", aff, 1, "value", sum(AFFINES)),
        Row("GRU", f"GRU matvec (int8 dot product; {len(dots)} such loops)", per, 1, "MAC", GRU_MACS),
        Row("GRU", f"GRU gates per unit and step (straight code: {len(gates)} of gruS8 + {ncalls} x {len(gpr)} of "
            f"gateParts + 2 sigmoid + tanh)", gatecode, 1, "unit-step", sum(T * U for T, _i, U in GRUS)),
    ]


def conv_rows(v, funcs):
    rows = []
    if v == "mull":
        loops = innermost_loops(function(funcs, "Conv2dMicroKernelNEONMullO3row"))
        sm, sl, sp = (lambda l: count(l, r"smull2?")), (lambda l: count(l, r"smlal2?")), (lambda l: count(l, "sadalp"))  # noqa: E731
        tr = mull_trips()
        for key, n_mul, n_mla, work, what in (("pair2", 16, 16, 256, "2 quads x 2 px x 16 ch"), ("one2", 16, 0, 128, "1 quad x 2 px x 16 ch"),
                                              ("pair1", 8, 8, 128, "2 quads x 1 px x 16 ch"), ("one1", 8, 0, 64, "1 quad x 1 px x 16 ch")):
            if tr[key] == 0:
                continue
            code = pick(loops, lambda l, a=n_mul, b=n_mla: sm(l) == a and sl(l) == b and sp(l) == a,
                        f"{n_mul} smull, {n_mla} smlal, {n_mul} sadalp")
            rows.append(Row("conv", f"conv NEON mull, {what}", code, work, "MAC", tr[key]))
    elif v == "neon":
        loops = innermost_loops(function(funcs, "Conv2dMicroKernelNEONO3row"))
        sm = lambda l: count(l, r"smlal2?")  # noqa: E731
        tr = neon_trips()
        rows.append(Row("conv", "conv NEON smlal, 4 taps x 4 px x 16 ch", pick(loops, lambda l: sm(l) == 64, "64 smlal"), 256, "MAC", tr["4tap"]))
        rows.append(Row("conv", "conv NEON smlal, 1 tap x 4 px x 16 ch", pick(loops, lambda l: sm(l) == 16, "16 smlal"), 64, "MAC", tr["1tap"]))
        rows.append(Row("conv", "conv NEON smlal, 1 tap x 1 px x 16 ch", pick(loops, lambda l: sm(l) == 4, "4 smlal"), 16, "MAC", tr["1px"]))
    elif v == "dotprod":
        loops = innermost_loops(function(funcs, "Conv2dMicroKernelDotProdO3row"))
        sd = lambda l: count(l, "sdot")  # noqa: E731
        tr = dotprod_trips()
        rows.append(Row("conv", "conv dotprod sdot, 4 taps x 4 px x 16 ch", pick(loops, lambda l: sd(l) == 16, "16 sdot"), 256, "MAC", tr["4px"]))
        rows.append(Row("conv", "conv dotprod sdot, 4 taps x 1 px x 16 ch", pick(loops, lambda l: sd(l) == 4, "4 sdot"), 64, "MAC", tr["1px"]))
    else:
        loops = innermost_loops(function(funcs, "Conv2dMicroKernelPortableO3row"))
        vm = lambda l: count(l, r"mla|smlal2?|mul")  # noqa: E731  (vector multiply-adds of the SIMD16 code)
        tr = portable_trips()
        cands = sorted((l for l in loops if vm(l) >= 4), key=vm)
        if len(cands) < 3:
            stop(f"the portable row has {len(cands)} multiply loops, expected 3")
        rows.append(Row("conv", "conv portable, 1-channel 3x3 row, 1 px x 9 taps x 16 ch", cands[-1], 144, "MAC", tr["1x3x3"]))
        rows.append(Row("conv", "conv portable, 1 tap x 4 px x 16 ch", cands[-2], 64, "MAC", tr["4px"]))
        rows.append(Row("conv", "conv portable, 1 tap x 1 px x 16 ch", cands[0], 16, "MAC", tr["1px"]))
    return rows


objs = {}
for o in ("cortex-a72-neon", "cortex-a72-smlal", "cortex-a72-portable", "cortex-a76-dotprod", "cortex-a76-smlal", "cortex-a76-portable"):
    objs[o] = parse(f"{work}/{o}.o.s")

GHZ4, GHZ5 = 1.8, 2.4
CPU4, CPU5, CPU5B = "cortex-a72", "cortex-a76", "neoverse-n1"
M4, M5, M5B = sched_model(CPU4), sched_model(CPU5), sched_model(CPU5B)


def fmt(x, d=3):
    return "" if x is None else f"{x:.{d}f}"


def evaluate(r4, r5, show):
    """Pi 4 ms, Pi 5 ms (A76 -mcpu), Pi 5 ms (N1 -mcpu) of a Pi 4 row and/or a Pi 5 row of the same loop (either
    may be None); prints the table line when `show`."""
    c4 = mca_cycles(r4.code, CPU4) if r4 else None
    c5 = mca_cycles(r5.code, CPU5) if r5 else None
    c5b = mca_cycles(r5.code, CPU5B) if r5 else None
    r = r4 or r5
    ms4 = r4.trips * c4 / (GHZ4 * 1e6) if r4 else None
    ms5 = r5.trips * c5 / (GHZ5 * 1e6) if r5 else None
    ms5b = r5.trips * c5b / (GHZ5 * 1e6) if r5 else None
    if show:
        rate = ""
        if r.unit == "MAC" and r.work > 1:
            rate = " (" + " / ".join(f"{r.work / c:.1f}" if c else "-" for c in (c4, c5, c5b)) + " per cycle)"
        n4 = len(r4.code) if r4 else "-"
        n5 = len(r5.code) if r5 else "-"
        cyc5 = f"{c5:.2f} / {c5b:.2f}" if r5 else ""
        ms5s = f"{ms5:.3f} / {ms5b:.3f}" if r5 else ""
        trips = r.trips if not (r4 and r5) or r4.trips == r5.trips else f"{r4.trips} / {r5.trips}"
        print(f"| {r.name} | {n4} / {n5} | {r.work} {r.unit}{rate} | {fmt(c4, 2)} | {cyc5} | {trips} | {fmt(ms4)} | {ms5s} |")
    return ms4, ms5, ms5b


P4, P5 = objs["cortex-a72-neon"], objs["cortex-a76-dotprod"]
# (Pi 4 row, Pi 5 row, group); groups ending in "*" are comparisons, not in the totals.
ENTRIES = [(a, b_, a.group) for a, b_ in zip(frontend_rows(P4), frontend_rows(P5))]
ENTRIES += [(a, None, "conv") for a in conv_rows("mull", P4)] + [(None, b_, "conv") for b_ in conv_rows("dotprod", P5)]
ENTRIES += [(a, b_, a.group) for a, b_ in zip(network_rows(P4), network_rows(P5))]
ENTRIES.append("*comparison: code not shipped for that board*")
ENTRIES += [(a, b_, "conv NEON smlal*") for a, b_ in zip(conv_rows("neon", objs["cortex-a72-smlal"]),
                                                         conv_rows("neon", objs["cortex-a76-smlal"]))]
ENTRIES += [(a, b_, "conv portable*") for a, b_ in zip(conv_rows("portable", objs["cortex-a72-portable"]),
                                                       conv_rows("portable", objs["cortex-a76-portable"]))]
ENTRIES += [(a, b_, "FFT portable*") for a, b_ in zip(fft_rows(objs["cortex-a72-portable"], "portable"),
                                                      fft_rows(objs["cortex-a76-portable"], "portable"))]


def run(show):
    groups = {}
    for e in ENTRIES:
        if isinstance(e, str):
            if show:
                print(f"| {e} | | | | | | | |")
            continue
        r4, r5, g = e
        ms = evaluate(r4, r5, show)
        acc = groups.setdefault(g, [0.0, 0.0, 0.0])
        for i in range(3):
            acc[i] += ms[i] or 0.0
    return groups


print(f"llvm-mca: {llvmv}; code: {swiftv}, Embedded aarch64 recipe of tools/swiftc.sh (-Osize).")
print(f"Pi 4 columns: the crnn-infer-pi4 code (-target-cpu cortex-a72: NEON mull conv), llvm-mca -mcpu={CPU4} "
      f"(LLVM 19 schedules it with its {M4} model), {GHZ4} GHz.")
print(f"Pi 5 columns: the crnn-infer-pi5 code (-target-cpu cortex-a76 -DCRNN_CONV_DOTPROD -Xcc -march=armv8.2-a+dotprod: "
      f"sdot conv), llvm-mca -mcpu={CPU5} ({M5} model) / -mcpu={CPU5B} ({M5B} model), {GHZ5} GHz.")
print(f"Model: {model}, frontend version {FE_VERSION}; per 3-s segment: {FRAMES} frames of {NFFT} ({VALID} windowed "
      f"samples), {NMELS} mel bands ({MEL_WEIGHTS} weights), {NMFCC} MFCC; conv {CONV_MACS / 1e6:.2f} M MAC, GRU "
      f"{GRU_MACS / 1e6:.3f} M MAC.")
print()
print("| loop | instr. Pi 4 / Pi 5 | work / iter. | cycles / iter. Pi 4 | cycles / iter. Pi 5 (A76 / N1 -mcpu) | "
      "iterations per segment | Pi 4 ms | Pi 5 ms (A76 / N1 -mcpu) |")
print("|---|---|---|---|---|---|---|---|")
G = run(True)
SPLIT = False
G0 = run(False)

print()
print("| per 3-s segment (estimate: the loops above) | Pi 4 ms | Pi 5 ms (A76 / N1 -mcpu) | GMAC/s Pi 4 / Pi 5 (A76 / N1) |")
print("|---|---|---|---|")


def line(name, g, macs=0, bold=False):
    a, c5, c5b = g
    gm = " / ".join(f"{macs / (x * 1e6):.2f}" if x else "-" for x in (a, c5, c5b)) if macs else ""
    s4 = f"{a:.3f}" if a else "-"
    s5 = f"{c5:.3f} / {c5b:.3f}" if c5 else "-"
    if bold:
        name, s4, s5 = f"**{name}**", f"**{s4}**", f"**{s5}**"
    print(f"| {name} | {s4} | {s5} | {gm} |")


def total(groups, names):
    return [sum(groups[g][i] for g in names) for i in range(3)]


FRONT = ["window", "FFT", "mel", "log", "DCT"]
NET = ["conv", "conv epilogue", "affine", "GRU"]
labels = {"window": "window (peak scan + multiply)", "FFT": "FFT (radix-4 stages, last stage, split + power)",
          "mel": "mel sums", "log": "log (table log2, dB, per band)", "DCT": "top_db floor + DCT",
          "conv": "conv micro-kernel as shipped (Pi 4: NEON mull; Pi 5: dotprod sdot)",
          "conv epilogue": "conv requantization epilogue", "affine": "affine (batch norm)", "GRU": "GRU (matvec + gates)"}
for g in FRONT:
    line(labels[g], G[g])
line("front end", total(G, FRONT), bold=True)
for g in NET:
    line(labels[g], G[g], CONV_MACS if g == "conv" else (GRU_MACS if g == "GRU" else 0))
line("network", total(G, NET), CONV_MACS + GRU_MACS, bold=True)
line("per segment: front end + network", total(G, FRONT + NET), bold=True)
line("(the same without splitting the writeback off loads and stores)", total(G0, FRONT + NET))
line("comparison: conv NEON smlal (by-element) micro-kernel", G["conv NEON smlal*"], CONV_MACS)
line("comparison: conv portable micro-kernel", G["conv portable*"], CONV_MACS)
line("comparison: FFT with the portable stage kernel (-DCRNN_FFT_PORTABLE)", G["FFT portable*"])
lo, hi = CONV_MACS / 4.6e9 * 1e3, CONV_MACS / 3.5e9 * 1e3
print(f"| anchor: ncnn int8 on a Pi 4 core, 3.5-4.6 GMAC/s, for the same {CONV_MACS / 1e6:.2f} M conv MAC | "
      f"{lo:.2f}-{hi:.2f} | | 3.5-4.6 |")
EOF
