#!/usr/bin/env bash
# Start the local mode on a free loopback port with a fresh data directory,
# run the load generator against it (passing it the server's pid for RSS),
# and stop the server. Extra arguments go to the load generator.
#
#   scripts/bench-load.sh -n 2000 -c 16
#   BACKEND=memory scripts/bench-load.sh -n 2000 -c 16
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mkdir -p bin
go build -o bin/local ./cmd/local
go build -o bin/loadgen ./cmd/loadgen

data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export ADDR=127.0.0.1:$port DATA_DIR=$data LOG_LEVEL=${LOG_LEVEL:-warn}
bin/local 2>"$data/server.log" &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT

for _ in $(seq 100); do
	curl -fso /dev/null "http://$ADDR/" -X OPTIONS 2>/dev/null && break
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
# 16: the local mode's default (local.DefaultWorkers in internal/local/app.go).
echo "server: pid $server on $ADDR, BACKEND=${BACKEND:-bolt}, WORKERS=${WORKERS:-16}" >&2
status=0
bin/loadgen -url "http://$ADDR" -pid "$server" "$@" || status=$?
if [ "$status" -ne 0 ]; then
	echo "--- server log (last lines) ---" >&2
	tail -n 20 "$data/server.log" >&2
fi
exit "$status"
