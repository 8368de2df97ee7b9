#!/usr/bin/env bash
# The XDP metrics and readiness: archeio with XDP on a veth in a server
# namespace, clients in their own namespaces (one in a range, one unlisted);
# /metrics shows the program's per-CPU counters summed (SYNs, tagged,
# untagged, per cloud), the conn_tags map's entries, the blob redirects by
# the region the tag named; /readyz is 200 while the program is attached and
# 503 with the reason once someone detaches it; the metrics port is not a
# port XDP tags (it is not in listen_ports).
source "$(dirname "$0")/../lib/common.sh"
require_root
require_cmd curl python3 nsenter ip promtool
source "$ROOT/tests/lib/netns.sh"

BPFFS="/sys/fs/bpf/archeio-test-metrics-$$"
mount | grep -q ' /sys/fs/bpf type bpf' || { echo "bpffs not mounted at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)"; exit 1; }
on_exit "rm -rf $BPFFS"

netns_setup_core
LAB_IP=203.0.113.7
UNLISTED_IP=192.0.2.7
netns_add_host lab "$LAB_IP"
netns_add_host unl "$UNLISTED_IP"
printf '203.0.113.0/24 lab lab-1\n' >"$TMP/ranges.txt"
# The mirror is never asked: the rules send every blob upstream.
printf 'lab upstream\n* upstream\n' >"$TMP/mirrors"
DIGEST="sha256:$(printf 'c%.0s' {1..64})"

nsenter --net="/run/netns/$SERVER_NS" "$ARCHEIO" serve --listen :8080 --xdp-iface "$SERVER_IF" \
	--xdp-mode native --bpffs "$BPFFS" --ranges "$TMP/ranges.txt" --mirrors "$TMP/mirrors" \
	--upstream http://198.18.1.20:5000 --upstream-path "" --workers 2 \
	--metrics-listen 127.0.0.1:9090 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
on_exit "kill $SERVER_PID; wait $SERVER_PID"
wait_for_log "$TMP/server.log" "listening on" 30 || { cat "$TMP/server.log"; exit 1; }

# Scrapes from inside the server's namespace, where the metrics port is.
in_server() { ns_exec "$SERVER_NS" "$@"; }
scrape() { in_server curl -s --max-time 5 http://127.0.0.1:9090/metrics >"$TMP/m.txt"; }
metric() { awk -v k="$1" '$1 == k {v = $2; found = 1} END {print found ? v : 0}' "$TMP/m.txt"; }
expect() { check_eq "$1" "$(metric "$1")" "$2"; }
blob() { ns_exec "$1" curl -s -o /dev/null --max-time 5 -w '%{http_code}' "http://$SERVER_IP:8080/v2/pause/blobs/$DIGEST"; }

log "before traffic"
scrape
expect archeio_xdp_attached 1
expect archeio_xdp_syns_total 0
check_eq "/readyz" "$(in_server curl -s -w ' %{http_code}' http://127.0.0.1:9090/readyz | tr -d '\n')" "ok 200"

log "two connections from a range, one unlisted"
check_eq "lab client, first" "$(blob "${NS_PREFIX}lab")" "307"
check_eq "lab client, second" "$(blob "${NS_PREFIX}lab")" "307"
check_eq "unlisted client" "$(blob "${NS_PREFIX}unl")" "307"
for ((i = 0; i < 50; i++)); do
	scrape
	[ "$(metric archeio_connections_open)" = 0 ] && break
	sleep 0.1
done
expect archeio_xdp_syns_total 3
expect archeio_xdp_tagged_total 2
expect archeio_xdp_untagged_total 1
expect archeio_xdp_tag_errors_total 0
expect archeio_xdp_syn_drops_total 0 # no --xdp-syn-limit
expect 'archeio_xdp_tagged_by_cloud_total{cloud="lab"}' 2
expect archeio_xdp_conn_tags 0 # every tag was taken by its accept
check_match "conn_tags capacity" "$(metric archeio_xdp_conn_tags_capacity)" "^[1-9][0-9]*$"
check_match "frames seen" "$(metric archeio_xdp_packets_total)" "^[1-9][0-9]*$"
expect 'archeio_blob_redirects_total{cloud="lab",region="lab-1",target="upstream"}' 2
expect 'archeio_blob_redirects_total{cloud="unlisted",region="unlisted",target="upstream"}' 1
expect archeio_connections_accepted_total 3
check_eq "promtool check metrics" "$(promtool check metrics <"$TMP/m.txt" 2>&1)" ""

log "someone detaches the program: not ready"
in_server ip link set dev "$SERVER_IF" xdp off
check_eq "/readyz 503 with the reason" \
	"$(in_server curl -s -w ' %{http_code}' http://127.0.0.1:9090/readyz | tr -d '\n')" \
	"XDP asked for on $SERVER_IF but the program is not attached 503"
scrape
expect archeio_xdp_attached 0
expect archeio_ready 0
finish
