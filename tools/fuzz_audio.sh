#!/usr/bin/env bash
# Hostile-audio fuzzing of the host decoder (AudioIO: libsndfile + libsoxr) through `crnn-train convert`.
# Writes valid seed files with libsndfile (tools/helpers/fuzz_audio_seeds.c), makes N randomly mutated copies
# (tools/helpers/fuzz_audio_mutate.py: bit flips, truncation, forged header fields, duplicated/deleted ranges), then
# converts each in its own process under a time limit and sorts the outcomes:
#   decoded   exit 0
#   refused   exit 2 with a message naming the file
#   unnamed   exit 2 but the message does not name the file      (a bug)
#   crash     any other status, or killed by a signal            (a bug)
#   hang      still running after the time limit                (a bug)
# and reports the largest peak RSS of one conversion. Finally, all mutated files go into one dataset folder
# for `crnn-train features` (it must finish, skip and name the bad ones).
# Usage: tools/fuzz_audio.sh [N=300] [RNG_SEED=1] [BIN=.build/release/crnn-train] [LIMIT_S=60]
set -u
N=${1:-300}; RNG=${2:-1}; BIN=${3:-.build/release/crnn-train}; LIMIT=${4:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$BIN" ] || { echo "fuzz_audio: $BIN not built (swift build -c release)" >&2; exit 1; }
work=$(mktemp -d /tmp/fuzz-audio.XXXXXX)
trap 'rm -rf "$work"' EXIT
cc "$root/tools/helpers/fuzz_audio_seeds.c" -o "$work/mkseeds" $(pkg-config --cflags --libs sndfile) -lm || exit 1
mkdir -p "$work/seeds" "$work/mut" "$work/out"
"$work/mkseeds" "$work/seeds" >/dev/null || exit 1
python3 "$root/tools/helpers/fuzz_audio_mutate.py" "$work/seeds" "$work/mut" "$N" "$RNG" > "$work/mutations.txt" || exit 1

timer=()
[ -x /usr/bin/time ] && timer=(/usr/bin/time -f "%M" -o "$work/rss")
decoded=0; refused=0; unnamed=0; crash=0; hang=0; maxrss=0; maxrss_file=""; slowest=0; slowest_file=""
while read -r path how; do
  start=$(date +%s%N)
  timeout -s KILL "$LIMIT" "${timer[@]}" "$BIN" convert "$path" --out-dir "$work/out" >"$work/stdout" 2>"$work/stderr"
  st=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if [ "$ms" -gt "$slowest" ]; then slowest=$ms; slowest_file="$path ($how)"; fi
  if [ -s "$work/rss" ]; then
    rss=$(tail -1 "$work/rss" | tr -dc 0-9)
    if [ -n "$rss" ] && [ "$rss" -gt "$maxrss" ]; then maxrss=$rss; maxrss_file="$path ($how)"; fi
    : > "$work/rss"
  fi
  case $st in
    0) decoded=$((decoded + 1)) ;;
    2) if grep -qF "$path" "$work/stderr"; then refused=$((refused + 1))
       else unnamed=$((unnamed + 1)); echo "UNNAMED: $path ($how): $(head -c 300 "$work/stderr")"; fi ;;
    137) hang=$((hang + 1)); echo "HANG (> ${LIMIT} s): $path ($how)"; cp "$path" "/tmp/fuzz-hang-$(basename "$path")" ;;
    *) crash=$((crash + 1)); echo "CRASH (status $st): $path ($how): $(tail -c 300 "$work/stderr")"; cp "$path" "/tmp/fuzz-crash-$(basename "$path")" ;;
  esac
done < "$work/mutations.txt"
echo "fuzz_audio: $N files: decoded $decoded, refused (file named) $refused, unnamed $unnamed, crash $crash, hang $hang"
echo "fuzz_audio: largest peak RSS ${maxrss} kB: $maxrss_file"
echo "fuzz_audio: slowest ${slowest} ms: $slowest_file"

# One dataset folder holding every mutated file and the intact seeds (two genres).
mkdir -p "$work/data/a" "$work/data/b"
i=0
for f in "$work"/mut/*; do
  if [ $((i % 2)) -eq 0 ]; then cp "$f" "$work/data/a/"; else cp "$f" "$work/data/b/"; fi; i=$((i + 1))
done
cp "$work"/seeds/seed* "$work/data/a/"
start=$(date +%s)
timeout -s KILL $((LIMIT * 10)) "$BIN" features --data "$work/data" --out "$work/f.bin" --quiet >"$work/stdout" 2>"$work/stderr"
st=$?
echo "fuzz_audio: dataset of $((i + $(ls "$work"/seeds/seed* | wc -l))) files: exit $st in $(( $(date +%s) - start )) s; $(tail -1 "$work/stdout")"
echo "fuzz_audio: skipped files named: $(grep -c 'warning: skipped' "$work/stderr")"
[ $((unnamed + crash + hang)) -eq 0 ] && [ $st -eq 0 ]
