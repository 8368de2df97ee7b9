#!/usr/bin/env bash
# SIGHUP reload of all three provider range files (issue 13): the CPU time of
# one reload, and the p50/p99 of requests while the server reloads back to
# back vs idle (bench/reload.py). The server on CPU 0 with one worker, wrk on
# CPU 1 (one thread, CONNS connections) asking for a manifest through a
# trusted balancer for a client in aws ap-northeast-2. Loopback only.
# Usage: bench/reload.sh [RELOADS] [SECONDS] [ROUNDS]   (defaults 20 5 3)
#   ARCHEIO=path compares another build; PAUSE_MS: rest between reloads (50).
set -euo pipefail
cd "$(dirname "$0")/.."
RELOADS=${1:-20}
SECONDS_EACH=${2:-5}
ROUNDS=${3:-3}
CONNS=${CONNS:-16}
DATA=../shared/data
ARCHEIO=${ARCHEIO:-build/archeio}
[ "$ARCHEIO" != build/archeio ] || make -s build/archeio
TMP=$(mktemp -d /tmp/archeio-reload.XXXXXX)
SERVER=
cleanup() { [ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(port)
sed -E "s#https://([^[:space:]]+)#http://127.0.0.1:1/\1#" "$DATA/registry-k8s-io.mirrors" >"$TMP/mirrors"
taskset -c 0 "$ARCHEIO" serve --listen "127.0.0.1:$PORT" --workers 1 --log-level info \
	--ranges "$DATA/aws-ip-ranges.json" --ranges "$DATA/gcp-cloud.json" \
	--ranges "$DATA/azure-service-tags.json" --mirrors "$TMP/mirrors" \
	--upstream "http://127.0.0.1:$(port)" --trusted-proxy 127.0.0.1/32 --xff-hops 1 \
	2>"$TMP/log" &
SERVER=$!
for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
python3 bench/reload.py "$SERVER" "$TMP/log" "http://127.0.0.1:$PORT/v2/pause/manifests/3.9" \
	"$RELOADS" "$SECONDS_EACH" "$ROUNDS" -t1 -c"$CONNS" -H "X-Forwarded-For: 3.5.140.1"
