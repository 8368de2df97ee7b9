#!/usr/bin/env bash
# Slowloris beside normal clients (the long run; tests/integration/test_slowloris.sh
# is the short one in the test command). CONNS connections (default 500) each
# trickle a request head one byte a second while normal clients make fresh-
# connection requests on the same single worker; prints idle and loaded
# latency percentiles and how the trickling connections ended (408 expected at
# --header-timeout-ms, the default 10 s). Loopback only.
# Usage: bench/slowloris.sh [MEASURE_SECONDS] (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-20}
CONNS=${CONNS:-500}
make -s build/archeio
ulimit -n 8192
TMP=$(mktemp -d /tmp/archeio-slowloris.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf '127.0.0.0/8 lab one\n' >"$TMP/ranges.txt"
printf '*\tupstream\n' >"$TMP/mirrors"
build/archeio serve --listen "127.0.0.1:$PORT" --ranges "$TMP/ranges.txt" --mirrors "$TMP/mirrors" \
	--upstream http://127.0.0.1:9 --upstream-path "" --workers 1 >"$TMP/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do grep -qs "listening on" "$TMP/server.log" && break; sleep 0.05; done
python3 tests/lib/slowloris.py 127.0.0.1 "$PORT" /v2/pause/manifests/3.9 "$CONNS" "$SECONDS_EACH" \
	$((SECONDS_EACH + 12)) | python3 -m json.tool
