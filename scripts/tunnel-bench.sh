#!/usr/bin/env bash
# The cost of the user-space UDP tunnel (the `udp` path): tcp_bw through `cloudbench-agent tunnel`
# between two network namespaces joined by a veth pair, RUNS times, each run printing the
# receiver's rate and the MB carried per CPU-second of the two tunnel processes (less sensitive to
# the machine's load than the rate). MODE `auth` (the default) is the authenticated tunnel (MTU
# 1448 on the 1500-byte veth); `plain` runs an agent from before tunnel authentication (MTU 1472).
# Everything it creates (namespaces, veth, processes) is removed on exit. Needs root.
set -euo pipefail
AGENT=${1:?usage: tunnel-bench.sh AGENT [auth|plain] [RUNS]}
MODE=${2:-auth}
RUNS=${3:-5}
DUR=${DUR:-5}
case "$MODE" in auth) MTU=1448 ;; plain) MTU=1472 ;; *) echo "tunnel-bench.sh: MODE is auth or plain" >&2; exit 2 ;; esac
T=tb$$
A=${T}a B=${T}b
OUT=$(mktemp -d /tmp/cloudbench-tunnel-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  ip netns del "$A" 2>/dev/null || true
  ip netns del "$B" 2>/dev/null || true
  rm -rf "$OUT"
}
trap cleanup EXIT
ip netns add "$A"; ip netns add "$B"
ip link add ${T}x type veth peer name ${T}y
ip link set ${T}x netns "$A"; ip link set ${T}y netns "$B"
ip -n "$A" addr add 10.231.150.1/24 dev ${T}x; ip -n "$A" link set ${T}x up; ip -n "$A" link set lo up
ip -n "$B" addr add 10.231.150.2/24 dev ${T}y; ip -n "$B" link set ${T}y up; ip -n "$B" link set lo up
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $MODE tunnel, MTU $MTU, $RUNS runs of tcp_bw ${DUR} s"
for run in $(seq "$RUNS"); do
  KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  echo "$KEY" | ip netns exec "$A" "$AGENT" tunnel --device cbtun0 --local 10.231.150.1:8285 --peer 10.231.150.2:8285 \
    --address 10.254.253.1/30 --mtu $MTU --deadline 120 2>"$OUT/a.log" &
  ta=$!
  echo "$KEY" | ip netns exec "$B" "$AGENT" tunnel --device cbtun0 --local 10.231.150.2:8285 --peer 10.231.150.1:8285 \
    --address 10.254.253.2/30 --mtu $MTU --deadline 120 2>"$OUT/b.log" &
  tb=$!
  sleep 1
  echo tok-bench | ip netns exec "$B" "$AGENT" serve --listen 10.254.253.2:5201 --deadline 60 --token-stdin 2>/dev/null &
  sv=$!
  pids=($ta $tb $sv)
  sleep 1
  ip netns exec "$A" "$AGENT" run --server 10.254.253.2:5201 --token tok-bench --test tcp_bw --duration "$DUR" --warmup 1 --json >"$OUT/run.json"
  ticks=0
  for p in $ta $tb; do ticks=$((ticks + $(awk '{print $14+$15}' /proc/$p/stat))); done
  python3 - "$OUT/run.json" $ticks "$DUR" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); rate = j["receiver_bytes_per_second"]; d = float(sys.argv[3]) + 1
cpu = int(sys.argv[2]) / 100.0
mb = rate * d / 1e6
print("%.1f MB/s; tunnels' CPU %.2f s for ~%.0f MB: %.1f MB per CPU-second" % (rate / 1e6, cpu, mb, mb / cpu if cpu else 0))
PY
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  pids=()
done
