#!/usr/bin/env bash
# What a mirror that is down costs the server: every client is sent to one
# mirror rule (`* http://127.0.0.1:CLOSED`, a local port nobody listens on),
# and wrk asks for a different blob digest on every request, through a
# trusted proxy (X-Forwarded-For, --xff-hops 1), so each request is a cache
# miss, a mirror check, a refused connection and a redirect upstream. Each
# failed check forgets the mirror's cached answers (docs/mirror-checks.md):
# that used to walk the worker's whole cache (up to 65,536 entries) per
# request (issue 10); it is now one counter increment. Prints requests/s and
# the server's CPU time per request (user+system). The server runs on CPU 0
# with one worker, wrk on CPU 1; traffic stays on 127.0.0.1.
# Usage: bench/mirror_down.sh [SECONDS_PER_ROUND] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-8}
ROUNDS=${2:-3}
CONNS=${CONNS:-64}
make -s build/archeio
TMP=$(mktemp -d /tmp/archeio-bench-down.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 did not open"; exit 1; }

APORT=$(port)
CLOSED=$(port) # bound and closed again: connections to it are refused
UPSTREAM="http://127.0.0.1:$(port)"
printf '* http://127.0.0.1:%s\n' "$CLOSED" >"$TMP/mirrors"
taskset -c 0 build/archeio serve --listen "127.0.0.1:$APORT" --workers 1 --log-level error \
	--mirrors "$TMP/mirrors" --upstream "$UPSTREAM" --trusted-proxy 127.0.0.1/32 --xff-hops 1 &
PIDS+=($!)
ARCHEIO_PID=$!
wait_port "$APORT"

# A digest per request: a per-run random prefix and a counter (distinct is
# what matters: every request misses the cache).
cat >"$TMP/digests.lua" <<'LUA'
math.randomseed(os.time())
local prefix = string.format("%08x", math.random(0, 0x7fffffff))
local n = 0
local headers = {["X-Forwarded-For"] = "203.0.113.7"}
request = function()
  n = n + 1
  return wrk.format("GET", string.format("/v2/pause/blobs/sha256:%s%056x", prefix, n), headers)
end
LUA
loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'X-Forwarded-For: 203.0.113.7' \
	"http://127.0.0.1:$APORT/v2/pause/blobs/sha256:$(printf 'a%.0s' {1..64})")
echo "check: a blob with the mirror down -> $loc"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo "# $ROUNDS rounds x ${DUR}s, $CONNS connections, mirror at 127.0.0.1:$CLOSED refusing, a new digest per request"
for r in $(seq 1 "$ROUNDS"); do
	before=$(cpu_ticks "$ARCHEIO_PID")
	taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" -s "$TMP/digests.lua" "http://127.0.0.1:$APORT/" >"$TMP/wrk.out"
	after=$(cpu_ticks "$ARCHEIO_PID")
	if grep -q "Non-2xx or 3xx" "$TMP/wrk.out"; then echo "non-3xx answers!"; cat "$TMP/wrk.out"; exit 1; fi
	rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/wrk.out")
	reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
	echo "round $r: $rps req/s, server CPU $(python3 -c "print(f'{($after - $before) * 1e6 / $(getconf CLK_TCK) / $reqs:.1f}')") us/request ($reqs requests)"
done
