#!/usr/bin/env bash
# Long-stream check of `crnn-infer MODEL --stream`: HOURS of synthetic PCM (tools/helpers/pcm_gen.c, generated on the
# fly, nothing stored) piped into the release crnn-infer; prints the peak resident set (VmHWM from
# /proc/<pid>/status) once 1 minute of audio has been classified and at the end, the windows classified and
# the wall time. Constant memory means the two peaks are equal (to a few pages).
# With --pause AT SECONDS the producer stops writing for SECONDS after AT seconds of audio; the script then
# also runs the same PCM without a pause and checks that every window line is identical.
# Usage: tools/long_stream.sh [HOURS=8] [--model models/cnn-gru.crnn] [--bin .build/release/crnn-infer]
#                             [--hop SECONDS] [--pause AT SECONDS]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
hours=8; model="$root/models/cnn-gru.crnn"; bin="$root/.build/release/crnn-infer"; hop=1; pause_at=""; pause_s=""
while [ $# -gt 0 ]; do
  case $1 in
    --model) model=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --hop) hop=$2; shift 2 ;;
    --pause) pause_at=$2; pause_s=$3; shift 3 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) hours=$1; shift ;;
  esac
done
[ -x "$bin" ] || { echo "long_stream: $bin not built (swift build -c release --product crnn-infer)" >&2; exit 1; }
[ -f "$model" ] || { echo "long_stream: no model $model" >&2; exit 1; }
command -v cc >/dev/null || { echo "long_stream: needs a C compiler (cc)" >&2; exit 1; }
work=$(mktemp -d /tmp/long-stream.XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 "$root/tools/helpers/pcm_gen.c" -o "$work/pcm_gen" -lm || exit 1
seconds=$(awk -v h="$hours" 'BEGIN { printf "%.3f", h * 3600 }')
rate=22050

hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# user + system CPU seconds of a process so far (fields 14 and 15 of /proc/PID/stat, in clock ticks).
cpu() { awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / t }' "/proc/$1/stat" 2>/dev/null; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# run_stream OUT ERR [PAUSE_AT PAUSE_S]: the pipeline, sampled every 0.2 s. Sets pid_hwm_1min, pid_hwm_end.
run_stream() {
  local out=$1 err=$2; shift 2
  mkfifo "$work/pcm.fifo"
  "$work/pcm_gen" "$seconds" "$rate" "$@" > "$work/pcm.fifo" &
  local gen=$!
  "$bin" "$model" --stream --hop "$hop" --stats < "$work/pcm.fifo" > "$out" 2> "$err" &
  local pid=$!
  hwm_1min=""; hwm_end=""; rss_end=""; cpu_end=""
  # Windows whose end is at or after 60 s of audio: the window index k ends at 3 s + k * hop.
  local k1=$(awk -v h="$hop" 'BEGIN { k = (60 - 3) / h; print (k == int(k)) ? k + 1 : int(k) + 2 }')
  while kill -0 "$pid" 2>/dev/null; do
    local h=$(hwm "$pid")
    local r=$(rss "$pid") c=$(cpu "$pid")
    [ -n "$h" ] && hwm_end=$h
    [ -n "$r" ] && rss_end=$r
    [ -n "$c" ] && [ "$c" != "0.0" -o -z "$cpu_end" ] && cpu_end=$c
    if [ -z "$hwm_1min" ] && [ -n "$h" ] && [ "$(wc -l < "$out")" -ge "$k1" ]; then hwm_1min=$h; fi
    sleep 0.2
  done
  wait "$pid"; local st=$?
  wait "$gen"
  rm -f "$work/pcm.fifo"
  return $st
}

start=$(date +%s.%N)
run_stream "$work/out" "$work/err" ${pause_at:+"$pause_at" "$pause_s"}
st=$?
wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
[ $st -eq 0 ] || { echo "long_stream: crnn-infer exit $st"; tail -5 "$work/err"; exit 1; }
windows=$(grep -c '^window ' "$work/out")
stats=$(grep -o 'max RSS [0-9]* kB' "$work/err")
echo "long_stream: $hours h of PCM at $rate Hz ($(awk -v s="$seconds" -v r=$rate 'BEGIN { printf "%.0f", s * r }') samples), hop $hop s${pause_at:+, pause of $pause_s s after $pause_at s}"
echo "long_stream: peak RSS after 1 min of audio: ${hwm_1min:-?} kB; at the end: ${hwm_end:-?} kB (VmHWM), VmRSS ${rss_end:-?} kB; crnn-infer --stats: $stats"
echo "long_stream: windows classified: $windows; wall time ${wall} s ($(awk -v s="$seconds" -v w="$wall" 'BEGIN { printf "%.0f", s / w }')x real time); crnn-infer CPU (user+sys, last sample) ${cpu_end:-?} s"
echo "long_stream: $(tail -1 "$work/out")"
status=0
if [ -n "$hwm_1min" ] && [ -n "$hwm_end" ] && [ $((hwm_end - hwm_1min)) -gt 1024 ]; then
  echo "long_stream: FAIL: peak RSS grew by $((hwm_end - hwm_1min)) kB after the first minute"; status=1
fi
if [ -n "$pause_at" ]; then
  run_stream "$work/out2" "$work/err2" || { echo "long_stream: the run without a pause failed"; exit 1; }
  if cmp -s "$work/out" "$work/out2"; then
    echo "long_stream: with and without the ${pause_s}-s pause: all $windows window lines identical"
  else
    echo "long_stream: FAIL: the paused stream differs from the unpaused one:"; diff "$work/out" "$work/out2" | head -5; status=1
  fi
fi
exit $status
