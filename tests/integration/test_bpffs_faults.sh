#!/usr/bin/env bash
# bpffs taken away under a running server (issue 10): archeio with XDP attached
# in native mode to a veth in a server namespace, its pins on a bpffs this test
# mounts for itself (unmounting it touches nobody else). While a client in a
# range keeps opening connections, (a) the pin files are removed, then (b) the
# bpffs is unmounted. Every request is still answered with the client's
# region, and XDP still tags (the server holds the maps' fds, not the pins);
# `archeio xdp status` fails with a clear message, not a crash; SIGHUP says
# what happened — (a) pins again, (b) cannot and keeps serving — and still
# reloads; (c) with a new bpffs mounted at the same place it pins nothing
# there; shutdown still detaches the program from the interface, and removes
# nothing from the new bpffs.
source "$(dirname "$0")/../lib/common.sh"
require_root
require_cmd curl nsenter ip mount umount bpftool
source "$ROOT/tests/lib/netns.sh"

MNT="$TMP/bpffs"
BPFFS="$MNT/archeio"
mkdir -p "$MNT"
mount -t bpf bpf "$MNT" || fail "cannot mount a private bpffs at $MNT"
# Lazy: the server may still hold a directory in it open.
on_exit "umount -l $MNT"

netns_setup_core
# lab: the client under load; probe: one connection at a time, in its own
# cloud, so that its tags can be counted exactly beside the load's.
LAB_IP=203.0.113.9
PROBE_IP=198.51.100.9
netns_add_host lab "$LAB_IP"
netns_add_host probe "$PROBE_IP"
printf '203.0.113.0/24 lab lab-1\n198.51.100.0/24 probe probe-1\n' >"$TMP/ranges.txt"
# Every blob upstream: the region shows in the metrics, no mirror to run.
printf 'lab upstream\nprobe upstream\n* upstream\n' >"$TMP/mirrors"
UPSTREAM=http://198.18.1.20:5000
DIGEST="sha256:$(printf 'e%.0s' {1..64})"
BLOB="/v2/pause/blobs/$DIGEST"
WANT="307 $UPSTREAM$BLOB"

nsenter --net="/run/netns/$SERVER_NS" "$ARCHEIO" serve --listen :8080 --xdp-iface "$SERVER_IF" \
	--xdp-mode native --bpffs "$BPFFS" --ranges "$TMP/ranges.txt" --mirrors "$TMP/mirrors" \
	--upstream "$UPSTREAM" --upstream-path "" --workers 2 --ranges-max-age 3650d \
	--metrics-listen 127.0.0.1:9090 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
on_exit "kill $SERVER_PID; wait $SERVER_PID"
wait_for_log "$TMP/server.log" "listening on" 30 || { cat "$TMP/server.log"; exit 1; }

in_server() { ns_exec "$SERVER_NS" "$@"; }
fetch() { ns_exec "${NS_PREFIX}${1:-lab}" curl -s -o /dev/null --max-time 5 -w '%{http_code} %header{location}' "http://$SERVER_IP:8080$BLOB"; }
metric() {
	in_server curl -s --max-time 5 http://127.0.0.1:9090/metrics |
		awk -v k="$1" '$1 == k {v = $2; found = 1} END {print found ? v : 0}'
}
# status: "RC|first line of stderr" of `archeio xdp status` (RC 1 is an error
# it reports; 128+ would be a crash).
status() {
	local rc=0 out
	out=$(in_server "$ARCHEIO" xdp status --bpffs "$BPFFS" 2>&1 >/dev/null) || rc=$?
	echo "$rc|$(head -n 1 <<<"$out")"
}
# wait_count PATTERN N: until the log has N lines matching PATTERN (bounded).
wait_count() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -c -- "$1" "$TMP/server.log")" -ge "$2" ] && return 0
		sleep 0.1
	done
}
alive() { kill -0 "$SERVER_PID" 2>/dev/null && echo alive || echo gone; }
# check_tagged WHAT: one request from the probe client on a new connection:
# the probe region's answer, XDP tagged it for the probe cloud, and the server
# placed it in probe-1.
TAGGED='archeio_xdp_tagged_by_cloud_total{cloud="probe"}'
PLACED='archeio_blob_redirects_total{cloud="probe",region="probe-1",target="upstream"}'
check_tagged() {
	local what=$1 tagged placed
	tagged=$(metric "$TAGGED")
	placed=$(metric "$PLACED")
	check_eq "$what: answer" "$(fetch probe)" "$WANT"
	check_eq "$what: XDP tagged the connection" "$(($(metric "$TAGGED") - tagged))" "1"
	check_eq "$what: placed in probe-1" "$(($(metric "$PLACED") - placed))" "1"
}

# A client in the range keeps asking, one connection per request, through
# everything below; bounded, and stopped by a file.
ns_exec "${NS_PREFIX}lab" bash -c "for i in \$(seq 1 3000); do [ -e $TMP/stop ] && break
	curl -s -o /dev/null --max-time 5 -w '%{http_code} %header{location}\n' http://$SERVER_IP:8080$BLOB
	sleep 0.01; done" >"$TMP/load.txt" 2>&1 &
LOAD_PID=$!
on_exit "touch $TMP/stop; kill $LOAD_PID"

log "before: status reads the pins, connections are tagged"
check_eq "status" "$(status)" "0|"
check_tagged "before"

log "(a) the pin files removed under the server"
rm -f "$BPFFS"/*
check_eq "pins gone" "$(ls "$BPFFS" | wc -l)" "0"
check_tagged "pins removed"
check_match "status: a clear error" "$(status)" \
	"^1\|archeio: xdp status: no archeio maps pinned in $BPFFS \(a running archeio holds it: its pins were removed; SIGHUP makes it pin them again\)$"
kill -HUP "$SERVER_PID"
wait_count ' reloaded ' 1
check_match "SIGHUP: the log says what happened and that it pinned again" \
	"$(grep ' XDP: ' "$TMP/server.log" | grep -i pin | tail -n 1)" \
	" warn XDP: 14 pins were missing from $BPFFS \(removed under the running server\); pinned them again$"
check_eq "pins back" "$(ls "$BPFFS" | wc -l)" "14"
check_eq "status after the reload" "$(status)" "0|"
check_tagged "after the reload"

log "(b) the bpffs unmounted under the server"
# The server holds the pin directory open (its lock), so only a lazy unmount
# detaches it; the kernel refuses a plain one.
rc=0; umount "$MNT" 2>/dev/null || rc=$?
check_match "plain umount refused while the server holds the directory" "$rc" "^[1-9][0-9]*$"
umount -l "$MNT"
check_eq "nothing pinned at $BPFFS" "$(test -e "$BPFFS" && echo present || echo absent)" "absent"
check_tagged "unmounted"
check_match "status: a clear error" "$(status)" "^1\|archeio: xdp status: no archeio maps pinned in $BPFFS"
kill -HUP "$SERVER_PID"
wait_count ' reloaded ' 2
check_match "SIGHUP: the log says it cannot pin and keeps serving" \
	"$(grep ' XDP: ' "$TMP/server.log" | tail -n 1)" \
	" warn XDP: cannot pin in $BPFFS any more \(.*\): serving on with the maps archeio holds; .*restart"
check_eq "the reload itself went through" "$(grep -c ' reloaded ' "$TMP/server.log")" "2"
check_eq "server still running" "$(alive)" "alive"
check_tagged "after the reload without bpffs"
# A second reload says it again (the operator may only look now) and does not crash.
kill -HUP "$SERVER_PID"
wait_count ' reloaded ' 3
check_eq "second reload: said again" "$(grep -c 'cannot pin' "$TMP/server.log")" "2"
check_eq "server still running after two reloads" "$(alive)" "alive"

log "(c) a new bpffs mounted at the same place, with another server's pin in the directory"
mount -t bpf bpf "$MNT" || fail "cannot mount bpffs again at $MNT"
mkdir "$BPFFS"
bpftool map create "$BPFFS/lpm4_outer" type array key 4 value 4 entries 1 name other ||
	fail "cannot pin a map with bpftool"
kill -HUP "$SERVER_PID"
wait_count ' reloaded ' 4
check_match "SIGHUP: another directory, not pinned into" "$(grep 'cannot pin' "$TMP/server.log" | tail -n 1)" \
	"cannot pin in $BPFFS any more \(another directory is there now: bpffs unmounted and mounted again"
check_eq "nothing pinned into the new directory" "$(ls "$BPFFS")" "lpm4_outer"
check_tagged "remounted"

log "every request under load was answered with the region's redirect"
touch "$TMP/stop"
wait "$LOAD_PID"
total=$(wc -l <"$TMP/load.txt")
wrong=$(grep -v -x -F "$WANT" "$TMP/load.txt" | wc -l)
log "under load: $total answers, $wrong wrong"
check_match "answers under load" "$total" "^[1-9][0-9]+$"
check_eq "wrong answers under load" "$wrong" "0"
check_eq "every lab blob was placed in lab-1, as tagged" \
	"$(metric 'archeio_blob_redirects_total{cloud="lab",region="lab-1",target="upstream"}')" \
	"$(metric 'archeio_xdp_tagged_by_cloud_total{cloud="lab"}')"

log "shutdown still detaches XDP"
kill -TERM "$SERVER_PID"
rc=0; wait "$SERVER_PID" || rc=$?
check_eq "exit status" "$rc" "0"
check_eq "no XDP left on $SERVER_IF" "$(in_server ip -d link show "$SERVER_IF" | grep -c 'xdp')" "0"
check_eq "the other pin in the new bpffs is left alone" "$(ls "$BPFFS")" "lpm4_outer"
check_eq "no errors logged" "$(grep -c ' error ' "$TMP/server.log")" "0"

finish
