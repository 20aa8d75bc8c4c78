#!/bin/sh
# Measures `cloudbench prices refresh --provider aws` on a synthetic offer file of SIZE_MB megabytes
# served from loopback: wall time and the cloudbench process's peak RSS.
# usage: bench_offer_file.sh CLOUDBENCH_BINARY [SIZE_MB]
set -eu
BIN=$1
SIZE=${2:-300}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
WORK=$(mktemp -d)
SERVER=""
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM
cp "$ROOT"/providers/*.yaml "$WORK/"
python3 "$HERE/make_offer_file.py" "$WORK/offer.json" "$SIZE"
printf '{"routes":[{"path":"/offers/v1.0/aws/AmazonEC2/current/us-east-1/index.json","responses":[{"file":"%s"}]}]}' \
  "$WORK/offer.json" > "$WORK/scenario.json"
python3 "$HERE/fixture_server.py" "$WORK/scenario.json" "$WORK/log" "$WORK/port" &
SERVER=$!
i=0; while [ ! -s "$WORK/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
echo "offer file: $(wc -c < "$WORK/offer.json") bytes"
CLOUDBENCH_AWS_PRICES_URL="http://127.0.0.1:$(cat "$WORK/port")" python3 - "$BIN" "$WORK" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
r = subprocess.run([sys.argv[1], "prices", "refresh", "--provider", "aws", "--type", "t3.micro", "--catalog", sys.argv[2]],
                   capture_output=True, text=True)
print(r.stdout.strip() or r.stderr.strip())
print("seconds %.2f  peak RSS %.1f MB" % (time.monotonic() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024))
sys.exit(r.returncode)
PY
