#!/usr/bin/env bash
# Side-by-side throughput, latency, CPU and memory: archeio vs the nginx
# configuration an operator would write instead (bench/nginx_geo.py: geo
# longest-prefix + map + return 307, pcre_jit on, no mirror checks). Same
# machine, same run, alternating rounds; the server on CPU 0, wrk on CPU 1, one
# worker each (WORKERS=2: archeio --workers 2 and nginx worker_processes 2, both
# with one SO_REUSEPORT socket per worker, and no CPU pinning: servers and wrk
# share the cores). Traffic stays on 127.0.0.1. Clients come through a load balancer
# at 127.0.0.1 that appends the address it saw to X-Forwarded-For (two entries:
# one the client claimed, one the balancer appended; both servers trust the last).
# Before anything is timed, every system must answer every scenario with the
# same status and Location, or the run stops (CHECK_ONLY=1: stop after that).
# BASELINE=PATH: another archeio binary (e.g. main's build) runs beside them
# with the same flags ("before"), so a change is measured side by side.
# Usage: [WORKERS=N] [BASELINE=PATH] bench/run.sh [SECONDS_PER_ROUND] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-8}
ROUNDS=${2:-3}
CONNS=${CONNS:-64}
WORKERS=${WORKERS:-1}
# One worker: the server alone on CPU 0, wrk on CPU 1. More: no split.
SERVER_PIN=(taskset -c 0) WRK_PIN=(taskset -c 1)
[ "$WORKERS" -eq 1 ] || SERVER_PIN=() WRK_PIN=()
DATA=../shared/data
BUILD=${BUILD:-build}
BASELINE=${BASELINE:-}
[ -n "${NO_MAKE:-}" ] || make -s "$BUILD/archeio"
TMP=$(mktemp -d /tmp/archeio-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 did not open"; exit 1; }

MPORT=$(port); APORT=$(port); NPORT=$(port); BPORT=$(port)
UPSTREAM="http://127.0.0.1:$(port)"
MIRROR="http://127.0.0.1:$MPORT"
sed -E "s#https://([^[:space:]]+)#$MIRROR/\1#" "$DATA/registry-k8s-io.mirrors" >"$TMP/mirrors"
DIGEST="sha256:$(printf 'a%.0s' {1..64})"
BLOB="/v2/pause/blobs/$DIGEST"
mkdir -p "$TMP/mirror/tmp" "$TMP/ngx/tmp"
# Every mirror holds the blob, so archeio's checks say yes and both servers
# redirect to the same mirror.
for host in $(awk '$2 ~ /^https:/ {sub("https://", "", $2); print $2}' "$DATA/registry-k8s-io.mirrors" | sort -u); do
	mkdir -p "$TMP/www/$host/containers/images"
	echo blob >"$TMP/www/$host/containers/images/$DIGEST"
done
cat >"$TMP/mirror/nginx.conf" <<NGINX
daemon off; worker_processes 1; user root; pid $TMP/mirror/pid; error_log $TMP/mirror/error.log;
events { worker_connections 256; }
http { access_log off; client_body_temp_path $TMP/mirror/tmp; proxy_temp_path $TMP/mirror/tmp;
  fastcgi_temp_path $TMP/mirror/tmp; uwsgi_temp_path $TMP/mirror/tmp; scgi_temp_path $TMP/mirror/tmp;
  server { listen 127.0.0.1:$MPORT; root $TMP/www; } }
NGINX
nginx -c "$TMP/mirror/nginx.conf" -p "$TMP/mirror" & PIDS+=($!)
python3 bench/nginx_geo.py "$DATA" "$TMP/mirrors" "$UPSTREAM" "$NPORT" "$TMP/ngx" |
	sed -e "s/^worker_processes 1;/worker_processes $WORKERS;/" \
		-e "s/listen 127.0.0.1:$NPORT;/listen 127.0.0.1:$NPORT reuseport;/" >"$TMP/ngx/nginx.conf"
"${SERVER_PIN[@]}" nginx -c "$TMP/ngx/nginx.conf" -p "$TMP/ngx" 2>"$TMP/ngx/stderr" & PIDS+=($!)
serve() { # BINARY PORT (run with &: the exec makes $! the server itself)
	exec "${SERVER_PIN[@]}" "$1" serve --listen "127.0.0.1:$2" --workers "$WORKERS" --log-level warn \
		--ranges "$DATA/aws-ip-ranges.json" --ranges "$DATA/gcp-cloud.json" --ranges "$DATA/azure-service-tags.json" \
		--mirrors "$TMP/mirrors" --upstream "$UPSTREAM" --trusted-proxy 127.0.0.1/32 --xff-hops 1
}
serve "$BUILD/archeio" "$APORT" & PIDS+=($!)
ARCHEIO_PID=$!
SYSTEMS=(archeio nginx)
if [ -n "$BASELINE" ]; then
	serve "$BASELINE" "$BPORT" & PIDS+=($!)
	BEFORE_PID=$!
	SYSTEMS+=(before)
	wait_port "$BPORT"
fi
wait_port "$MPORT"; wait_port "$NPORT"; wait_port "$APORT"
NGINX_MASTER=$(cat "$TMP/ngx/nginx.pid")
sleep 0.5 # nginx forks its workers after the port opens
NGINX_WORKERS=$(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')

# Scenarios: NAME PATH CLIENT... (the client address the balancer appends;
# 203.0.113.9 is what every client claims in the first entry). Several clients
# rotate per request. AWS: us-east-1, eu-west-1, ap-northeast-1; GCP:
# africa-south1 (to upstream); 192.0.2.7 is in no provider's ranges ('*').
SCENARIOS=(
	"v2 /v2/ 3.2.0.10"
	"manifest /v2/pause/manifests/3.9 3.2.0.10"
	"blob-gcp $BLOB 34.35.1.1"
	"blob-aws $BLOB 3.2.0.10 54.247.1.1 54.248.1.1"
	"blob-unlisted $BLOB 192.0.2.7"
)
xff() { echo "203.0.113.9, $1"; }
wrk_script() { # FILE CLIENT...: a wrk script rotating the X-Forwarded-For per request
	local file=$1 list="" c
	shift
	for c in "$@"; do list+="\"$(xff "$c")\", "; done
	if [ $# -eq 1 ]; then
		echo "wrk.headers[\"X-Forwarded-For\"] = \"$(xff "$1")\"" >"$file"
	else
		cat >"$file" <<LUA
local xffs = { $list }
local i = 0
request = function()
	i = i % #xffs + 1
	wrk.headers["X-Forwarded-For"] = xffs[i]
	return wrk.format()
end
LUA
	fi
}
answer() { curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H "X-Forwarded-For: $(xff "$2")" "http://127.0.0.1:$1$3"; }

# Fairness: every system, every scenario, every client: the same answer.
MISMATCH=0
for s in "${SCENARIOS[@]}"; do
	read -r name path clients <<<"$s"
	for c in $clients; do
		a=$(answer "$APORT" "$c" "$path"); n=$(answer "$NPORT" "$c" "$path")
		b=$n
		[ -z "$BASELINE" ] || b=$(answer "$BPORT" "$c" "$path")
		if [ "$a" == "$n" ] && [ "$b" == "$n" ]; then
			echo "same answer: $name client $c -> $a"
		else
			echo "DIFFERENT answers: $name client $c: archeio '$a', nginx '$n', before '$b'"
			MISMATCH=1
		fi
	done
done
echo "(the Go archeio is not in this run: no Go toolchain on this machine and no network to fetch one)"
[ "$MISMATCH" -eq 0 ] || { echo "systems answer differently: not timing them"; exit 1; }
[ -z "${CHECK_ONLY:-}" ] || exit 0

# CPU time (user+system, clock ticks) of the process serving the port: with
# wrk near its own limit, CPU per request tells the servers apart better than req/s.
# PIDS: the server's processes (nginx: its workers), summed.
cpu_ticks() { local t=0 p; for p in $1; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
run() { # NAME PORT PATH PIDS SCRIPT -> req/s, p99 (ms), server CPU microseconds per request
	local before after
	before=$(cpu_ticks "$4")
	"${WRK_PIN[@]}" wrk -t1 -c"$CONNS" -d"${DUR}s" --latency -s "$5" "http://127.0.0.1:$2$3" >"$TMP/wrk.out"
	after=$(cpu_ticks "$4")
	local rps p99 reqs
	rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/wrk.out")
	p99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.out")
	reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
	if grep -q "Non-2xx or 3xx" "$TMP/wrk.out"; then echo "$1: non-3xx answers!"; cat "$TMP/wrk.out"; exit 1; fi
	echo "$1 $rps $p99 $(python3 -c "print(($after - $before) * 1e6 / $(getconf CLK_TCK) / $reqs)")"
}
rss_kb() { ps -o rss= -p "$1" | tr -d ' '; }
# nginx's master and its worker: the worker's command line is "nginx: worker
# process", so matching on the configuration path would miss it.
nginx_rss_kb() { local total=0 p; for p in "$NGINX_MASTER" $(pgrep -P "$NGINX_MASTER"); do total=$((total + $(rss_kb "$p"))); done; echo "$total"; }

if [ "$WORKERS" -eq 1 ]; then
	echo "# $ROUNDS rounds x ${DUR}s, $CONNS connections, one worker each, server on CPU 0, wrk on CPU 1"
else
	echo "# $ROUNDS rounds x ${DUR}s, $CONNS connections, $WORKERS workers each (SO_REUSEPORT), no CPU pinning"
fi
for s in "${SCENARIOS[@]}"; do
	read -r name path clients <<<"$s"
	# shellcheck disable=SC2086 # clients is a list
	wrk_script "$TMP/$name.lua" $clients
	for _ in $(seq 1 "$ROUNDS"); do
		run "archeio" "$APORT" "$path" "$ARCHEIO_PID" "$TMP/$name.lua" >>"$TMP/results.$name"
		run "nginx" "$NPORT" "$path" "$NGINX_WORKERS" "$TMP/$name.lua" >>"$TMP/results.$name"
		[ -z "$BASELINE" ] || run "before" "$BPORT" "$path" "$BEFORE_PID" "$TMP/$name.lua" >>"$TMP/results.$name"
	done
	python3 - "$TMP/results.$name" "$name" "${SYSTEMS[@]}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def ms(v):
    return float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-1]) * 1000
med = {}
for name in sys.argv[3:]:
    rps = [float(r[1]) for r in rows if r[0] == name]
    p99 = [ms(r[2]) for r in rows if r[0] == name]
    cpu = [float(r[3]) for r in rows if r[0] == name]
    med[name] = (statistics.median(rps), statistics.median(p99), statistics.median(cpu))
    print(f"{sys.argv[2]:14} {name:8} median {med[name][0]:>10.0f} req/s  p99 {med[name][1]:.2f} ms  "
          f"CPU {med[name][2]:.2f} us/req  (req/s rounds: {' '.join(str(int(x)) for x in rps)})")
for name in (n for n in sys.argv[3:] if n != "nginx"):
    print(f"{'':14} ratio {name}/nginx: throughput {med[name][0] / med['nginx'][0]:.2f}x, "
          f"p99 {med[name][1] / med['nginx'][1]:.2f}x, CPU per request {med[name][2] / med['nginx'][2]:.2f}x")
PY
done
echo "memory after load: archeio RSS $(rss_kb "$ARCHEIO_PID") KiB; nginx master+workers RSS $(nginx_rss_kb) KiB"
