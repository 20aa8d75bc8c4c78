#!/usr/bin/env bash
# make bench-scale: `compare --parallel 120` over 120 lab pairs (240 instances) from one
# controller (issue 11). Brings up a lab of its own (profile bench-scale, a unique name), runs
# compare from the lab's controller while sampling its threads and open files every 0.2 s, prints
# the status line, the run summary, wall, peak RSS, peak threads and peak fds, and takes the lab
# down, also on failure. BENCH_LOG=FILE keeps the --verbose log (every remote command, its duration).
set -euo pipefail
BIN=${1:?usage: bench-scale.sh BIN_DIR [PROFILE] [PARALLEL]}
PROFILE=${2:-bench-scale}
PARALLEL=${3:-120}
cd "$(dirname "$0")/.."
. scripts/lib-lab.sh
lab_begin bench-scale "bs$$"
lab_scratch
up0=$(date +%s.%N)
lab_up "$PROFILE" >/dev/null
up1=$(date +%s.%N)
start=$(date +%s.%N)
lab_compare --results-dir "$OUT/results" --report "$OUT/report.md" --parallel "$PARALLEL" ${BENCH_LOG:+--verbose} --quiet \
  >"$OUT/stdout" 2>"$OUT/stderr" &
runner=$!
# The compare process: the descendant of the runner whose command line is `cloudbench compare`.
find_compare() {
  local p
  for p in $(ls /proc | grep -E '^[0-9]+$'); do
    [ -r "/proc/$p/cmdline" ] || continue
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q "^$BIN/cloudbench compare /run/cloudbench-lab/$LAB/"; then echo "$p"; return; fi
  done
}
pid=""; threads=0; fds=0; rss=0
while kill -0 "$runner" 2>/dev/null; do
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || pid=$(find_compare || true)
  if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
    t=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    h=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    f=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
    [ "${t:-0}" -gt "$threads" ] && threads=$t
    [ "${h:-0}" -gt "$rss" ] && rss=$h
    [ "${f:-0}" -gt "$fds" ] && fds=$f
  fi
  sleep 0.2
done
status=0
wait "$runner" || status=$?
end=$(date +%s.%N)
grep -E '^run summary|cells have no result|^host ' "$OUT/stdout" || true
oks=$(grep -c '"status":"ok"' "$OUT"/results/*.jsonl 2>/dev/null || echo 0)
printf 'bench-scale: %s pairs, lab up %.1f s; compare wall %.1f s, %s ok records, peak RSS %d MB, peak threads %d, peak fds %d (exit %d)\n' \
  "$(grep -c '^  - ' "lab/profiles/$PROFILE.yaml" 2>/dev/null || echo "?")" \
  "$(awk "BEGIN { print $up1 - $up0 }")" "$(awk "BEGIN { print $end - $start }")" "$oks" $((rss / 1024)) "$threads" "$fds" "$status"
if [ -n "${BENCH_LOG:-}" ]; then cp "$OUT/stderr" "$BENCH_LOG"; fi
[ $status -eq 0 ] || tail -20 "$OUT/stderr" >&2
exit $status
