#!/usr/bin/env bash
# c-api/check.sh: builds the C API (libcrnn.a, c-api/build.sh) for x86-64, aarch64 and armv7 hard-float, links
# examples/c/classify.c and c-api/test_api.c with gcc and the Debian cross gccs (static for the ARM targets), runs
# them natively and under QEMU user mode, and checks that the C API gives crnn-infer's answers bit for bit:
#
#   - `classify --json` prints exactly the lines of `crnn-infer MODEL --stream --json` (every window's Q15 scores,
#     genre, clip estimate and confidence, as crnn-infer prints them) with the same exit status, for every input;
#   - `classify --raw` (every window's Q15 probabilities and int8 logits at full precision, the clip's Q15 means)
#     is identical on aarch64 and armv7 to x86-64;
#   - test_api's checks pass on every architecture (status codes, chunking, reset, two handles, heap).
#
# Each architecture pushes with a different chunk size (1 sample, random 1..4999, 1000), so the equality also says
# that chunking does not matter. Inputs (c-api/make_inputs.c): 7 generated signals (one partial segment, one too
# short) plus the first clip of every gtzan-mini genre (6 s) when ../shared/data/gtzan-mini exists; one input is
# also streamed with a 0.5-s hop. Model: models/cnn-gru.crnn (override with MODEL=...).
#
#   c-api/check.sh        (from anywhere; needs Swift 6.x; installs the apt packages it lacks)
#
# Then the Cortex-M: libcrnn-cortex-m.a linked with examples/c/cortex_m_classify.c and firmware-sim/cortex-m's board
# services into a bare-metal image (model and audio in flash, pushed 512 samples at a time), run under
# qemu-system-arm (mps2-an500, Cortex-M7); its lines must equal `crnn-infer MODEL --stream --json` on the same PCM.
#
# Prints `c-api: x86_64 N/N, aarch64 N/N, armv7 N/N identical to crnn-infer` and
# `c-api: cortex-m7 L/L lines identical to crnn-infer ...`, and exits non-zero on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK="${WORK:-$(mktemp -d)}"
mkdir -p "$WORK"
MODEL="${MODEL:-$ROOT/models/cnn-gru.crnn}"

# --- Packages ---------------------------------------------------------------------------------------------------
need=(libsndfile1-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user-static
      gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Host crnn-infer (the reference) -------------------------------------------------------------------------------
swift build -c release --product crnn-infer >&2
BIN="$(swift build -c release --show-bin-path)"
start=$SECONDS

# --- Inputs ---------------------------------------------------------------------------------------------------------
GTZAN="$ROOT/../shared/data/gtzan-mini"
mkdir -p "$WORK/inputs"
gcc -std=c11 -Wall -Wextra -Werror -O2 c-api/make_inputs.c -lsndfile -lsoxr -lm -o "$WORK/make_inputs"
if [ -d "$GTZAN" ]; then "$WORK/make_inputs" "$WORK/inputs" "$GTZAN"; else "$WORK/make_inputs" "$WORK/inputs"; fi
# A case: input name and hop in microseconds (crnn-infer --hop in seconds).
cases=()
for f in "$WORK"/inputs/*.wav; do cases+=("$(basename "$f" .wav):1000000"); done
cases+=("gen-chirp-6s:500000")

# --- Libraries (one whole-module Embedded Swift compile each, run side by side) and programs -----------------------
# (REUSE_LIBS=1 keeps the libraries already in $WORK/lib: for iterating on the C side only.)
archs=(x86_64 aarch64 armv7 cortex-m)
if [ "${REUSE_LIBS:-0}" != 1 ]; then
    pids=()
    for arch in "${archs[@]}"; do
        c-api/build.sh "$arch" "$WORK/lib" > "$WORK/build-$arch.log" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || { cat "$WORK"/build-*.log >&2; echo "c-api: library build failed" >&2; exit 1; }
    done
fi
CFLAGS=(-std=c11 -Wall -Wextra -Werror -O2 -Ic-api/include)
gcc "${CFLAGS[@]}" examples/c/classify.c examples/c/crnn_print.c "$WORK/lib/libcrnn-x86_64.a" -o "$WORK/classify-x86_64"
gcc "${CFLAGS[@]}" -DCOUNT_HEAP c-api/test_api.c "$WORK/lib/libcrnn-x86_64.a" -pthread -Wl,--wrap=posix_memalign,--wrap=free \
    -o "$WORK/test_api-x86_64"
aarch64-linux-gnu-gcc "${CFLAGS[@]}" -static examples/c/classify.c examples/c/crnn_print.c "$WORK/lib/libcrnn-aarch64.a" -o "$WORK/classify-aarch64"
aarch64-linux-gnu-gcc "${CFLAGS[@]}" -static c-api/test_api.c "$WORK/lib/libcrnn-aarch64.a" -pthread -o "$WORK/test_api-aarch64"
arm-linux-gnueabihf-gcc "${CFLAGS[@]}" -static examples/c/classify.c examples/c/crnn_print.c "$WORK/lib/libcrnn-armv7.a" -o "$WORK/classify-armv7"
arm-linux-gnueabihf-gcc "${CFLAGS[@]}" -static c-api/test_api.c "$WORK/lib/libcrnn-armv7.a" -pthread -o "$WORK/test_api-armv7"
# The Cortex-M images: the example, the library and firmware-sim/cortex-m's startup, board services and linker script;
# the model and the audio go to flash through flash_data.S (one image per model). Audio: the first real clip (else
# the 6-s chirp) back to back with 2 s of the pulse train, so that the stream ends with a partial window; for the
# microphone-rate model (MODEL16, default models/cnn-gru-16k.crnn, when it exists) the same audio resampled to
# 16 kHz with libsoxr.
CM=firmware-sim/cortex-m
MCPU=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16)  # runs on the M7 too (a superset)
mkdir -p "$WORK/cortex-m-obj"
for src in examples/c/cortex_m_classify.c examples/c/crnn_print.c "$CM/board.c" "$CM/startup.c"; do
    arm-none-eabi-gcc "${MCPU[@]}" -std=c11 -Wall -Wextra -O2 -ffunction-sections -fdata-sections -Ic-api/include -I"$CM" \
        -c "$src" -o "$WORK/cortex-m-obj/$(basename "$src" .c).o"
done
cm_input=$(ls "$WORK"/inputs/gtzan-*.raw 2>/dev/null | head -1)
[ -n "$cm_input" ] || cm_input="$WORK/inputs/gen-chirp-6s.raw"
cm_image() {  # $1: folder name, $2: model, $3: rate; writes $WORK/$1/{model.crnn,pcm.s16,classify.elf}
    local d="$WORK/$1"
    mkdir -p "$d"
    cp "$2" "$d/model.crnn"
    { cat "$cm_input"; head -c $((2 * 22050 * 2)) "$WORK/inputs/gen-pulses-8s.raw"; } > "$d/pcm22050.s16"
    if [ "$3" = 22050 ]; then mv "$d/pcm22050.s16" "$d/pcm.s16"
    else "$WORK/make_inputs" --resample "$3" "$d/pcm22050.s16" "$d/pcm.s16"; fi
    arm-none-eabi-gcc "${MCPU[@]}" -DCM_INPUTS=1 -Wa,-I"$d" -c "$CM/flash_data.S" -o "$d/flash_data.o"
    arm-none-eabi-gcc "${MCPU[@]}" --specs=nano.specs -nostartfiles -T "$CM/mps2.ld" -Wl,--gc-sections -Wl,--no-enum-size-warning \
        -Wl,--no-warn-rwx-segments -Wl,--no-warn-execstack "$WORK"/cortex-m-obj/*.o "$d/flash_data.o" "$WORK/lib/libcrnn-cortex-m.a" \
        -lc -lgcc -o "$d/classify.elf"
}
MODEL16="${MODEL16:-$ROOT/models/cnn-gru-16k.crnn}"
cm_runs=("cortex-m:$MODEL:22050")
[ -f "$MODEL16" ] && cm_runs+=("cortex-m-16k:$MODEL16:16000")
for r in "${cm_runs[@]}"; do IFS=: read -r dir model rate <<< "$r"; cm_image "$dir" "$model" "$rate"; done
built=$SECONDS

# --- Reference: crnn-infer --stream --json on the raw PCM ------------------------------------------------------
mkdir -p "$WORK/host"
for c in "${cases[@]}"; do
    name=${c%%:*} us=${c##*:}
    hop=$(printf '%d.%06d' $((us / 1000000)) $((us % 1000000)))
    rc=0
    "$BIN/crnn-infer" "$MODEL" --stream --json --hop "$hop" < "$WORK/inputs/$name.raw" > "$WORK/host/$name-$us.json" 2>/dev/null || rc=$?
    echo "$rc" > "$WORK/host/$name-$us.rc"
done

# --- The C API on each architecture ---------------------------------------------------------------------------
run_arch() {  # $1: arch; classify every case, split JSON from raw lines
    local arch=$1 prefix=() extra=()
    case $arch in
        x86_64) extra=(--chunk 1) ;;
        aarch64) prefix=(qemu-aarch64-static); extra=(--chunk 0 --library-arena) ;;
        armv7) prefix=(qemu-arm-static); extra=(--chunk 1000) ;;
    esac
    mkdir -p "$WORK/$arch"
    for c in "${cases[@]}"; do
        local name=${c%%:*} us=${c##*:} rc=0
        "${prefix[@]}" "$WORK/classify-$arch" "$MODEL" "$WORK/inputs/$name.wav" --json --raw --hop-us "$us" "${extra[@]}" \
            > "$WORK/$arch/$name-$us.out" 2>"$WORK/$arch/$name-$us.err" || rc=$?
        echo "$rc" > "$WORK/$arch/$name-$us.rc"
        grep '^{' "$WORK/$arch/$name-$us.out" > "$WORK/$arch/$name-$us.json" || true
        grep -v '^{' "$WORK/$arch/$name-$us.out" > "$WORK/$arch/$name-$us.raw" || true
    done
    "${prefix[@]}" "$WORK/test_api-$arch" "$MODEL" "$WORK/inputs/gen-pulses-8s.raw" > "$WORK/$arch/test_api.out" 2>&1 \
        || echo failed >> "$WORK/$arch/test_api.out"
}
run_arch x86_64 &
p1=$!
run_arch aarch64 &
p2=$!
run_arch armv7
wait $p1 $p2

status=0
line="c-api:"
for arch in x86_64 aarch64 armv7; do
    same=0
    for c in "${cases[@]}"; do
        name=${c%%:*} us=${c##*:} k="$name-$us"
        if cmp -s "$WORK/host/$k.json" "$WORK/$arch/$k.json" && cmp -s "$WORK/host/$k.rc" "$WORK/$arch/$k.rc" \
            && cmp -s "$WORK/x86_64/$k.raw" "$WORK/$arch/$k.raw"; then
            same=$((same + 1))
        else
            echo "c-api: $arch differs from crnn-infer (or from x86_64's integers) on $name, hop $us us (files in $WORK)" >&2
            diff "$WORK/host/$k.json" "$WORK/$arch/$k.json" | head -4 >&2 || true
        fi
    done
    if ! grep -q "checks passed" "$WORK/$arch/test_api.out" || grep -q "FAILED\|failed" "$WORK/$arch/test_api.out"; then
        echo "c-api: test_api failed on $arch:" >&2
        cat "$WORK/$arch/test_api.out" >&2
        status=1
    fi
    [ "$same" -eq "${#cases[@]}" ] || status=1
    line="$line $arch $same/${#cases[@]},"
done
# The Cortex-M7 images against crnn-infer on the same PCM (the semihosting output goes to a file).
cortex_m=()
for r in "${cm_runs[@]}"; do
    IFS=: read -r dir model rate <<< "$r"
    d="$WORK/$dir"
    "$BIN/crnn-infer" "$model" --stream --json < "$d/pcm.s16" > "$d/host.json" 2>/dev/null || true
    cm_rc=0
    timeout 600 qemu-system-arm -M mps2-an500 -display none -monitor none -serial none \
        -semihosting-config enable=on,target=native,chardev=sh0 -chardev file,id=sh0,path="$d/m7.out" \
        -kernel "$d/classify.elf" || cm_rc=$?
    grep '^#' "$d/m7.out" > "$d/m7.memory" || true
    grep -v '^#' "$d/m7.out" > "$d/m7.json" || true
    cm_lines=$(wc -l < "$d/host.json")
    cm_same=$(awk 'NR == FNR { h[FNR] = $0; next } h[FNR] == $0 { n++ } END { print n + 0 }' "$d/host.json" "$d/m7.json")
    if [ "$cm_rc" -ne 0 ] || ! cmp -s "$d/host.json" "$d/m7.json" || [ "$cm_lines" -lt 2 ]; then
        echo "c-api: cortex-m7 image ($(basename "$model") at $rate Hz) differs from crnn-infer (exit $cm_rc; files in $d):" >&2
        diff "$d/host.json" "$d/m7.json" | head -4 >&2 || true
        status=1
    fi
    # RAM in all: the heap's high-water mark + the stack's painted peak + static data (.data + .bss).
    cm_static=$(arm-none-eabi-size -A "$d/classify.elf" | awk '$1 == ".data" || $1 == ".bss" { s += $2 } END { print s + 0 }')
    cm_heap=$(sed -n 's/^# heap high-water \([0-9]*\) .*/\1/p' "$d/m7.memory")
    cm_stack=$(sed -n 's/.*stack peak \([0-9]*\) bytes.*/\1/p' "$d/m7.memory")
    cm_ram=$(( ${cm_heap:-0} + ${cm_stack:-0} + cm_static ))
    cortex_m+=("c-api: cortex-m7 $(basename "$model") at $rate Hz: $cm_same/$cm_lines lines identical to crnn-infer, ram $cm_ram bytes (examples/c/cortex_m_classify.c + libcrnn-cortex-m.a, qemu-system-arm mps2-an500, $(basename "$cm_input" .raw) + 2 s, pushed 512 samples at a time; code $(arm-none-eabi-size -A "$d/classify.elf" | awk '$1 == ".text" {print $2}') bytes; $(sed 's/^# //' "$d/m7.memory"), static $cm_static bytes)")
done
windows=$(cat "$WORK"/host/*.json | grep -c '"window"' || true)
sed 's/^/c-api: x86_64 /' "$WORK/x86_64/test_api.out"
printf '%s\n' "${cortex_m[@]}"
echo "c-api: $windows windows in ${#cases[@]} streams; libraries and programs built in $((built - start)) s, whole check $((SECONDS - start)) s"
echo "${line%,} identical to crnn-infer"
exit $status
