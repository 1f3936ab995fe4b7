#!/usr/bin/env bash
# Ready-to-copy static binaries of crnn-infer for Raspberry Pi boards, and their check under QEMU (issue 12, items 4-5).
#
#   bash tools/dist.sh [OUT]          writes OUT (default dist/, gitignored): the binaries below, the shipped models,
#                                     the systemd unit and a README; then runs every binary under QEMU user mode on a
#                                     test WAV with each shipped model and checks it prints what the host build prints
#   bash tools/dist.sh --check WORK MODEL HOST_CRNN_INFER WAV...
#                                     firmware-sim's named-CPU step: builds the Pi 4 and Pi 5 binaries into WORK, runs
#                                     them under qemu -cpu cortex-a72 / cortex-a76 on every WAV with MODEL and with
#                                     models/cnn-gru.crnn (whose 32-channel convs take the NEON micro-kernel), and
#                                     compares --json scores and --mfcc CSV byte for byte with HOST_CRNN_INFER.
#                                     Prints `firmware-sim: aarch64-cortex-a72 K/K bit-exact` (and a76); exit 1 on a
#                                     difference.
#
# Binaries (Embedded Swift: CRNNRuntime + Sources/crnn-infer + firmware-sim/EmbeddedMain.swift, compiled by the
# recipes of tools/swiftc.sh, linked statically with the Debian cross gcc exactly as firmware-sim/run does):
#   crnn-infer-aarch64   any 64-bit ARMv8-A (Pi 3, 4, 5, Zero 2 W on a 64-bit OS)
#   crnn-infer-armv7     32-bit Raspberry Pi OS (armhf: Pi 2, 3, 4, 5 on a 32-bit OS)
#   crnn-infer-pi4       -target-cpu cortex-a72 (Pi 4, Pi 400, CM4; 64-bit OS)
#   crnn-infer-pi5       -target-cpu cortex-a76 (Pi 5, CM5; 64-bit OS), plus the dot-product micro-kernel's
#                        condition when the runtime has one (Conv2dS8FastSelect.swift naming CRNN_CONV_DOTPROD)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
say() { echo "dist: $*" >&2; }

need=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user-static)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    say "installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The sources and link line of firmware-sim/run (keep the two in step).
mapfile -t SRC < <(tools/swiftc.sh runtime-sources)
while IFS= read -r f; do [ "$(basename "$f")" = main.swift ] || SRC+=("$f"); done < <(find Sources/crnn-infer -name '*.swift' | LC_ALL=C sort)
SRC+=("$ROOT/firmware-sim/EmbeddedMain.swift")
FLAGS=(-module-name CRNNRuntime -I Sources/CLibc -suppress-warnings)
WRAP="-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign,--wrap=aligned_alloc"

# Extra swiftc flags per variant. Pi 5: dot product when a micro-kernel uses it (needs the clang flag too: without
# it, vdotq_s32 crashes swiftc instead of a diagnostic).
cpu_flags() {
    case $1 in
        aarch64|armv7) ;;
        pi4) echo "-target-cpu cortex-a72" ;;
        pi5)
            local f="-target-cpu cortex-a76"
            if grep -q CRNN_CONV_DOTPROD Sources/CRNNRuntime/Kernels/Conv2dS8FastSelect.swift 2>/dev/null; then
                f+=" -DCRNN_CONV_DOTPROD -Xcc -march=armv8.2-a+dotprod"
            fi
            echo "$f" ;;
    esac
}
qemu_of() {
    case $1 in
        aarch64) echo "qemu-aarch64-static" ;;
        armv7) echo "qemu-arm-static" ;;
        pi4) echo "qemu-aarch64-static -cpu cortex-a72" ;;
        pi5) echo "qemu-aarch64-static -cpu cortex-a76" ;;
    esac
}

build() {  # $1: variant, $2: output binary (the object and IR go beside it)
    local v=$1 out=$2 arch=aarch64
    [ "$v" = armv7 ] && arch=armv7
    # shellcheck disable=SC2046  # the flags are words
    if [ "$arch" = aarch64 ]; then
        tools/swiftc.sh embedded aarch64 "$out.o" "${FLAGS[@]}" $(cpu_flags "$v") -Xcc -I/usr/aarch64-linux-gnu/include "${SRC[@]}"
        aarch64-linux-gnu-gcc -static-pie -O2 firmware-sim/malloc_count.c "$out.o" $WRAP -o "$out"
    else
        tools/swiftc.sh embedded armv7 "$out.o" "${FLAGS[@]}" -Xcc -I/usr/arm-linux-gnueabihf/include \
            -Xcc -mfloat-abi=hard "${SRC[@]}"
        arm-linux-gnueabihf-gcc -static -O2 firmware-sim/malloc_count.c "$out.o" $WRAP -o "$out"
    fi
    rm -f "$out.o" "$out.ll"
}

# Compares one binary under QEMU with the host build on every (model, wav): --json and --mfcc of segment 0.
# Prints "K N" (equal, total).
compare() {  # $1: variant, $2: binary, $3: host crnn-infer, $4: models (space separated), rest: wavs
    local v=$1 bin=$2 host=$3 models=$4; shift 4
    local same=0 total=0 m f q
    read -r -a q <<< "$(qemu_of "$v")"
    for m in $models; do
        for f in "$@"; do
            total=$((total + 1))
            local hj hm
            hj=$("$host" "$m" "$f" --json) && hm=$("$host" "$m" --mfcc "$f" --segment 0) || { say "the host fails on $m $f"; continue; }
            if [ -n "$hj" ] && [ -n "$hm" ] && [ "$("${q[@]}" "$bin" "$m" "$f" --json)" = "$hj" ] &&
               [ "$("${q[@]}" "$bin" "$m" --mfcc "$f" --segment 0)" = "$hm" ]; then
                same=$((same + 1))
            else
                say "$v differs from the host on $m $f"
            fi
        done
    done
    echo "$same $total"
}

if [ "${1:-}" = "--check" ]; then
    [ $# -ge 5 ] || { sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1; }
    WORK=$2 MODEL=$3 HOST=$4; shift 4
    status=0
    # The two compiles in parallel (firmware-sim's run time in CI: this step takes about 40 s on 2 idle cores).
    build pi4 "$WORK/crnn-infer-pi4" & pid4=$!
    build pi5 "$WORK/crnn-infer-pi5" & pid5=$!
    ok=1; wait $pid4 || ok=0; wait $pid5 || ok=0
    [ $ok = 1 ] || { echo "firmware-sim: the Pi 4 / Pi 5 build failed" >&2; exit 1; }
    for v in pi4 pi5; do
        cpu=cortex-a72; [ "$v" = pi5 ] && cpu=cortex-a76
        read -r same total < <(compare "$v" "$WORK/crnn-infer-$v" "$HOST" "$MODEL $ROOT/models/cnn-gru.crnn" "$@")
        echo "firmware-sim: aarch64-$cpu $same/$total bit-exact"
        [ "$same" -eq "$total" ] && [ "$total" -gt 0 ] || status=1
    done
    exit $status
fi

OUT="${1:-dist}"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
for v in aarch64 armv7 pi4 pi5; do
    say "building crnn-infer-$v $(cpu_flags "$v")"
    build "$v" "$OUT/crnn-infer-$v"
done
mkdir -p "$OUT/models"
cp models/cnn-gru.crnn models/cnn-lstm.crnn models/cnn-gru.md models/cnn-lstm.md "$OUT/models/"
# The microphone-rate model (16 kHz), when it has been made (tools/make_shipped_models.sh with RATE=16000).
[ -f models/cnn-gru-16k.crnn ] && cp models/cnn-gru-16k.crnn models/cnn-gru-16k.md "$OUT/models/"
cp tools/pi/crnn-infer.service "$OUT/"

# The check: a generated 7-s test WAV (22050 Hz mono 16-bit; Python's standard library only), every binary, both
# shipped models, against the host build. (firmware-sim/run checks real gtzan-mini clips: tools/dist.sh --check.)
say "building the host crnn-infer (release) for the reference output"
swift build -c release --product crnn-infer >&2
HOST="$(swift build -c release --show-bin-path)/crnn-infer"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
WAV="$TMP/test-chords.wav"
python3 - "$WAV" <<'PY'
import math, random, struct, sys, wave
sr, n, rnd = 22050, 7 * 22050, random.Random(5)
freqs = [110, 220, 277.18, 329.63, 440, 659.26]
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr)
    frames = bytearray()
    for i in range(n):
        t = i / sr
        v = sum(math.sin(2 * math.pi * f * t * (1 + 0.5 * (int(t) % 2))) for f in freqs) / len(freqs)
        v += 0.4 * rnd.uniform(-1, 1) * ((t * 2) % 1 < 0.06)
        frames += struct.pack("<h", max(-32768, min(32767, int(round(v * 20000)))))
    w.writeframes(bytes(frames))
PY
status=0
checks=""
for v in aarch64 armv7 pi4 pi5; do
    read -r same total < <(compare "$v" "$OUT/crnn-infer-$v" "$HOST" "$ROOT/models/cnn-gru.crnn $ROOT/models/cnn-lstm.crnn" "$WAV")
    line="crnn-infer-$v under $(qemu_of "$v"): $same/$total model(s) print the host's scores and MFCC on $(basename "$WAV")"
    echo "dist: $line"
    checks+="    $line"$'\n'
    [ "$same" -eq "$total" ] || status=1
done

{
    cat <<EOF
crnn-infer for Raspberry Pi: static binaries (no libraries needed), built $(date -u +%Y-%m-%d) from commit $(git rev-parse --short HEAD)
by tools/dist.sh ($(tools/swiftc.sh version)).

  crnn-infer-aarch64   any 64-bit Raspberry Pi OS (Pi 3, 4, 5, Zero 2 W): generic ARMv8-A
  crnn-infer-pi4       Pi 4 / Pi 400 / CM4, 64-bit OS: tuned for the Cortex-A72 (-target-cpu cortex-a72)
  crnn-infer-pi5       Pi 5 / CM5, 64-bit OS: tuned for the Cortex-A76 ($(cpu_flags pi5))
  crnn-infer-armv7     32-bit Raspberry Pi OS (armhf), Pi 2 and newer
  models/              the shipped int8 models (cnn-gru.crnn is the default choice) and their model cards
  crnn-infer.service   systemd unit for an always-on classifier from a USB microphone

Which OS do I have?  uname -m  prints aarch64 (64-bit: use -pi4 / -pi5 / -aarch64) or armv7l (use -armv7).
All four give the same scores, bit for bit. A tuned binary on the wrong CPU may stop with "Illegal instruction".

Copy and classify a file (22050 Hz WAV; convert others with: sox in.mp3 -r 22050 -c 1 out.wav):
    scp -r dist pi@raspberrypi.local:crnn
    ssh pi@raspberrypi.local
    ~/crnn/crnn-infer-pi4 ~/crnn/models/cnn-gru.crnn song.wav
    ~/crnn/crnn-infer-pi4 ~/crnn/models/cnn-gru.crnn song.wav --json --top-k 3

Live, from a USB microphone (one line per second, over the last 3 s):
    arecord -f S16_LE -r 22050 -c 1 -t raw | ~/crnn/crnn-infer-pi4 ~/crnn/models/cnn-gru.crnn --stream
    (arecord -l lists the cards; add -D plughw:1,0 for card 1.)
A microphone that records at 16 kHz natively: the 16-kHz model takes its samples as they come:
    arecord -f S16_LE -r 16000 -c 1 -t raw | ~/crnn/crnn-infer-pi4 ~/crnn/models/cnn-gru-16k.crnn --stream

Always on: edit the binary name and the card in crnn-infer.service, then
    sudo cp ~/crnn/crnn-infer.service /etc/systemd/system/ && sudo systemctl enable --now crnn-infer
    journalctl -u crnn-infer -f

Speed: see docs/benchmarks.md in the repository (estimates for Pi 4 / Pi 5; not measured on a board).
Checked under QEMU user mode on the build machine:
EOF
    printf '%s' "$checks"
} > "$OUT/README.txt"
(cd "$OUT" && sha256sum crnn-infer-* models/*.crnn > SHA256SUMS)
say "wrote $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
exit $status
