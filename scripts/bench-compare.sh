#!/usr/bin/env bash
# make bench-compare: the orchestration overhead of `compare` (issue 11). Brings up a lab of its
# own (profile bench-compare, a unique name), runs `compare --parallel 2 --verbose` from the lab's
# controller, prints the run summary (ideal, wall, overhead) and takes the lab down, also on failure.
set -euo pipefail
BIN=${1:?usage: bench-compare.sh BIN_DIR [PROFILE] [PARALLEL]}
PROFILE=${2:-bench-compare}
PARALLEL=${3:-2}
cd "$(dirname "$0")/.."
. scripts/lib-lab.sh
lab_begin bench-compare "bc$$"
lab_scratch
lab_up "$PROFILE" >/dev/null
status=0
lab_compare --results-dir "$OUT/results" --report "$OUT/report.md" --parallel "$PARALLEL" --verbose \
  >"$OUT/stdout" 2>"$OUT/log" || status=$?
grep -v '^report:' "$OUT/stdout" || true
if [ -n "${BENCH_LOG:-}" ]; then cp "$OUT/log" "$BENCH_LOG"; fi
[ $status -eq 0 ] || tail -20 "$OUT/log" >&2
exit $status
