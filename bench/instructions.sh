#!/usr/bin/env bash
# Instructions per request in userspace, archeio vs nginx, counted by
# callgrind (deterministic: the same on a loaded or an idle machine, unlike
# req/s on this noisy VM). Collection is switched on only after start-up, for a
# fixed number of keep-alive requests sent by bench/fixed_requests.py.
# Usage: [PROFILE_DIR=DIR] [MAX_MANIFEST=N] [MAX_BLOB=N] bench/instructions.sh [REQUESTS]
# (loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
DATA=../shared/data
make -s build/archeio
TMP=$(mktemp -d /tmp/archeio-instr.XXXXXX)
chmod 755 "$TMP"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 600); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open"; exit 1; }
DIGEST="sha256:$(printf 'a%.0s' {1..64})"
MPORT=$(port); APORT=$(port); NPORT=$(port); UPSTREAM="http://127.0.0.1:$(port)"
# The production mirror table, every bucket/CDN a directory of one local
# mirror holding the blob (for archeio's one HEAD; later answers come from its
# cache). The client (15.230.221.1) is in aws us-east-1.
mkdir -p "$TMP/ngx/tmp"
for host in $(awk '$2 ~ /^https:/ {sub("https://", "", $2); print $2}' "$DATA/registry-k8s-io.mirrors" | sort -u); do
	mkdir -p "$TMP/www/$host/containers/images"
	echo blob >"$TMP/www/$host/containers/images/$DIGEST"
done
(cd "$TMP/www" && exec python3 -m http.server "$MPORT" --bind 127.0.0.1 >/dev/null 2>&1) & PIDS+=($!)
sed -E "s#https://([^[:space:]]+)#http://127.0.0.1:$MPORT/\1#" "$DATA/registry-k8s-io.mirrors" >"$TMP/mirrors"
python3 bench/nginx_geo.py "$DATA" "$TMP/mirrors" "$UPSTREAM" "$NPORT" "$TMP/ngx" >"$TMP/ngx/nginx.conf"
sed -i 's/^daemon off;/daemon off;\nmaster_process off;/' "$TMP/ngx/nginx.conf"

valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$TMP/archeio.cg" \
	build/archeio serve --listen "127.0.0.1:$APORT" --workers 1 --log-level warn \
	--ranges "$DATA/aws-ip-ranges.json" --ranges "$DATA/gcp-cloud.json" --ranges "$DATA/azure-service-tags.json" \
	--mirrors "$TMP/mirrors" --upstream "$UPSTREAM" --trusted-proxy 127.0.0.1/32 --xff-hops 1 \
	>/dev/null 2>&1 & PIDS+=($!); APID=$!
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$TMP/nginx.cg" \
	nginx -c "$TMP/ngx/nginx.conf" -p "$TMP/ngx" >/dev/null 2>&1 & PIDS+=($!); NPID=$!
wait_port "$MPORT"; wait_port "$APORT"; wait_port "$NPORT"

measure() { # NAME PID PORT PATH
	python3 bench/fixed_requests.py "$3" "$4" 1 >/dev/null   # warm: archeio's first HEAD
	callgrind_control -i on "$2" >/dev/null
	python3 bench/fixed_requests.py "$3" "$4" "$N"
	callgrind_control -i off "$2" >/dev/null
	callgrind_control -d "$2" >/dev/null
	local total
	total=$(cat "$TMP"/"$1".cg* 2>/dev/null | awk '/^totals:/ {s += $2} END {print s}')
	# PROFILE_DIR=DIR keeps the profiles for callgrind_annotate.
	if [ -n "${PROFILE_DIR:-}" ]; then
		mkdir -p "$PROFILE_DIR"
		cat "$TMP"/"$1".cg* >"$PROFILE_DIR/$1.$(basename "$4" | cut -c1-12).cg"
	fi
	rm -f "$TMP"/"$1".cg*
	echo "$total"
}
# MAX_MANIFEST / MAX_BLOB (instructions per request): exit 1 when archeio
# needs more, so the script doubles as a regression check.
OVER=0
for path in "/v2/pause/manifests/3.9" "/v2/pause/blobs/$DIGEST"; do
	a=$(measure archeio "$APID" "$APORT" "$path" | tail -1)
	n=$(measure nginx "$NPID" "$NPORT" "$path" | tail -1)
	python3 -c "import sys; a, n, N = int('$a'), int('$n'), $N; print(f'{sys.argv[1][:28]:28} archeio {a / N:8.0f} instr/request   nginx {n / N:8.0f} instr/request   ratio {a / n:.2f}x')" "$path"
	case $path in */manifests/*) max=${MAX_MANIFEST:-} ;; *) max=${MAX_BLOB:-} ;; esac
	if [ -n "$max" ] && [ $((a / N)) -gt "$max" ]; then
		echo "archeio over the limit for $path: $((a / N)) > $max instructions per request"
		OVER=1
	fi
done
exit "$OVER"
