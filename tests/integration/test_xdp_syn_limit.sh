#!/usr/bin/env bash
# The XDP SYN limit for real: archeio attached in native mode to a veth in a
# server namespace with --xdp-syn-limit; a client in one namespace floods SYNs
# (tests/lib/syn_flood.py: a bounded raw-socket sender) while a normal client
# in another keeps pulling. The normal client's requests all succeed with a
# median latency within 2x of idle, the flood's SYNs are dropped and counted
# (in total and by cloud), and `archeio xdp status`, bpftool and /metrics show
# it. A trusted proxy is never limited. Then --limits-file: started with the
# limit off the flood passes; SIGHUP turns it on (drops start), exempts the
# flooder's CIDR (drops stop, the exempt trie holds it), and off again, all
# with the same program id (bpftool): the maps change, nothing is reattached.
#
# Why the latency check is fair (and needs no margin over 2x):
# - What is timed is the server's work only: one long-lived python process
#   (tests/lib/latency_probe.py) times connect + request + answer head of a
#   new connection. A curl per request, as before, measured mostly curl's own
#   start-up in the namespace (~3-8 ms median on this VM against ~0.1-0.5 ms
#   for the exchange itself), whose noise needed the old "+5 ms".
# - The probe is a normal client: one new connection every 25 ms (40/s),
#   below the 50/s SYN limit it is subject to like anyone (back to back it
#   would flood itself and meet 1 s SYN retransmits).
# - The flooder is pinned to CPU 1, the probe and the server to CPU 0, so the
#   sender's own python loop (a whole CPU on this 2-core VM) takes neither the
#   measuring process's nor the server's CPU; the XDP drops run in the
#   softirq of the sending CPU. What is measured is what reaches the server:
#   without the limit the SYNs would queue in its listen socket and accept
#   loop. (With the workers free to float, one of them shared CPU 1 with the
#   sender, and the ASan build of the sanitizer run, ~3x slower per request,
#   missed 2x by a few percent: a test-machine artifact, not the server's.)
# - Many samples (about 120 each, idle before and after pooled) and the
#   median, so one scheduling hiccup of this shared machine does not decide;
#   p99 is logged for the record.
# - It can fail: the same measurement while the server is stopped 8 ms of
#   every 10 ms (SIGSTOP/SIGCONT: a server that really got slower; this VM has
#   no netem) is checked to exceed 2x idle. Without the SYN limit the flood is logged, not asserted: SYN
#   cookies keep the kernel answering, so it barely hurts here either.
source "$(dirname "$0")/../lib/common.sh"
require_root
require_cmd curl python3 bpftool nsenter ip
source "$ROOT/tests/lib/netns.sh"

BPFFS="/sys/fs/bpf/archeio-test-$$"
mount | grep -q ' /sys/fs/bpf type bpf' || { echo "bpffs not mounted at /sys/fs/bpf"; exit 1; }
on_exit "rm -rf $BPFFS"

FLOOD_IP=192.0.2.10
CALM_IP=198.51.100.10
netns_setup_core
netns_add_host flood "$FLOOD_IP"
netns_add_host calm "$CALM_IP"
printf '192.0.2.0/24 aws us-east-1\n198.51.100.0/24 gcp us-central1\n' >"$TMP/ranges.txt"
printf '*\tupstream\n' >"$TMP/mirrors"
UPSTREAM="http://198.18.1.20:5000"

start_server() { # LOG FLAGS...
	local log_file=$1
	shift
	taskset -c 0 nsenter --net="/run/netns/$SERVER_NS" "$ARCHEIO" serve --listen :8080 --xdp-iface "$SERVER_IF" \
		--xdp-mode native --bpffs "$BPFFS" --ranges "$TMP/ranges.txt" --mirrors "$TMP/mirrors" \
		--upstream "$UPSTREAM" --workers 2 "$@" >"$log_file" 2>&1 &
	SERVER_PID=$!
	on_exit "kill $SERVER_PID 2>/dev/null; wait $SERVER_PID"
	wait_for_log "$log_file" "listening on" 30 || { cat "$log_file"; exit 1; }
}
stop_server() { kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || true; }

# probe SECONDS: samples ("STATUS MICROSECONDS") from the calm client, one
# new connection every 25 ms, pinned to CPU 0.
probe() {
	ns_exec "${NS_PREFIX}calm" python3 "$ROOT/tests/lib/latency_probe.py" "$SERVER_IP" 8080 \
		/v2/pause/manifests/3.9 1000 "$1" 25 0
}
# stats: "MEDIAN P99" in microseconds of the samples on stdin.
stats() { awk '{print $2}' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)], v[int(NR * 0.99 + 0.5)]}'; }
# flood COUNT [SECONDS]: from the flooder, pinned to CPU 1; prints SYNs sent.
flood() {
	ns_exec "${NS_PREFIX}flood" python3 "$ROOT/tests/lib/syn_flood.py" "$FLOOD_IP" "$SERVER_IP" 8080 \
		"$1" "${2:-0}" 1
}
# busy_latency FILE: a 4 s flood; FILE gets the probe's samples of 3 s in it.
busy_latency() {
	flood 10000000 4 >"$TMP/flood.out" 2>&1 &
	local flood_pid=$!
	on_exit "kill $flood_pid 2>/dev/null"
	sleep 0.3
	probe 3 >"$1"
	wait "$flood_pid"
}

start_server "$TMP/server.log" --xdp-syn-limit 50 --xdp-syn-burst 50 --metrics-listen 127.0.0.1:9090
check_match "start-up line" "$(grep 'SYN limit' "$TMP/server.log")" "SYN limit 50/s per source .* burst 50"

log "idle latency"
probe 3 >"$TMP/idle"
log "a flood from $FLOOD_IP while $CALM_IP pulls"
busy_latency "$TMP/busy"
sent=$(cat "$TMP/flood.out")
probe 3 >>"$TMP/idle"
check_eq "idle pulls all answered" "$(grep -vc '^307 ' "$TMP/idle")" "0"
check_eq "pulls during the flood all answered" "$(grep -vc '^307 ' "$TMP/busy")" "0"
read -r idle_us idle_p99 < <(stats <"$TMP/idle")
read -r busy_us busy_p99 < <(stats <"$TMP/busy")
log "flood sent $sent SYNs in 4 s; calm client: idle median ${idle_us} us (p99 ${idle_p99}, $(wc -l <"$TMP/idle") samples), during the flood median ${busy_us} us (p99 ${busy_p99}, $(wc -l <"$TMP/busy") samples)"
if ((busy_us <= 2 * idle_us)); then pass; else fail "median during the flood ${busy_us} us > 2 x idle ${idle_us} us"; fi
if (($(wc -l <"$TMP/busy") >= 100)); then pass; else fail "only $(wc -l <"$TMP/busy") samples during the flood"; fi

log "the check can fail: the server stopped 8 ms of every 10 ms"
# A server that really got slower: SIGSTOP/SIGCONT in a bounded loop (2.5 s).
python3 -c '
import os, signal, sys, time
pid, end = int(sys.argv[1]), time.monotonic() + 2.5
try:
    while time.monotonic() < end:
        os.kill(pid, signal.SIGSTOP); time.sleep(0.008)
        os.kill(pid, signal.SIGCONT); time.sleep(0.002)
finally:
    os.kill(pid, signal.SIGCONT)
' "$SERVER_PID" &
SLOW_PID=$!
on_exit "kill $SLOW_PID 2>/dev/null; kill -CONT $SERVER_PID 2>/dev/null"
sleep 0.1
probe 2 >"$TMP/slow"
wait "$SLOW_PID"
read -r slow_us _ < <(stats <"$TMP/slow")
log "with the server slowed: median ${slow_us} us"
if ((slow_us > 2 * idle_us)); then pass; else fail "a slower server (${slow_us} us) passes the 2x check (idle ${idle_us} us)"; fi

log "the drops are counted"
status=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp status --bpffs "$BPFFS")
echo "$status" | grep -E 'syn' | sed 's/^/    /'
val() { echo "$status" | awk -v k="$1" '$1 == k {print $2}'; }
drops=$(val syn_drops)
# 50 at once and 50/s: at most a few hundred of the flood may pass.
if ((drops >= sent - 500 && drops <= sent)); then pass; else fail "syn_drops $drops of $sent sent"; fi
check_eq "dropped by cloud: aws (the flooder)" "$(val syn_drops_aws)" "$drops"
check_eq "dropped by cloud: gcp (the calm client)" "$(val syn_drops_gcp)" "0"
check_match "status --json" "$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp status --bpffs "$BPFFS" --json)" \
	"\"syn_drops\": $drops"
ns_exec "$SERVER_NS" curl -s http://127.0.0.1:9090/metrics >"$TMP/m.txt"
metric() { awk -v m="$1" '$1 == m {print $2}' "$TMP/m.txt"; }
check_eq "/metrics: archeio_xdp_syn_drops_total" "$(metric archeio_xdp_syn_drops_total)" "$drops"
check_eq "/metrics: dropped by cloud: aws" \
	"$(metric 'archeio_xdp_syn_drops_by_cloud_total{cloud="aws"}')" "$drops"
check_eq "/metrics: dropped by cloud: gcp" \
	"$(metric 'archeio_xdp_syn_drops_by_cloud_total{cloud="gcp"}')" "0"
check_match "bpftool: the flooder's bucket" "$(bpftool map dump pinned "$BPFFS/syn_buckets" 2>&1)" \
	"192,0,2,10"
check_match "bpftool: the limit's configuration" \
	"$(bpftool map dump pinned "$BPFFS/syn_limit_cfg" 2>&1)" '"on": 1'
stop_server

log "a trusted proxy (a balancer every client shares) is never limited"
start_server "$TMP/trusted.log" --xdp-syn-limit 50 --xdp-syn-burst 50 --trusted-proxy "$FLOOD_IP/32"
check_match "start-up line counts it exempt" "$(grep 'SYN limit' "$TMP/trusted.log")" "1 exempt CIDRs"
flood 2000 >/dev/null
status=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp status --bpffs "$BPFFS")
check_eq "no drops for the trusted proxy" "$(val syn_drops)" "0"
check_match "SYNs seen" "$(val syns)" "^(19[0-9][0-9]|2000)$"
stop_server

log "--limits-file: the limit off at start, then on, exempt and off by SIGHUP"
printf '# SYN limit off\nxdp-syn-limit 0\n' >"$TMP/limits"
start_server "$TMP/file.log" --limits-file "$TMP/limits"
prog_id() { ns_exec "$SERVER_NS" bpftool net show dev "$SERVER_IF" | grep -o 'id [0-9]*' | head -1; }
PROG=$(prog_id)
check_match "bpftool: the program is attached" "$PROG" "^id [0-9]+$"
# reload: SIGHUP, then wait (bounded) for one more "limits reload..." line.
reload() {
	local before i
	before=$(grep -c 'limits reload' "$TMP/file.log")
	kill -HUP "$SERVER_PID"
	for ((i = 0; i < 100; i++)); do
		(($(grep -c 'limits reload' "$TMP/file.log") > before)) && return 0
		sleep 0.05
	done
	fail "no reload line after SIGHUP"
}
flood 2000 >/dev/null
status=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp status --bpffs "$BPFFS")
check_eq "limit off: no drops" "$(val syn_drops)" "0"
check_match "SYNs seen" "$(val syns)" "^(19[0-9][0-9]|2000)$"

log "without the limit, the flood and the calm client's latency (reported, not checked)"
busy_latency "$TMP/busy_off"
read -r off_us off_p99 < <(stats <"$TMP/busy_off")
log "no SYN limit: flood of $(cat "$TMP/flood.out") SYNs, calm median ${off_us} us (p99 ${off_p99}), $(grep -vc '^307 ' "$TMP/busy_off") of $(wc -l <"$TMP/busy_off") failed"

printf 'xdp-syn-limit 50\nxdp-syn-burst 50\n' >"$TMP/limits"
reload
check_match "the change is logged" "$(grep 'limits reloaded' "$TMP/file.log" | tail -1)" \
	"xdp-syn-limit 0 -> 50"
sleep 1.1 # the bucket of the last flood refills
flood 2000 >/dev/null
status=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp status --bpffs "$BPFFS")
drops=$(val syn_drops)
if ((drops >= 1900 && drops <= 1950)); then pass; else fail "after SIGHUP: syn_drops $drops of 2000"; fi
check_eq "bpftool: the same program" "$(prog_id)" "$PROG"
check_match "bpftool: the limit is on" "$(bpftool map dump pinned "$BPFFS/syn_limit_cfg" 2>&1)" '"on": 1'

printf 'xdp-syn-limit 50\nxdp-syn-limit 60\n' >"$TMP/limits"
reload
check_match "a bad file: logged with FILE:LINE" "$(grep 'limits reload failed' "$TMP/file.log")" \
	"$TMP/limits:2: xdp-syn-limit given twice"

printf 'xdp-syn-limit 50\nxdp-syn-burst 50\nrate-limit-exempt 192.0.2.0/24\n' >"$TMP/limits"
reload
check_match "bpftool: the exempt trie holds the CIDR" \
	"$(bpftool map dump pinned "$BPFFS/syn_exempt4" 2>&1 | tr -d ' \n')" '"prefixlen":24,"addr":\[192,0,2,0\]'
flood 2000 >/dev/null
status=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp status --bpffs "$BPFFS")
check_eq "exempt: no more drops" "$(val syn_drops)" "$drops"

printf 'xdp-syn-limit 0\n' >"$TMP/limits"
reload
check_eq "bpftool: the exempt trie is empty again" \
	"$(bpftool map dump pinned "$BPFFS/syn_exempt4" 2>&1 | tr -d ' \n')" "[]"
flood 2000 >/dev/null
status=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp status --bpffs "$BPFFS")
check_eq "off again: no more drops" "$(val syn_drops)" "$drops"
check_eq "bpftool: still the same program" "$(prog_id)" "$PROG"
check_match "bpftool: the limit is off" "$(bpftool map dump pinned "$BPFFS/syn_limit_cfg" 2>&1)" '"on": 0'
check_eq "reloads counted" "$(grep -c 'limits reloaded' "$TMP/file.log") $(grep -c 'limits reload failed' "$TMP/file.log")" "3 1"
stop_server

finish
