#!/usr/bin/env bash
# Side-by-side throughput, latency and memory: archeio vs the nginx
# configuration an operator would write instead (bench/nginx_geo.py: geo
# longest-prefix + map + return 307, no mirror checks). Same machine, same
# run, alternating rounds; the server on CPU 0, wrk on CPU 1, one worker each.
# Traffic stays on 127.0.0.1. Usage: bench/run.sh [SECONDS_PER_ROUND] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-8}
ROUNDS=${2:-3}
CONNS=${CONNS:-64}
DATA=../shared/data
make -s build/archeio
TMP=$(mktemp -d /tmp/archeio-bench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 did not open"; exit 1; }

MPORT=$(port); APORT=$(port); NPORT=$(port)
UPSTREAM="http://127.0.0.1:$(port)"
MIRROR="http://127.0.0.1:$MPORT"
sed -E "s#https://([^[:space:]]+)#$MIRROR/\1#" "$DATA/registry-k8s-io.mirrors" >"$TMP/mirrors"
DIGEST="sha256:$(printf 'a%.0s' {1..64})"
USE1=$(awk '$1 == "aws:us-east-1" {print $2}' "$DATA/registry-k8s-io.mirrors" | sed 's#https://##')
mkdir -p "$TMP/www/$USE1/containers/images" "$TMP/mirror/tmp" "$TMP/ngx/tmp"
echo blob >"$TMP/www/$USE1/containers/images/$DIGEST"
cat >"$TMP/mirror/nginx.conf" <<NGINX
daemon off; worker_processes 1; user root; pid $TMP/mirror/pid; error_log $TMP/mirror/error.log;
events { worker_connections 256; }
http { access_log off; client_body_temp_path $TMP/mirror/tmp; proxy_temp_path $TMP/mirror/tmp;
  fastcgi_temp_path $TMP/mirror/tmp; uwsgi_temp_path $TMP/mirror/tmp; scgi_temp_path $TMP/mirror/tmp;
  server { listen 127.0.0.1:$MPORT; root $TMP/www; } }
NGINX
nginx -c "$TMP/mirror/nginx.conf" -p "$TMP/mirror" & PIDS+=($!)
python3 bench/nginx_geo.py "$DATA" "$TMP/mirrors" "$UPSTREAM" "$NPORT" "$TMP/ngx" >"$TMP/ngx/nginx.conf"
taskset -c 0 nginx -c "$TMP/ngx/nginx.conf" -p "$TMP/ngx" 2>"$TMP/ngx/stderr" & PIDS+=($!)
taskset -c 0 build/archeio serve --listen "127.0.0.1:$APORT" --workers 1 --log-level warn \
	--ranges "$DATA/aws-ip-ranges.json" --ranges "$DATA/gcp-cloud.json" --ranges "$DATA/azure-service-tags.json" \
	--mirrors "$TMP/mirrors" --upstream "$UPSTREAM" --trusted-proxy 127.0.0.1/32 --xff-hops 1 & PIDS+=($!)
ARCHEIO_PID=$!
wait_port "$MPORT"; wait_port "$NPORT"; wait_port "$APORT"
NGINX_WORKER=$(pgrep -P "$(cat "$TMP/ngx/nginx.pid")" | head -1)

cat >"$TMP/xff.lua" <<'LUA'
wrk.headers["X-Forwarded-For"] = "15.230.221.1"
LUA
# Sanity: both answer the same redirect before anything is measured.
for p in "$APORT" "$NPORT"; do
	loc=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'X-Forwarded-For: 15.230.221.1' "http://127.0.0.1:$p/v2/pause/blobs/$DIGEST")
	echo "check :$p blob -> $loc"
done

# CPU time (user+system, clock ticks) of the process serving the port: with
# wrk near its own limit, CPU per request tells the servers apart better than req/s.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # NAME PORT PATH PID -> req/s, p99 (ms), server CPU microseconds per request
	local before after
	before=$(cpu_ticks "$4")
	taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" --latency -s "$TMP/xff.lua" "http://127.0.0.1:$2$3" >"$TMP/wrk.out"
	after=$(cpu_ticks "$4")
	local rps p99 reqs
	rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/wrk.out")
	p99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.out")
	reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
	if grep -q "Non-2xx or 3xx" "$TMP/wrk.out"; then echo "$1: non-3xx answers!"; cat "$TMP/wrk.out"; exit 1; fi
	echo "$1 $rps $p99 $(python3 -c "print(($after - $before) * 1e6 / $(getconf CLK_TCK) / $reqs)")"
}
rss_kb() { ps -o rss= -p "$1" | tr -d ' '; }
nginx_rss_kb() { local total=0; for p in $(pgrep -f "nginx.*$TMP/ngx"); do total=$((total + $(ps -o rss= -p "$p"))); done; echo "$total"; }

echo "# $ROUNDS rounds x ${DUR}s, $CONNS connections, server on CPU 0, wrk on CPU 1"
for path in "/v2/pause/manifests/3.9" "/v2/pause/blobs/$DIGEST"; do
	for r in $(seq 1 "$ROUNDS"); do
		run "archeio" "$APORT" "$path" "$ARCHEIO_PID" >>"$TMP/results.$(basename "$path" | cut -c1-8)"
		run "nginx" "$NPORT" "$path" "$NGINX_WORKER" >>"$TMP/results.$(basename "$path" | cut -c1-8)"
	done
	python3 - "$TMP/results.$(basename "$path" | cut -c1-8)" "$path" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def ms(v):
    return float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-1]) * 1000
med = {}
for name in ("archeio", "nginx"):
    rps = [float(r[1]) for r in rows if r[0] == name]
    p99 = [ms(r[2]) for r in rows if r[0] == name]
    cpu = [float(r[3]) for r in rows if r[0] == name]
    med[name] = (statistics.median(rps), statistics.median(p99), statistics.median(cpu))
    print(f"{sys.argv[2][:40]:40} {name:8} median {med[name][0]:>10.0f} req/s  p99 {med[name][1]:.2f} ms  "
          f"CPU {med[name][2]:.2f} us/req  (req/s rounds: {' '.join(str(int(x)) for x in rps)})")
print(f"{'':40} ratio archeio/nginx: throughput {med['archeio'][0] / med['nginx'][0]:.2f}x, "
      f"p99 {med['archeio'][1] / med['nginx'][1]:.2f}x, CPU per request {med['archeio'][2] / med['nginx'][2]:.2f}x")
PY
done
echo "memory after load: archeio RSS $(rss_kb "$ARCHEIO_PID") KiB; nginx master+worker RSS $(nginx_rss_kb) KiB"
