#!/usr/bin/env bash
# Our device path against librosa + LiteRT, side by side in ONE run, one thread, per 3-s segment of a real clip
# (issue 12, item 6). Prints markdown tables (docs/benchmarks.md "Device path vs librosa + LiteRT").
#
#   bash tools/bench_device_path.sh [--model models/cnn-gru] [--runs 51] [--rounds 15] [--clip FILE]
#                                   [--json-out FILE] [--no-build]
#
# 1. A Python venv under ${CRNN_BENCH_CACHE:-~/.cache/crnn-bench}/venv with the pinned reference requirements
#    (tools/reference/requirements-librosa.txt + requirements-keras.txt), made with pip on first use and remade when
#    those files change. The int8 .tflite of the model's checkpoint is cached there too.
# 2. Two release builds of crnn-infer: portable (`swift build -c release`, .build) and for this machine's CPU
#    (`swift build -c release $(tools/native-flags.sh)`, scratch path .build-native).
# 3. The clip: ../shared/data/gtzan-mini/blues/blues.00000.flac when gtzan-mini exists (or --clip FILE), else a
#    generated 30-s signal (the output says which; `--clip generated` forces it), written as 22050 Hz mono 16-bit WAV: both sides read it.
# 4. tools/reference/device_path_bench.py times everything in interleaved rounds and prints the tables and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CACHE="${CRNN_BENCH_CACHE:-$HOME/.cache/crnn-bench}"
MODEL=models/cnn-gru RUNS=51 ROUNDS=15 CLIP="" JSON_OUT="" BUILD=1
while [ $# -gt 0 ]; do
    case $1 in
        --model) MODEL=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --clip) CLIP=$2; shift 2 ;;
        --json-out) JSON_OUT=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 1 ;;
    esac
done
say() { echo "bench_device_path: $*" >&2; }

# --- 1. venv ---------------------------------------------------------------------------------------------------------
REQS=(tools/reference/requirements-librosa.txt tools/reference/requirements-keras.txt)
VENV="$CACHE/venv"
stamp=$(cat "${REQS[@]}" | sha256sum | cut -c1-16)
if [ "$(cat "$VENV/.crnn-reqs" 2>/dev/null)" != "$stamp" ]; then
    say "making the Python venv $VENV (pip install -r ${REQS[*]}; a few minutes the first time)"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "${REQS[0]}" -r "${REQS[1]}"
    echo "$stamp" > "$VENV/.crnn-reqs"
fi

# --- 2. builds -------------------------------------------------------------------------------------------------------
NATIVE_FLAGS=$(bash tools/native-flags.sh)
if [ "$BUILD" = 1 ]; then
    say "swift build -c release --product crnn-infer"
    swift build -c release --product crnn-infer >&2
    say "swift build -c release --product crnn-infer --scratch-path .build-native $NATIVE_FLAGS"
    # shellcheck disable=SC2086  # the flags are words
    swift build -c release --product crnn-infer --scratch-path .build-native $NATIVE_FLAGS >&2
fi
PORTABLE="$ROOT/.build/release/crnn-infer" NATIVE="$ROOT/.build-native/release/crnn-infer"
for b in "$PORTABLE" "$NATIVE"; do [ -x "$b" ] || { say "$b is not built (run without --no-build)"; exit 1; }; done

# --- 3. the clip -----------------------------------------------------------------------------------------------------
mkdir -p "$CACHE/clips"
GTZAN="$ROOT/../shared/data/gtzan-mini"
if [ -z "$CLIP" ] && [ -f "$GTZAN/blues/blues.00000.flac" ]; then CLIP="$GTZAN/blues/blues.00000.flac"; fi
if [ -n "$CLIP" ] && [ "$CLIP" != generated ]; then
    WAV="$CACHE/clips/$(basename "${CLIP%.*}").wav"
    NOTE="real music: $CLIP, decoded and resampled to 22050 Hz mono 16-bit by librosa.load"
    "$VENV/bin/python" - "$CLIP" "$WAV" <<'EOF'
import sys, numpy as np, librosa, soundfile
y, _ = librosa.load(sys.argv[1], sr=22050, mono=True)
soundfile.write(sys.argv[2], np.clip(np.round(y * 32768), -32768, 32767).astype(np.int16), 22050, subtype="PCM_16")
EOF
else
    WAV="$CACHE/clips/generated.wav"
    why="../shared/data/gtzan-mini is absent"; [ "$CLIP" = generated ] && why="--clip generated"
    NOTE="GENERATED signal, not music ($why): 30 s of chords, a bass line and noise bursts"
    "$VENV/bin/python" - "$WAV" <<'EOF'
import sys, numpy as np, soundfile
sr, n = 22050, 30 * 22050
t = np.arange(n) / sr
rng = np.random.default_rng(12)
y = np.zeros(n)
for k, f in enumerate([220, 277.2, 329.6, 196, 246.9, 293.7]):
    y += 0.08 * np.sin(2 * np.pi * f * t + k) * (1 + np.sign(np.sin(2 * np.pi * 0.25 * t + k)))
y += 0.15 * np.sin(2 * np.pi * 55 * (1 + (t.astype(int) % 4) / 4) * t)
beat = (t * 2) % 1 < 0.05
y += 0.3 * rng.standard_normal(n) * beat
soundfile.write(sys.argv[1], np.clip(np.round(y / np.abs(y).max() * 0.8 * 32767), -32768, 32767).astype(np.int16), sr,
                subtype="PCM_16")
EOF
fi

# --- 4. the benchmark -------------------------------------------------------------------------------------------------
say "portable build: $PORTABLE; native build ($NATIVE_FLAGS): $NATIVE"
say "timing: $ROUNDS rounds x median of $RUNS calls (about 10 s per round on an idle machine)"
args=(--wav "$WAV" --clip-note "$NOTE" --model "$MODEL" --runs "$RUNS" --rounds "$ROUNDS" --cache "$CACHE"
      --build "portable=$PORTABLE" --build "native=$NATIVE")
[ -n "$JSON_OUT" ] && args+=(--json-out "$JSON_OUT")
echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Package.swift || echo ' + uncommitted changes in Sources'); swift: $(swift --version 2>&1 | head -1)"
echo "native flags: $NATIVE_FLAGS"
"$VENV/bin/python" tools/reference/device_path_bench.py "${args[@]}"
