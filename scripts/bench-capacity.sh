#!/usr/bin/env bash
# Capacity: the load generator's open-loop sweep (jobs arrive at a fixed
# rate, each polled every $POLL until final; a rate is sustained when every
# job finishes and the p99 time to result is at most $OBJECTIVE) against the
# local mode as `make run` starts it (durable, a fresh data directory, on a
# free loopback port), and, with SEED=1, then against the tutorial's stack
# ($SEED_STACK: start.sh, stop.sh; it listens on 127.0.0.1:8000). Prints
# each sweep and the ratio of the highest sustained rates.
#
#   scripts/bench-capacity.sh
#   SEED=1 scripts/bench-capacity.sh
#   RATES=500,1000,2000 DURATION=5s BACKEND=memory scripts/bench-capacity.sh
#
# Each sweep starts with a $WARMUP (3s) run at its first rate that is not
# reported.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

RATES=${RATES:-250,500,1000,1500,2000,2500,3000,3500,4000,4500,5000,6000,8000}
SEED_RATES=${SEED_RATES:-50,100,150,200,250,300,400,500,600,800}
DURATION=${DURATION:-10s}
POLL=${POLL:-10ms}
OBJECTIVE=${OBJECTIVE:-250ms}
SEED_STACK=${SEED_STACK:-$(cd .. && pwd)/shared/seed-stack}

mkdir -p bin
go build -o bin/local ./cmd/local
go build -o bin/loadgen ./cmd/loadgen

work=$(mktemp -d)
server= seed_started=
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	if [ -n "$seed_started" ]; then SEED_RUN_DIR=$work/seed "$SEED_STACK/stop.sh" >/dev/null 2>&1 || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

WARMUP=${WARMUP:-3s}

sweep() { # label url json rates [loadgen flags...]
	local label=$1 url=$2 json=$3 rates=$4; shift 4
	echo "=== $label: $url"
	# A warm-up at the first rate, not reported: connections, worker pools
	# and caches start cold.
	bin/loadgen -url "$url" -rate "${rates%%,*}" -duration "$WARMUP" -poll "$POLL" -verify=false -json "" "$@" >/dev/null || true
	echo "(load average: $(cut -d' ' -f1-3 /proc/loadavg))"
	bin/loadgen -url "$url" -duration "$DURATION" -poll "$POLL" -objective-p99 "$OBJECTIVE" -json "$json" -sweep "$rates" "$@"
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/data"
ADDR=127.0.0.1:$port DATA_DIR=$work/data bin/local 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
sweep "make run (BACKEND=${BACKEND:-bolt}, pid $server)" "http://127.0.0.1:$port" "$work/ours.json" "$RATES"
kill "$server"; wait "$server" 2>/dev/null || true; server=

if [ "${SEED:-}" != 1 ]; then
	echo "(SEED=1 also measures the tutorial's stack and prints the ratio)"
	exit 0
fi
mkdir -p "$work/seed"
seed_started=1
SEED_RUN_DIR=$work/seed "$SEED_STACK/start.sh"
# The tutorial's answers carry no number and its check has known defects:
# no -check.
sweep "the tutorial's stack ($SEED_STACK)" "http://127.0.0.1:8000" "$work/seed.json" "$SEED_RATES" -check=false
python3 - "$work/ours.json" "$work/seed.json" <<'PY'
import json, sys
ours, seed = (json.load(open(p)) for p in sys.argv[1:3])
def rate(r):  # a sweep that sustained every rate found a floor, not its limit
    return r["max_sustained_per_s"], ("at least " if r["limit_above"] else "")
(o, o_floor), (s, s_floor) = rate(ours), rate(seed)
ratio = f"{o / s:.1f}×" if s else "n/a (the tutorial's stack sustained none of its rates)"
if s and (o_floor or s_floor):
    ratio += " (a sweep sustained every rate it ran: add rates to find its limit)"
print(f"highest sustained: {o_floor}{o:.0f} jobs/s (make run) vs {s_floor}{s:.0f} jobs/s (tutorial's stack): {ratio}")
PY
