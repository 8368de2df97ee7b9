#!/usr/bin/env bash
# --user/--group: after binding its ports (and attaching XDP) archeio runs as
# that user with no capability it does not need, every thread included; it
# still answers, SIGHUP still reloads ranges, mirror rules and certificates,
# and with XDP the reload still reaches the BPF maps and the exit still
# detaches the program and removes the pins. A user that does not exist, or a
# switch that the process is not allowed to make, stops it at start.
source "$(dirname "$0")/../lib/common.sh"
require_root
require_cmd curl nginx python3 bpftool nsenter ip setpriv openssl
source "$ROOT/tests/lib/netns.sh"

NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
CAP_BPF_MASK=0000008000000000
# CAP_DAC_OVERRIDE (1), CAP_NET_ADMIN (12), CAP_SYS_ADMIN (21)
HELPER_MASK=0000000000201002

# status_field PID FIELD: the value of one line of /proc/PID/status
status_field() { awk -v k="$2:" '$1 == k {sub(/^[^:]*:[ \t]*/, ""); print}' "/proc/$1/status"; }
# every_thread PID FIELD: one line per thread, deduplicated
every_thread() {
	local t
	for t in /proc/"$1"/task/*; do awk -v k="$2:" '$1 == k {sub(/^[^:]*:[ \t]*/, ""); print}' "$t/status"; done | sort -u
}

# Mirrors: one directory per region on a local nginx; the blob is in both.
MPORT=$(free_port)
MIRROR="http://127.0.0.1:$MPORT"
DIGEST="sha256:$(printf 'e%.0s' {1..64})"
for d in one two; do
	mkdir -p "$TMP/www/$d/containers/images"
	echo blob >"$TMP/www/$d/containers/images/$DIGEST"
done
start_nginx mirror "$TMP/www" "$MPORT" 127.0.0.1
printf 'lab:one %s/one\nlab:two %s/two\n* upstream\n' "$MIRROR" "$MIRROR" >"$TMP/mirrors"
mkdir -p "$TMP/ranges"
printf '192.0.2.0/24 lab one\n' >"$TMP/ranges/operator.txt"
chmod 0644 "$TMP/mirrors" "$TMP/ranges/operator.txt"
UPSTREAM="http://127.0.0.1:9"
BLOB="/v2/pause/blobs/$DIGEST"

# A certificate whose key only root and nobody's group may read.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
chgrp "$NOBODY_GID" "$TMP/key.pem"
chmod 0640 "$TMP/key.pem"

log "userspace mode: --user nobody"
PORT=$(free_port)
TLS_PORT=$(free_port)
# The metrics port is bound before the drop: a privileged one works.
METRICS_PORT=""
for p in $(seq 900 999); do
	ss -Htln "sport = :$p" | grep -q . || { METRICS_PORT=$p; break; }
done
"$ARCHEIO" serve --listen "127.0.0.1:$TLS_PORT" --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem" \
	--plain-listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$METRICS_PORT" --user nobody --ranges "$TMP/ranges" --mirrors "$TMP/mirrors" \
	--trusted-proxy 127.0.0.1/32 --xff-hops 1 --upstream "$UPSTREAM" --upstream-path "" \
	--workers 2 >"$TMP/server.log" 2>&1 &
PID=$!
on_exit "kill $PID; wait $PID"
wait_for_log "$TMP/server.log" "listening on" 10 || { cat "$TMP/server.log"; exit 1; }
check_match "start-up says who it runs as" "$(grep 'running as user' "$TMP/server.log")" \
	"running as user nobody \(uid $NOBODY_UID\), group [a-z]+ \(gid $NOBODY_GID\), capabilities: none"
check_eq "Uid (real, effective, saved, fs)" "$(status_field $PID Uid)" "$(printf '%s\t%s\t%s\t%s' $NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID)"
check_eq "Gid (real, effective, saved, fs)" "$(status_field $PID Gid)" "$(printf '%s\t%s\t%s\t%s' $NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID)"
check_eq "no supplementary groups but nobody's" "$(status_field $PID Groups | tr -s ' ' | sed 's/ $//')" \
	"$(id -G nobody | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//')"
for f in CapInh CapPrm CapEff CapBnd CapAmb; do
	check_eq "$f empty" "$(status_field $PID $f)" "0000000000000000"
done
check_eq "NoNewPrivs" "$(status_field $PID NoNewPrivs)" "1"
check_match "several threads" "$(status_field $PID Threads)" "^[3-9]$"
check_eq "every thread: Uid" "$(every_thread $PID Uid)" "$(printf '%s\t%s\t%s\t%s' $NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID)"
check_eq "every thread: CapEff" "$(every_thread $PID CapEff)" "0000000000000000"
check_eq "every thread: CapPrm" "$(every_thread $PID CapPrm)" "0000000000000000"

check_eq "manifest answered" "$(status_location "http://127.0.0.1:$PORT/v2/pause/manifests/3.9")" \
	"307 $UPSTREAM/v2/pause/manifests/3.9"
check_eq "blob from lab:one goes to mirror one" \
	"$(status_location "http://127.0.0.1:$PORT$BLOB" -H 'X-Forwarded-For: 192.0.2.7')" \
	"307 $MIRROR/one/containers/images/$DIGEST"
check_eq "HTTPS answered" "$(status_location "https://localhost:$TLS_PORT/v2/" --cacert "$TMP/cert.pem" --resolve "localhost:$TLS_PORT:127.0.0.1")" "200 -"
check_eq "metrics on a privileged port, after the drop: /readyz" \
	"$(curl -s "http://127.0.0.1:$METRICS_PORT/readyz")" "ok"
check_match "metrics after the drop: /metrics" \
	"$(curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep '^archeio_redirects_total{target="mirror"}')" \
	' 1$'

log "SIGHUP after the drop: ranges, mirror rules and the certificate are read again"
printf '192.0.2.0/24 lab two\n' >"$TMP/ranges/operator.txt.new"
chmod 0644 "$TMP/ranges/operator.txt.new"
mv "$TMP/ranges/operator.txt.new" "$TMP/ranges/operator.txt"
kill -HUP $PID
wait_for_log "$TMP/server.log" "reloaded:" 10 || cat "$TMP/server.log"
check_eq "blob now goes to mirror two" \
	"$(status_location "http://127.0.0.1:$PORT$BLOB" -H 'X-Forwarded-For: 192.0.2.7')" \
	"307 $MIRROR/two/containers/images/$DIGEST"
check_match "certificate reloaded" "$(grep 'TLS certificates reloaded' "$TMP/server.log")" "reloaded"
check_eq "no reload failed" "$(grep -c 'failed' "$TMP/server.log")" "0"

log "a ranges file nobody may not read: the reload fails, the last good state stays"
chmod 0600 "$TMP/ranges/operator.txt"
kill -HUP $PID
wait_for_log "$TMP/server.log" "reload failed" 10 || cat "$TMP/server.log"
check_match "reload failure names the file" "$(grep 'reload failed' "$TMP/server.log")" "operator.txt"
check_eq "still mirror two" \
	"$(status_location "http://127.0.0.1:$PORT$BLOB" -H 'X-Forwarded-For: 192.0.2.7')" \
	"307 $MIRROR/two/containers/images/$DIGEST"
chmod 0644 "$TMP/ranges/operator.txt"

kill -TERM $PID
rc=0; wait $PID || rc=$?
check_eq "SIGTERM: exit 0" "$rc" "0"

log "refusals"
# run ARGS...: "EXIT|the line that says why"
run() {
	local out rc=0
	out=$(timeout 20 "$@" 2>&1 >/dev/null) || rc=$?
	echo "$rc|$(grep -E 'error|archeio:' <<<"$out" | head -1 | sed -E 's/^[0-9T:.-]+Z error //')"
}
check_eq "no such user" \
	"$(run "$ARCHEIO" serve --listen 127.0.0.1:0 --user archeio-no-such-user)" \
	"2|--user: no such user: archeio-no-such-user"
check_eq "no such group" \
	"$(run "$ARCHEIO" serve --listen 127.0.0.1:0 --user nobody --group archeio-no-such-group)" \
	"2|--group: no such group: archeio-no-such-group"
check_eq "--group without --user" \
	"$(run "$ARCHEIO" serve --listen 127.0.0.1:0 --group nogroup)" \
	"2|archeio: --group needs --user"
check_match "a process that may not switch users refuses to start" \
	"$(run setpriv --reuid nobody --regid nogroup --clear-groups "$ARCHEIO" serve --listen 127.0.0.1:0 --user root)" \
	"^1\|cannot run as user root: .*refusing to start"

log "XDP mode: --user nobody on a veth in a namespace"
BPFFS="/sys/fs/bpf/archeio-priv-$$"
on_exit "rm -rf $BPFFS"
netns_setup_core
CLIENT=203.0.113.10
netns_add_host client "$CLIENT"
XMIRROR_IP=198.18.1.10
netns_add_host mirror "$XMIRROR_IP"
XMIRROR="http://$XMIRROR_IP:8081"
start_nginx xmirror "$TMP/www" 8081 "$XMIRROR_IP" "${NS_PREFIX}mirror"
printf 'lab:one %s/one\nlab:two %s/two\n* upstream\n' "$XMIRROR" "$XMIRROR" >"$TMP/xmirrors"
mkdir -p "$TMP/xranges"
printf '203.0.113.0/24 lab one\n' >"$TMP/xranges/operator.txt"
printf 'xdp-syn-limit 0\n' >"$TMP/xlimits"
chmod 0644 "$TMP/xmirrors" "$TMP/xranges/operator.txt" "$TMP/xlimits"

nsenter --net="/run/netns/$SERVER_NS" "$ARCHEIO" serve --listen :8080 --xdp-iface "$SERVER_IF" \
	--xdp-mode native --bpffs "$BPFFS" --ranges "$TMP/xranges" --mirrors "$TMP/xmirrors" \
	--upstream "$UPSTREAM" --upstream-path "" --workers 2 --user nobody \
	--limits-file "$TMP/xlimits" --metrics-listen 127.0.0.1:9090 >"$TMP/xdp.log" 2>&1 &
XPID=$!
on_exit "kill $XPID; wait $XPID"
wait_for_log "$TMP/xdp.log" "listening on" 30 || { cat "$TMP/xdp.log"; exit 1; }
check_match "attached" "$(grep 'XDP: tagging' "$TMP/xdp.log")" "mode native"
check_match "start-up names the capability kept" "$(grep 'running as user' "$TMP/xdp.log")" \
	"running as user nobody .* capabilities: cap_bpf"
check_eq "XDP: Uid" "$(every_thread $XPID Uid)" "$(printf '%s\t%s\t%s\t%s' $NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID)"
check_eq "XDP: CapEff is CAP_BPF alone, every thread" "$(every_thread $XPID CapEff)" "$CAP_BPF_MASK"
check_eq "XDP: CapPrm is CAP_BPF alone, every thread" "$(every_thread $XPID CapPrm)" "$CAP_BPF_MASK"
check_eq "XDP: CapBnd is CAP_BPF alone" "$(status_field $XPID CapBnd)" "$CAP_BPF_MASK"
HELPER=$(pgrep -P $XPID)
check_match "a helper process waits to detach XDP" "$HELPER" "^[0-9]+$"
if [ -n "$HELPER" ]; then
	check_eq "the helper is named" "$(cat /proc/$HELPER/comm)" "archeio-xdp"
	check_eq "the helper keeps only what detaching needs" "$(status_field $HELPER CapEff)" "$HELPER_MASK"
	check_eq "the helper's bounding set is the same" "$(status_field $HELPER CapBnd)" "$HELPER_MASK"
	check_eq "the helper has no open sockets" \
		"$(ls -l /proc/$HELPER/fd 2>/dev/null | grep -c 'socket:')" "0"
fi

fetch() { ns_exec "${NS_PREFIX}client" curl -s -o /dev/null --max-time 5 -w '%{http_code} %header{location}' "$1"; }
check_eq "tagged client gets lab:one" "$(fetch "http://$SERVER_IP:8080$BLOB")" "307 $XMIRROR/one/containers/images/$DIGEST"
check_eq "pinned maps: lab one" "$(ns_exec "$SERVER_NS" "$ARCHEIO" lookup --bpffs "$BPFFS" "$CLIENT")" "$CLIENT	lab	one"
xmetric() { ns_exec "$SERVER_NS" curl -s http://127.0.0.1:9090/metrics | awk -v m="$1" '$1 == m {print $2}'; }
check_eq "XDP metrics after the drop: /readyz" "$(ns_exec "$SERVER_NS" curl -s http://127.0.0.1:9090/readyz)" "ok"
check_eq "XDP metrics after the drop: attached" "$(xmetric archeio_xdp_attached)" "1"
check_match "XDP metrics after the drop: tagged" "$(xmetric archeio_xdp_tagged_total)" "^[1-9][0-9]*$"

log "SIGHUP after the drop reaches the XDP maps"
printf '203.0.113.0/24 lab one\n203.0.113.10/32 lab two\n' >"$TMP/xranges/operator.txt"
printf 'xdp-syn-limit 50\nrate-limit-exempt 198.51.100.0/24\n' >"$TMP/xlimits"
kill -HUP $XPID
wait_for_log "$TMP/xdp.log" "reloaded:" 10 || cat "$TMP/xdp.log"
check_eq "no XDP reload failure" "$(grep -c 'reload of the XDP maps failed' "$TMP/xdp.log")" "0"
check_match "--limits-file reloaded as nobody" "$(grep 'limits reload' "$TMP/xdp.log")" \
	"limits reloaded from .*: xdp-syn-limit 0 -> 50, rate-limit-exempt \+198.51.100.0/24"
check_match "the SYN limit's map written after the drop" \
	"$(bpftool map dump pinned "$BPFFS/syn_limit_cfg" 2>&1)" '"on": 1'
check_match "the exempt trie written after the drop" \
	"$(bpftool map dump pinned "$BPFFS/syn_exempt4" 2>&1 | tr -d ' \n')" '"addr":\[198,51,100,0\]'
check_eq "pinned maps now: lab two" "$(ns_exec "$SERVER_NS" "$ARCHEIO" lookup --bpffs "$BPFFS" "$CLIENT")" "$CLIENT	lab	two"
check_match "the live trie is pinned again (lpm4 has the /32)" \
	"$(bpftool map dump pinned "$BPFFS/lpm4" 2>&1)" "203, 0, 113, 10|prefixlen.: 32"
check_eq "tagged client gets lab:two" "$(fetch "http://$SERVER_IP:8080$BLOB")" "307 $XMIRROR/two/containers/images/$DIGEST"
status=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp status --bpffs "$BPFFS")
check_match "status: tagged" "$(echo "$status" | awk '$1 == "tagged" {print $2}')" "^[1-9][0-9]*$"

log "exit: the program is detached and the pins removed"
kill -TERM $XPID
rc=0; wait $XPID || rc=$?
check_eq "exit status" "$rc" "0"
check_eq "no XDP left on $SERVER_IF" "$(ns_exec "$SERVER_NS" ip -d link show "$SERVER_IF" | grep -c 'prog/xdp')" "0"
check_eq "pins removed" "$(ls "$BPFFS" 2>/dev/null | wc -l)" "0"
if [ -n "$HELPER" ]; then check_eq "helper gone" "$(kill -0 "$HELPER" 2>/dev/null && echo alive || echo gone)" "gone"; fi

finish
