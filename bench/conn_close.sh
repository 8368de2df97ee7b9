#!/usr/bin/env bash
# A new connection per request (`Connection: close`) over a veth pair, so that
# every request crosses the XDP program's tagging and archeio's read of the tag
# after accept(): archeio with XDP attached (native) to the server-side veth,
# the same archeio binary without XDP, and nginx with the configuration an
# operator would write instead (bench/nginx_geo.py), side by side in one run,
# alternating rounds. The client namespace's source address is 3.2.0.10 (aws
# us-east-1, aliased on its veth), so its SYNs are tagged; each request asks for
# a blob, which both servers redirect to the us-east-1 mirror (an nginx in the
# server namespace holding the blob, so archeio's mirror check says yes and is
# cached). Figures per system: requests (= connections) per second, p99, and the
# server's CPU time per connection (utime + stime of archeio, of nginx's
# workers). The XDP program and the TCP handshakes run in softirq on the CPU
# that sends the packet over the veth (wrk's), so they are not in the server's
# CPU: the tag-map read after accept (a bpf() syscall) is, where it costs.
# WORKERS=1 (default): one worker each, servers on CPU 0, wrk on CPU 1.
# WORKERS=2: --workers 2 / worker_processes 2 (SO_REUSEPORT in both), no pinning.
# BASELINE=PATH: another archeio binary (e.g. main's build) runs beside them
# without XDP ("before"), so a change is measured side by side in one run.
# SYSCALLS=1: instead of timing, one wrk run of SECONDS per system under
# `strace -c -f`, printing each server's system calls (and failed ones) per
# connection; strace slows the servers down, so these runs give counts, not
# times.
# Namespaces, veths, bpffs pins and processes are removed on exit (trap).
# Usage: [WORKERS=N] [CONNS=N] [BASELINE=PATH] [SYSCALLS=1] bench/conn_close.sh [SECONDS] [ROUNDS]   (root)
set -uo pipefail
DUR=${1:-5}
ROUNDS=${2:-3}
CONNS=${CONNS:-32}
WORKERS=${WORKERS:-1}
SYSCALLS=${SYSCALLS:-0}
BASELINE=${BASELINE:-}
source "$(dirname "$0")/../tests/lib/common.sh"
require_root
require_cmd wrk nginx ip nsenter curl python3
[ "$SYSCALLS" = 1 ] && require_cmd strace
make -s -C "$ROOT" "$BUILD/archeio" || exit 1
ulimit -n "$(ulimit -Hn)"

SNS="acc-s-$$" CNS="acc-c-$$" SIF="accs$$" CIF="accc$$"
SERVER_IP=198.18.0.1 CLIENT_IP=198.18.0.2 CLIENT_SRC=3.2.0.10
BPFFS="/sys/fs/bpf/archeio-connclose-$$"
ip netns add "$SNS" && on_exit "ip netns del $SNS"
ip netns add "$CNS" && on_exit "ip netns del $CNS"
ip link add "$SIF" netns "$SNS" type veth peer name "$CIF" netns "$CNS" || exit 1
in_s() { nsenter --net="/run/netns/$SNS" "$@"; }
# Servers are started with nsenter itself, not in_s: `in_s ... &` would be a
# subshell, and killing it on exit would leave the server running.
NSENTER_S=(nsenter --net="/run/netns/$SNS")
in_c() { nsenter --net="/run/netns/$CNS" "$@"; }
in_s ip addr add "$SERVER_IP/24" dev "$SIF"
in_c ip addr add "$CLIENT_IP/24" dev "$CIF"
in_c ip addr add "$CLIENT_SRC/32" dev "$CIF"
for ns in "$SNS" "$CNS"; do nsenter --net="/run/netns/$ns" ip link set lo up; done
in_s ip link set "$SIF" up
in_c ip link set "$CIF" up
# The client reaches the server from the provider address; the server answers it on-link.
in_c ip route replace "$SERVER_IP/32" dev "$CIF" src "$CLIENT_SRC"
in_s ip route add "$CLIENT_SRC/32" dev "$SIF"
on_exit "rm -rf $BPFFS"

DATA="$SHARED_DATA"
MPORT=8090 XPORT=8080 APORT=8082 NPORT=8081 BPORT=8083
MIRROR="http://127.0.0.1:$MPORT"
sed -E "s#https://([^[:space:]]+)#$MIRROR/\1#" "$DATA/registry-k8s-io.mirrors" >"$TMP/mirrors"
DIGEST="sha256:$(printf 'a%.0s' {1..64})"
BLOB="/v2/pause/blobs/$DIGEST"
for host in $(awk '$2 ~ /^https:/ {sub("https://", "", $2); print $2}' "$DATA/registry-k8s-io.mirrors" | sort -u); do
	mkdir -p "$TMP/www/$host/containers/images"
	echo blob >"$TMP/www/$host/containers/images/$DIGEST"
done
start_nginx mirror "$TMP/www" "$MPORT" 127.0.0.1 "$SNS"
UPSTREAM="http://198.18.1.20:5000"

PIN=()
[ "$WORKERS" -eq 1 ] && PIN=(taskset -c 0)
mkdir -p "$TMP/ngx/tmp"
python3 "$ROOT/bench/nginx_geo.py" "$DATA" "$TMP/mirrors" "$UPSTREAM" "$NPORT" "$TMP/ngx" |
	sed -e "s/^worker_processes 1;/worker_processes $WORKERS;/" \
		-e "s/listen 127.0.0.1:$NPORT;/listen $SERVER_IP:$NPORT reuseport;/" >"$TMP/ngx/nginx.conf"
"${NSENTER_S[@]}" "${PIN[@]}" nginx -c "$TMP/ngx/nginx.conf" -p "$TMP/ngx" 2>"$TMP/ngx/stderr" &
on_exit "kill $!"
RANGES=(--ranges "$DATA/aws-ip-ranges.json" --ranges "$DATA/gcp-cloud.json" --ranges "$DATA/azure-service-tags.json")
"${NSENTER_S[@]}" "${PIN[@]}" "$ARCHEIO" serve --listen "$SERVER_IP:$XPORT" --workers "$WORKERS" --log-level info \
	--xdp-iface "$SIF" --xdp-mode native --bpffs "$BPFFS" "${RANGES[@]}" --ranges-max-age 3650d \
	--mirrors "$TMP/mirrors" --upstream "$UPSTREAM" >"$TMP/xdp.log" 2>&1 &
XDP_PID=$!
on_exit "kill $XDP_PID; wait $XDP_PID"
"${NSENTER_S[@]}" "${PIN[@]}" "$ARCHEIO" serve --listen "$SERVER_IP:$APORT" --workers "$WORKERS" --log-level info \
	"${RANGES[@]}" --ranges-max-age 3650d --mirrors "$TMP/mirrors" --upstream "$UPSTREAM" >"$TMP/plain.log" 2>&1 &
PLAIN_PID=$!
on_exit "kill $PLAIN_PID; wait $PLAIN_PID"
SYSTEMS=(archeio-xdp archeio nginx)
if [ -n "$BASELINE" ]; then
	"${NSENTER_S[@]}" "${PIN[@]}" "$BASELINE" serve --listen "$SERVER_IP:$BPORT" --workers "$WORKERS" --log-level info \
		"${RANGES[@]}" --ranges-max-age 3650d --mirrors "$TMP/mirrors" --upstream "$UPSTREAM" >"$TMP/before.log" 2>&1 &
	BEFORE_PID=$!
	on_exit "kill $BEFORE_PID; wait $BEFORE_PID"
	wait_for_log "$TMP/before.log" "listening on" 60 || { cat "$TMP/before.log"; exit 1; }
	SYSTEMS+=(before)
fi
wait_for_log "$TMP/xdp.log" "listening on" 60 || { cat "$TMP/xdp.log"; exit 1; }
wait_for_log "$TMP/plain.log" "listening on" 60 || true
for _ in $(seq 1 100); do [ -s "$TMP/ngx/nginx.pid" ] && break; sleep 0.1; done
sleep 0.5
NGINX_MASTER=$(cat "$TMP/ngx/nginx.pid")

answer() { in_c curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://$SERVER_IP:$1$BLOB"; }
A=$(answer "$XPORT") P=$(answer "$APORT") N=$(answer "$NPORT")
log "answers: archeio+XDP '$A', archeio '$P', nginx '$N'"
check_match "archeio+XDP redirects the aws us-east-1 client to its mirror" "$A" "^307 $MIRROR/.+$DIGEST$"
check_eq "archeio without XDP answers the same" "$P" "$A"
check_eq "nginx answers the same" "$N" "$A"
[ -n "$BASELINE" ] && check_eq "the baseline answers the same" "$(answer "$BPORT")" "$A"
[ "$FAILURES" -eq 0 ] || { echo "the systems answer differently: not timing them"; exit 1; }

tagged() { in_s "$ARCHEIO" xdp status --bpffs "$BPFFS" | awk '$1 == "tagged" {print $2}'; }
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
run() { # NAME PORT PID...
	local name=$1 port=$2 before after
	shift 2
	before=$(cpu_ticks "$@")
	in_c "${WRK_PIN[@]}" wrk -t1 -c"$CONNS" -d"${DUR}s" --latency -H "Connection: close" \
		"http://$SERVER_IP:$port$BLOB" >"$TMP/wrk.out" 2>&1
	after=$(cpu_ticks "$@")
	if grep -q "Non-2xx or 3xx" "$TMP/wrk.out"; then echo "$name: non-3xx answers"; cat "$TMP/wrk.out"; exit 1; fi
	local rps p99 reqs
	rps=$(awk '/Requests\/sec/ {print $2}' "$TMP/wrk.out")
	p99=$(awk '$1 == "99%" {print $2}' "$TMP/wrk.out")
	reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
	echo "$name $rps $p99 $(python3 -c "print(($after - $before) * 1e6 / $(getconf CLK_TCK) / $reqs)") $reqs"
}
WRK_PIN=()
[ "$WORKERS" -eq 1 ] && WRK_PIN=(taskset -c 1)
NGINX_WORKERS=$(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')

# strace -c over one run per system; counts divided by the requests wrk saw
# completed (each on its own connection).
count_syscalls() { # NAME PORT PID...
	local name=$1 port=$2 p args=() spid
	shift 2
	for p in "$@"; do args+=(-p "$p"); done
	strace -c -f -o "$TMP/strace.$name" "${args[@]}" 2>/dev/null &
	spid=$!
	sleep 1
	in_c "${WRK_PIN[@]}" wrk -t1 -c"$CONNS" -d"${DUR}s" -H "Connection: close" \
		"http://$SERVER_IP:$port$BLOB" >"$TMP/wrk.out" 2>&1
	kill -INT "$spid"
	wait "$spid"
	python3 - "$name" "$(awk '/requests in/ {print $1}' "$TMP/wrk.out")" "$TMP/strace.$name" <<'PY'
import sys
name, reqs, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
for line in open(path):
    f = line.split()
    if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
        calls, errs = int(f[3]), int(f[4]) if len(f) == 6 else 0
        rows.append((f[-1], calls, errs))
total = sum(c for _, c, _ in rows)
print(f"{name}: {reqs} connections, {total / reqs:.2f} system calls per connection")
for sc, calls, errs in sorted(rows, key=lambda r: -r[1]):
    if calls / reqs >= 0.01:
        print(f"  {sc:16} {calls / reqs:6.2f}" + (f"  (failed {errs / reqs:.2f})" if errs else ""))
PY
}
if [ "$SYSCALLS" = 1 ]; then
	count_syscalls archeio-xdp "$XPORT" "$XDP_PID"
	count_syscalls archeio "$APORT" "$PLAIN_PID"
	[ -n "$BASELINE" ] && count_syscalls before "$BPORT" "$BEFORE_PID"
	# shellcheck disable=SC2086 # a list of pids
	count_syscalls nginx "$NPORT" $NGINX_WORKERS
	exit 0
fi
log "$ROUNDS rounds x ${DUR}s, $CONNS connections, Connection: close, $WORKERS worker(s) each"
TAGGED_BEFORE=$(tagged)
XDP_REQS=0
for _ in $(seq 1 "$ROUNDS"); do
	line=$(run archeio-xdp "$XPORT" "$XDP_PID") || exit 1
	echo "$line" >>"$TMP/results"
	XDP_REQS=$((XDP_REQS + ${line##* }))
	run archeio "$APORT" "$PLAIN_PID" >>"$TMP/results" || exit 1
	if [ -n "$BASELINE" ]; then run before "$BPORT" "$BEFORE_PID" >>"$TMP/results" || exit 1; fi
	# shellcheck disable=SC2086 # a list of pids
	run nginx "$NPORT" $NGINX_WORKERS >>"$TMP/results" || exit 1
done
TAGGED_AFTER=$(tagged)
log "SYNs tagged by XDP during the archeio+XDP rounds: $((TAGGED_AFTER - TAGGED_BEFORE)) for $XDP_REQS requests; conn_tags entries left: $(in_s "$ARCHEIO" xdp status --bpffs "$BPFFS" | awk '$1 == "conn_tags_entries" {print $2}')"
python3 - "$TMP/results" "${SYSTEMS[@]}" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
systems = sys.argv[2:]
def ms(v):
    return float(v[:-2]) if v.endswith("ms") else float(v[:-2]) / 1000 if v.endswith("us") else float(v[:-1]) * 1000
med = {}
for name in systems:
    rps = [float(r[1]) for r in rows if r[0] == name]
    p99 = [ms(r[2]) for r in rows if r[0] == name]
    cpu = [float(r[3]) for r in rows if r[0] == name]
    med[name] = (statistics.median(rps), statistics.median(p99), statistics.median(cpu))
    print(f"{name:12} median {med[name][0]:>8.0f} conn/s  p99 {med[name][1]:6.2f} ms  "
          f"server CPU {med[name][2]:6.1f} us/conn  (conn/s rounds: {' '.join(str(int(x)) for x in rps)})")
for name in (s for s in systems if s != "nginx"):
    print(f"ratio {name}/nginx: throughput {med[name][0] / med['nginx'][0]:.2f}x, "
          f"p99 {med[name][1] / med['nginx'][1]:.2f}x, CPU per connection {med[name][2] / med['nginx'][2]:.2f}x")
PY
check_eq "every archeio+XDP connection was tagged" "$([ $((TAGGED_AFTER - TAGGED_BEFORE)) -ge "$XDP_REQS" ] && echo yes)" yes
finish
