#!/usr/bin/env bash
# HTTPS side by side: archeio vs nginx with the same certificate (EC P-256,
# made here), protocols (TLS 1.2 + 1.3), Mozilla intermediate ciphers, session
# tickets and a session cache, answering the same manifest redirect. Same
# machine, same run, alternating rounds; each server on CPU 0 with one worker,
# the client on CPU 1. Traffic stays on 127.0.0.1.
#   new connections (full handshake):  openssl s_time -new, one request each
#   resumed connections:               openssl s_time -reuse (TLS 1.3 tickets,
#                                      and TLS 1.2 with -tls1_2)
#   keep-alive requests over TLS:       h2load --h1, 64 connections
# Reported per scenario: rate, and the server's CPU time per connection or
# request (user+system from /proc, the figure that separates servers when the
# client is the limit). Usage: bench/tls.sh [SECONDS_PER_ROUND] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-5}
ROUNDS=${2:-3}
make -s build/archeio
source tests/lib/make-certs.sh
TMP=$(mktemp -d /tmp/archeio-tlsbench.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 did not open"; exit 1; }

make_ca "$TMP/certs" >/dev/null
make_cert "$TMP/certs" server "DNS:registry.test,IP:127.0.0.1" >/dev/null
CRT="$TMP/certs/server.crt" KEY="$TMP/certs/server.key" CA="$TMP/certs/ca.crt"
APORT=$(port); NPORT=$(port)
UPSTREAM="http://127.0.0.1:$(port)"
PATH_M="/v2/pause/manifests/3.9"
WANT="$UPSTREAM/v2/k8s-artifacts-prod/images/pause/manifests/3.9"

mkdir -p "$TMP/ngx/tmp"
cat >"$TMP/ngx/nginx.conf" <<NGINX
daemon off; worker_processes 1; user root; pid $TMP/ngx/nginx.pid; error_log $TMP/ngx/error.log;
events { worker_connections 4096; }
http {
  access_log off; client_body_temp_path $TMP/ngx/tmp; proxy_temp_path $TMP/ngx/tmp;
  fastcgi_temp_path $TMP/ngx/tmp; uwsgi_temp_path $TMP/ngx/tmp; scgi_temp_path $TMP/ngx/tmp;
  server {
    listen 127.0.0.1:$NPORT ssl;
    ssl_certificate $CRT; ssl_certificate_key $KEY;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
    ssl_session_cache shared:SSL:10m; ssl_session_tickets on; ssl_session_timeout 1d;
    location ~ ^/v2/(?<repo>.+)/manifests/(?<ref>[^/]+)$ {
      return 307 $UPSTREAM/v2/k8s-artifacts-prod/images/\$repo/manifests/\$ref;
    }
  }
}
NGINX
taskset -c 0 nginx -c "$TMP/ngx/nginx.conf" -p "$TMP/ngx" 2>"$TMP/ngx/stderr" & PIDS+=($!)
taskset -c 0 build/archeio serve --listen "127.0.0.1:$APORT" --tls-cert "$CRT" --tls-key "$KEY" \
	--workers 1 --log-level warn --upstream "$UPSTREAM" --default-mirror "$UPSTREAM" \
	--info-url http://127.0.0.1/ --privacy-url http://127.0.0.1/p 2>"$TMP/archeio.log" & PIDS+=($!)
ARCHEIO_PID=$!
wait_port "$NPORT"; wait_port "$APORT"
NGINX_WORKER=$(pgrep -P "$(cat "$TMP/ngx/nginx.pid")" | head -1)

# Both answer the same redirect over the same TLS before anything is timed.
for p in "$APORT" "$NPORT"; do
	got=$(curl -s -o /dev/null --cacert "$CA" -w '%{http_code} %{redirect_url}' "https://127.0.0.1:$p$PATH_M")
	[ "$got" = "307 $WANT" ] || { echo "port $p answers '$got', want '307 $WANT'"; exit 1; }
	echo "check :$p -> $got"
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
us_per() { python3 -c "print(f'{($2 - $1) * 1e6 / $(getconf CLK_TCK) / max($3, 1):.1f}')"; }

# s_time NAME PORT PID S_TIME_ARGS... -> "NAME conn/s us/conn"
s_time() {
	local name=$1 port=$2 pid=$3 before after out conns
	shift 3
	before=$(cpu_ticks "$pid")
	out=$(taskset -c 1 openssl s_time -connect "127.0.0.1:$port" "$@" -time "$DUR" -www "$PATH_M" -CAfile "$CA" 2>&1)
	after=$(cpu_ticks "$pid")
	conns=$(echo "$out" | awk '/connections in [0-9.]+s/ {print $1; exit}')
	echo "$name $(python3 -c "print(f'{$conns / $DUR:.0f}')") $(us_per "$before" "$after" "$conns")"
}
# keepalive NAME PORT PID -> "NAME req/s us/req p99?"
keepalive() {
	local before after out reqs rps
	before=$(cpu_ticks "$3")
	out=$(taskset -c 1 h2load --h1 -c 64 -D "$DUR" "https://127.0.0.1:$2$PATH_M" 2>&1)
	after=$(cpu_ticks "$3")
	reqs=$(echo "$out" | awk '/^requests:/ {print $8}')
	rps=$(echo "$out" | awk '/^finished in/ {print $4}')
	echo "$out" | grep -q '3xx' || true
	echo "$1 ${rps%.*} $(us_per "$before" "$after" "$reqs") $(echo "$out" | awk '/^requests:/ {print $10 "fail"}')"
}

echo "# $ROUNDS rounds x ${DUR}s; server on CPU 0 (1 worker), client on CPU 1"
declare -A ARGS=([new]="-new" [reuse]="-reuse" [reuse12]="-reuse -tls1_2")
for scenario in new reuse reuse12 keepalive; do
	: >"$TMP/res"
	for _ in $(seq 1 "$ROUNDS"); do
		if [ "$scenario" = keepalive ]; then
			keepalive archeio "$APORT" "$ARCHEIO_PID" >>"$TMP/res"
			keepalive nginx "$NPORT" "$NGINX_WORKER" >>"$TMP/res"
		else
			# shellcheck disable=SC2086 # ARGS holds several words on purpose
			s_time archeio "$APORT" "$ARCHEIO_PID" ${ARGS[$scenario]} >>"$TMP/res"
			# shellcheck disable=SC2086
			s_time nginx "$NPORT" "$NGINX_WORKER" ${ARGS[$scenario]} >>"$TMP/res"
		fi
	done
	python3 - "$TMP/res" "$scenario" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
unit = {"new": "full handshakes/s", "reuse": "resumed/s (1.3)", "reuse12": "resumed/s (1.2)",
        "keepalive": "requests/s"}[sys.argv[2]]
per = "conn" if sys.argv[2] != "keepalive" else "req"
med = {}
for name in ("archeio", "nginx"):
    rate = [float(r[1]) for r in rows if r[0] == name]
    cpu = [float(r[2]) for r in rows if r[0] == name]
    med[name] = (statistics.median(rate), statistics.median(cpu))
    print(f"{sys.argv[2]:9} {name:8} {med[name][0]:>9.0f} {unit:18} server CPU {med[name][1]:7.1f} us/{per}"
          f"  (rounds: {' '.join(str(int(x)) for x in rate)})")
print(f"{'':9} ratio archeio/nginx: rate {med['archeio'][0] / med['nginx'][0]:.2f}x, "
      f"CPU per {per} {med['archeio'][1] / med['nginx'][1]:.2f}x")
PY
done
