#!/usr/bin/env bash
# The XDP data path for real: archeio attached in native mode to a veth in a
# server namespace; clients in their own namespaces with AWS, GCP, Azure and
# unlisted source addresses make real HTTP requests through a router
# namespace; each must get its region's redirect, the pinned maps must show
# the tags' counters and region names, and a reload under load must never
# give a wrong answer. Then the operations around it: --xdp-keep and the next
# start taking the kept program over, `archeio xdp detach`, a foreign XDP
# program refused, and start-up logs without libbpf's misleading warnings.
source "$(dirname "$0")/../lib/common.sh"
require_root
require_cmd curl nginx python3 bpftool nsenter ip clang
source "$ROOT/tests/lib/netns.sh"

eval "$(python3 "$ROOT/tests/lib/pick_addresses.py" "$SHARED_DATA")"
BPFFS="/sys/fs/bpf/archeio-test-$$"
mount | grep -q ' /sys/fs/bpf type bpf' || { echo "bpffs not mounted at /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)"; exit 1; }
on_exit "rm -rf $BPFFS"
# The foreign program at the end is loaded with `ip link`, and iproute2 makes
# /sys/fs/bpf/tc/globals and links /sys/fs/bpf/ip (and xdp) to it, then never
# removes them. Remove those this test made (absent at its start), once empty:
# never a directory another program has put something in.
IPROUTE_DIRS=(ip xdp tc)
IPROUTE_NEW=()
for d in "${IPROUTE_DIRS[@]}"; do
	[ -e "/sys/fs/bpf/$d" ] || [ -L "/sys/fs/bpf/$d" ] || IPROUTE_NEW+=("$d")
done
remove_iproute_dirs() {
	local d
	for d in "${IPROUTE_NEW[@]}"; do
		if [ -L "/sys/fs/bpf/$d" ]; then
			rm -f "/sys/fs/bpf/$d"
		elif [ "$d" == tc ]; then # a directory xdp is libxdp's, not iproute2's
			rmdir /sys/fs/bpf/tc/globals /sys/fs/bpf/tc 2>/dev/null
		fi
	done
	return 0
}
on_exit remove_iproute_dirs

netns_setup_core
netns_add_host aws "$AWS_USE1" "$AWS_V6"
netns_add_host euw "$AWS_EUW1"
netns_add_host gcp "$GCP"
netns_add_host azure "$AZURE"
netns_add_host unl "$UNLISTED"
MIRROR_IP=198.18.1.10
netns_add_host mirror "$MIRROR_IP"
# A load balancer in no provider's ranges, trusted for X-Forwarded-For.
LB_IP=198.18.1.30
netns_add_host lb "$LB_IP"

# Mirrors: the production table, each bucket/CDN a directory on one nginx host.
MIRROR="http://$MIRROR_IP:8081"
sed -E "s#https://([^[:space:]]+)#$MIRROR/\1#" "$SHARED_DATA/registry-k8s-io.mirrors" >"$TMP/mirrors"
printf 'acme:lab-1\t%s/acme-lab-1\n' "$MIRROR" >>"$TMP/mirrors"
dir_of() { awk -v k="$1" '$1 == k {print $2}' "$SHARED_DATA/registry-k8s-io.mirrors" | sed 's#https://##'; }
USE1_DIR=$(dir_of aws:us-east-1); EUW1_DIR=$(dir_of aws:eu-west-1); USW2_DIR=$(dir_of aws:us-west-2)
CDN_DIR=d1be1w964nk82h.cloudfront.net
DIGEST="sha256:$(printf 'd%.0s' {1..64})"
for d in "$USE1_DIR" "$EUW1_DIR" "$USW2_DIR" "$CDN_DIR" acme-lab-1; do
	mkdir -p "$TMP/www/$d/containers/images"
	echo blob >"$TMP/www/$d/containers/images/$DIGEST"
done
start_nginx mirror "$TMP/www" 8081 "$MIRROR_IP" "${NS_PREFIX}mirror"

mkdir -p "$TMP/ranges"
cp "$SHARED_DATA/aws-ip-ranges.json" "$SHARED_DATA/gcp-cloud.json" "$SHARED_DATA/azure-service-tags.json" "$TMP/ranges/"
UPSTREAM="http://198.18.1.20:5000"

# start_server LOG [FLAGS...]: archeio in the server namespace (nsenter, not a
# shell function, so that SERVER_PID is archeio itself); stopped on exit.
start_server() {
	local log_file=$1
	shift
	# The shared data is a snapshot months old: its stale-ranges warning is
	# right, but not what the start-up checks here are about.
	nsenter --net="/run/netns/$SERVER_NS" "$ARCHEIO" serve --listen :8080 --xdp-iface "$SERVER_IF" \
		--xdp-mode native --bpffs "$BPFFS" --ranges "$TMP/ranges" --mirrors "$TMP/mirrors" \
		--upstream "$UPSTREAM" --upstream-path "" --workers 2 --access-log \
		--ranges-max-age 3650d "$@" >"$log_file" 2>&1 &
	SERVER_PID=$!
	on_exit "kill $SERVER_PID; wait $SERVER_PID"
}
# stop_server: SIGTERM; its exit status in STOP_RC (not in a subshell: only
# this shell can wait for it).
stop_server() {
	STOP_RC=0
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" || STOP_RC=$?
}
start_server "$TMP/server.log" --trusted-proxy "$LB_IP/32" --xff-hops 1
wait_for_log "$TMP/server.log" "listening on" 30 || { cat "$TMP/server.log"; exit 1; }
check_match "attached in native mode" "$(grep 'XDP: tagging' "$TMP/server.log")" "mode native"
# libbpf's and libxdp's own messages come through archeio's logger, not raw to stderr.
check_eq "every log line is archeio's format" \
	"$(grep -c -v -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (debug|info|warn|error) ' "$TMP/server.log")" "0"
# libxdp probing for its dispatcher is not a failure: one info line says what
# it means, without libbpf's "try raising ulimit -l" and without doubled prefixes.
check_eq "no misleading ulimit hint" "$(grep -c 'ulimit -l' "$TMP/server.log")" "0"
check_eq "no warnings at an XDP start" "$(grep -c ' warn ' "$TMP/server.log")" "0"
check_eq "no doubled prefixes" "$(grep -c -E 'libbpf: libbpf:|libxdp: libxdp:|XDP: xdp:' "$TMP/server.log")" "0"
check_match "one info line about single-program mode" \
	"$(grep -c ' info XDP: .*single-program mode' "$TMP/server.log")" "^1$"
ns_exec "${NS_PREFIX}mirror" bash -c "for i in \$(seq 1 100); do (exec 3<>/dev/tcp/$MIRROR_IP/8081) 2>/dev/null && exit 0; sleep 0.05; done; exit 1" || fail "mirror nginx did not start"

fetch() { # NS URL -> "STATUS LOCATION"
	ns_exec "${NS_PREFIX}$1" curl -s -o /dev/null --max-time 5 -w '%{http_code} %header{location}' "$2"
}
BLOB="/v2/pause/blobs/$DIGEST"
murl() { echo "$MIRROR/$1/containers/images/$DIGEST"; }

log "each client gets its region's redirect"
check_eq "aws us-east-1 ($AWS_USE1)" "$(fetch aws "http://$SERVER_IP:8080$BLOB")" "307 $(murl "$USE1_DIR")"
check_eq "aws eu-west-1 ($AWS_EUW1)" "$(fetch euw "http://$SERVER_IP:8080$BLOB")" "307 $(murl "$EUW1_DIR")"
check_eq "aws IPv6 us-west-2 ($AWS_V6)" "$(fetch aws "http://[fd00:198:18::1]:8080$BLOB")" "307 $(murl "$USW2_DIR")"
check_eq "gcp ($GCP) upstream" "$(fetch gcp "http://$SERVER_IP:8080$BLOB")" "307 $UPSTREAM/v2/pause/blobs/$DIGEST"
check_eq "azure ($AZURE) CDN" "$(fetch azure "http://$SERVER_IP:8080$BLOB")" "307 $(murl "$CDN_DIR")"
check_eq "unlisted ($UNLISTED) CDN" "$(fetch unl "http://$SERVER_IP:8080$BLOB")" "307 $(murl "$CDN_DIR")"
check_eq "manifest upstream" "$(fetch aws "http://$SERVER_IP:8080/v2/pause/manifests/3.9")" "307 $UPSTREAM/v2/pause/manifests/3.9"

log "behind the trusted balancer: the forwarded client's region, without a bpf() lookup per request"
# The tag (if any) names the balancer; the forwarded address is looked up in
# the userspace range table, not in the kernel's trie (one bpf() syscall and a
# lock per request). strace counts BPF_MAP_LOOKUP_ELEM calls while 20
# keep-alive requests go through the balancer (taking a connection's tag is a
# BPF_MAP_LOOKUP_AND_DELETE_ELEM, not counted).
strace -f -qq -e trace=bpf -o "$TMP/bpf.trace" -p "$SERVER_PID" &
STRACE_PID=$!
on_exit "kill $STRACE_PID"
sleep 1 # strace attaches to every thread first
urls=(); for _ in $(seq 1 20); do urls+=(-o /dev/null "http://$SERVER_IP:8080$BLOB"); done
answers=$(ns_exec "${NS_PREFIX}lb" curl -s --max-time 10 -H "X-Forwarded-For: $UNLISTED, $AWS_EUW1" \
	-w '%{http_code} %header{location}\n' "${urls[@]}" | sort | uniq -c | sed 's/^ *//')
check_eq "20 forwarded eu-west-1 requests" "$answers" "20 307 $(murl "$EUW1_DIR")"
sleep 0.2
kill "$STRACE_PID"; wait "$STRACE_PID" 2>/dev/null
check_eq "bpf(BPF_MAP_LOOKUP_ELEM) calls for forwarded requests" "$(grep -c 'bpf(BPF_MAP_LOOKUP_ELEM' "$TMP/bpf.trace")" "0"

log "the tags came from XDP"
status=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp status --bpffs "$BPFFS")
echo "$status" | sed 's/^/    /'
val() { echo "$status" | awk -v k="$1" '$1 == k {print $2}'; }
check_eq "status: interface" "$(val interface)" "$SERVER_IF"
check_eq "status: mode" "$(val mode)" "native"
check_match "status: tagged >= 5 (aws v4, aws v6, euw, gcp, azure)" "$(val tagged)" "^([5-9]|[1-9][0-9]+)$"
check_match "status: untagged >= 1 (unlisted)" "$(val untagged)" "^[1-9][0-9]*$"
tagged_lines=$(grep -c "request client=.*status=307" "$TMP/server.log")
check_match "access log has the requests" "$tagged_lines" "^[1-9][0-9]*$"
check_match "bpftool: regions map shows names" "$(bpftool map dump pinned "$BPFFS/regions" 2>&1 | head -400)" "us-east-1"
check_match "bpftool: counters map dumps" "$(bpftool map dump pinned "$BPFFS/counters" 2>&1 | head -50)" "value"
check_match "bpftool: program attached to $SERVER_IF" "$(ns_exec "$SERVER_NS" bpftool net show dev "$SERVER_IF" 2>&1)" "xdp"
check_eq "lookup through the pinned maps" "$(ns_exec "$SERVER_NS" "$ARCHEIO" lookup --bpffs "$BPFFS" "$AWS_USE1" "$UNLISTED")" "$AWS_USE1	aws	us-east-1
$UNLISTED	-	-"

log "docs/xdp.md's bpftool lookups, run as written there"
# The two example lines, parsed: key bytes, the address and region the comment claims, and the
# region id the second line looks up. The data loaded here is what the docs assume (the three
# provider files in one --ranges directory, as scripts/fetch-ranges.sh leaves them).
lpm_line=$(grep -E '^bpftool map lookup pinned \$B/lpm4 key ' "$ROOT/docs/xdp.md" || true)
regions_line=$(grep -E '^bpftool map lookup pinned \$B/regions key ' "$ROOT/docs/xdp.md" || true)
key_of() { sed -nE 's/^bpftool map lookup pinned \$B\/[a-z0-9]+ key ([0-9 ]*[0-9]) +#.*/\1/p' <<<"$1"; }
doc_key=$(key_of "$lpm_line")
doc_ip=$(grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' <<<"${lpm_line#*#}" | head -n 1)
doc_claim=$(sed -nE 's/.*#.*\(([a-z0-9_-]+) ([a-z0-9-]+)\)$/\1 \2/p' <<<"$lpm_line")
check_match "docs: an lpm4 lookup line with key bytes and an address" "$doc_key|$doc_ip" "^[0-9 ]+\|[0-9.]+$"
check_eq "docs: the key is prefixlen 32 and the address's bytes" "$doc_key" "32 0 0 0 ${doc_ip//./ }"
# shellcheck disable=SC2086 # the key is a list of byte arguments
answer=$(bpftool -j map lookup pinned "$BPFFS/lpm4" key $doc_key 2>&1)
region_id=$(jq -r '.formatted.value.region_id // .error' <<<"$answer" 2>/dev/null || echo "$answer")
check_match "docs: the lpm4 lookup finds a region" "$region_id" "^[1-9][0-9]*$"
# The region the comment claims, against the userspace lookup of the same files (not XDP).
check_eq "docs: the comment's region is the address's in the provider data" \
	"$doc_ip	${doc_claim/ /	}" "$("$ARCHEIO" lookup --ranges "$TMP/ranges" "$doc_ip")"
regions_id=$(sed -nE 's/.*# the names of region id ([0-9]+) .*/\1/p' <<<"$regions_line")
regions_key=$(key_of "$regions_line")
check_eq "docs: the regions line looks up the id the lpm4 answer gives" "$regions_id" "$region_id"
check_eq "docs: the regions key is that id in 4 little-endian bytes" "$regions_key" "$region_id 0 0 0"
# shellcheck disable=SC2086
names=$(bpftool -j map lookup pinned "$BPFFS/regions" key ${regions_key:-x} 2>&1)
check_eq "docs: the regions lookup names the region the comment claims" \
	"$(jq -r '.formatted.value | "\(.cloud) \(.region)"' <<<"$names" 2>/dev/null || echo "$names")" \
	"$doc_claim"

log "reload under load: every answer is the old or the new region, never anything else"
OLD="307 $(murl "$USE1_DIR")"
NEW="307 $(murl acme-lab-1)"
ns_exec "${NS_PREFIX}aws" bash -c "for i in \$(seq 1 400); do curl -s -o /dev/null --max-time 5 -w '%{http_code} %header{location}\n' http://$SERVER_IP:8080$BLOB; done" >"$TMP/during.txt" &
LOAD_PID=$!
sleep 0.3
printf '%s/32 acme lab-1\n' "$AWS_USE1" >"$TMP/ranges/zz-operator.txt"
kill -HUP "$SERVER_PID"
wait_for_log "$TMP/server.log" "reloaded" 20
wait "$LOAD_PID"
total=$(wc -l <"$TMP/during.txt")
wrong=$(grep -v -x -F -e "$OLD" -e "$NEW" "$TMP/during.txt" | wc -l)
newcount=$(grep -c -x -F "$NEW" "$TMP/during.txt" || true)
log "during reload: $total answers, $newcount new, $wrong wrong"
check_eq "answers during reload" "$total" "400"
check_eq "wrong answers during reload" "$wrong" "0"
check_eq "after reload: new region" "$(fetch aws "http://$SERVER_IP:8080$BLOB")" "$NEW"
check_match "new answers seen during the run" "$newcount" "^[1-9][0-9]*$"

log "a bad reload keeps the last good state in the maps"
printf 'not a cidr\n' >"$TMP/ranges/zz-operator.txt"
kill -HUP "$SERVER_PID"
wait_for_log "$TMP/server.log" "reload failed" 20
check_eq "still the new region" "$(fetch aws "http://$SERVER_IP:8080$BLOB")" "$NEW"

log "on exit the program is detached and the pins removed"
stop_server
check_eq "exit status" "$STOP_RC" "0"
check_eq "no XDP left on $SERVER_IF" "$(ns_exec "$SERVER_NS" ip -d link show "$SERVER_IF" | grep -c 'prog/xdp')" "0"
check_eq "pins removed" "$(ls "$BPFFS" 2>/dev/null | wc -l)" "0"

rm -f "$TMP/ranges/zz-operator.txt"
# prog_on_if: "ID NAME" of the XDP program on the server's interface, or nothing.
prog_on_if() {
	ns_exec "$SERVER_NS" ip -d link show "$SERVER_IF" | sed -n 's#.*prog/xdp id \([0-9]*\) name \([^ ]*\).*#\1 \2#p'
}
PINS="attach_info clouds conn_tags counters listen_ports lpm4 lpm4_outer lpm6 lpm6_outer regions syn_buckets syn_exempt4 syn_exempt6 syn_limit_cfg"
pins() { echo $(ls "$BPFFS" 2>/dev/null); }

log "--xdp-keep: the program stays attached with its pins, and the exit log says so"
start_server "$TMP/keep1.log" --xdp-keep
wait_for_log "$TMP/keep1.log" "listening on" 30 || { cat "$TMP/keep1.log"; exit 1; }
stop_server
check_eq "kept: exit status" "$STOP_RC" "0"
KEPT=$(prog_on_if)
KEPT_ID=${KEPT%% *}
check_match "kept: archeio_xdp still on $SERVER_IF" "$KEPT" "^[0-9]+ archeio_xdp$"
check_eq "kept: pins" "$(pins)" "$PINS"
check_match "kept: the exit log says so" "$(grep ' info XDP: ' "$TMP/keep1.log" | tail -1)" \
	"kept archeio_xdp \(program id $KEPT_ID\) attached to $SERVER_IF .*pinned in $BPFFS"

log "the next start takes the kept program over, refills the maps and serves"
start_server "$TMP/keep2.log" --xdp-keep
wait_for_log "$TMP/keep2.log" "listening on" 30 || { cat "$TMP/keep2.log"; exit 1; }
check_match "takeover logged" "$(grep ' info XDP: ' "$TMP/keep2.log")" \
	"took over archeio_xdp \(program id $KEPT_ID\) left attached to $SERVER_IF"
TAKEN=$(prog_on_if)
check_match "a new archeio_xdp on $SERVER_IF" "$TAKEN" "^[0-9]+ archeio_xdp$"
check_eq "the kept program $KEPT_ID was replaced" "$([ "${TAKEN%% *}" != "$KEPT_ID" ] && echo replaced)" "replaced"
check_eq "after takeover: aws us-east-1 tagged" "$(fetch aws "http://$SERVER_IP:8080$BLOB")" "307 $(murl "$USE1_DIR")"
check_eq "after takeover: azure CDN" "$(fetch azure "http://$SERVER_IP:8080$BLOB")" "307 $(murl "$CDN_DIR")"
status=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp status --bpffs "$BPFFS")
check_eq "after takeover: status names the new program" "$(val program_id)" "${TAKEN%% *}"
check_eq "after takeover: attached" "$(val attached)" "yes"
check_match "after takeover: tags counted by the new program" "$(val tagged)" "^[1-9][0-9]*$"
stop_server
check_eq "after takeover: kept again on exit" "$STOP_RC" "0"
check_eq "after takeover: still attached" "$(prog_on_if)" "$TAKEN"

log "archeio xdp detach removes the kept program and its pins"
rc=0; out=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp detach --bpffs "$BPFFS" 2>&1) || rc=$?
echo "$out" | sed 's/^/    /'
check_eq "detach: exit status" "$rc" "0"
check_match "detach: says what it detached" "$out" "detached archeio_xdp \(program id ${TAKEN%% *}\) from $SERVER_IF"
check_match "detach: says what it removed" "$out" "removed 14 pins from $BPFFS"
check_eq "detach: no XDP on $SERVER_IF" "$(prog_on_if)" ""
check_eq "detach: pin directory gone" "$(test -e "$BPFFS" && echo present || echo gone)" "gone"
rc=0; out=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp detach --bpffs "$BPFFS" 2>&1) || rc=$?
check_eq "detach again: nothing to do" "$rc|$out" "0|nothing to remove: no archeio pins in $BPFFS"

log "stale pins with no program: detach removes them"
start_server "$TMP/keep3.log" --xdp-keep
wait_for_log "$TMP/keep3.log" "listening on" 30 || { cat "$TMP/keep3.log"; exit 1; }
stop_server
check_eq "stale: exit status" "$STOP_RC" "0"
ns_exec "$SERVER_NS" ip link set dev "$SERVER_IF" xdp off
check_eq "stale: pins left" "$(pins)" "$PINS"
rc=0; out=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp detach --bpffs "$BPFFS" 2>&1) || rc=$?
echo "$out" | sed 's/^/    /'
check_eq "stale: exit status" "$rc" "0"
check_match "stale: no program to detach" "$out" "no archeio_xdp on $SERVER_IF"
check_match "stale: pins removed" "$out" "removed 14 pins from $BPFFS"
check_eq "stale: pin directory gone" "$(test -e "$BPFFS" && echo present || echo gone)" "gone"

log "a foreign XDP program is refused with the clear message, and detach leaves it alone"
cat >"$TMP/foreign.c" <<'C'
int foreign_pass(void *ctx) __attribute__((section("xdp"), used));
int foreign_pass(void *ctx) { (void)ctx; return 2; /* XDP_PASS */ }
char _license[] __attribute__((section("license"), used)) = "GPL";
C
clang -O2 -target bpf -c "$TMP/foreign.c" -o "$TMP/foreign.o" || fail "cannot compile the foreign program"
ns_exec "$SERVER_NS" ip link set dev "$SERVER_IF" xdp obj "$TMP/foreign.o" sec xdp
on_exit "ns_exec $SERVER_NS ip link set dev $SERVER_IF xdp off"
FOREIGN=$(prog_on_if)
check_match "foreign program attached" "$FOREIGN" "^[0-9]+ foreign_pass$"
start_server "$TMP/foreign.log"
rc=0; wait "$SERVER_PID" || rc=$?
check_eq "foreign: serve exits 1" "$rc" "1"
check_match "foreign: refused with the message" "$(grep ' error ' "$TMP/foreign.log")" \
	"XDP: $SERVER_IF already has an XDP program that libxdp cannot share .*ip link set dev $SERVER_IF xdp off"
check_eq "foreign: still attached" "$(prog_on_if)" "$FOREIGN"
check_eq "foreign: no pins left" "$(pins)" ""
rc=0; out=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp detach --bpffs "$BPFFS" --xdp-iface "$SERVER_IF" 2>&1) || rc=$?
check_match "foreign: detach leaves it alone" "$rc|$out" "^0\|.*no archeio_xdp on $SERVER_IF \(it runs foreign_pass, program id ${FOREIGN%% *}, not archeio's\)"
check_eq "foreign: still attached after detach" "$(prog_on_if)" "$FOREIGN"

log "what iproute2 made on bpffs for the foreign program is removed"
ns_exec "$SERVER_NS" ip link set dev "$SERVER_IF" xdp off
remove_iproute_dirs
left=""
for d in "${IPROUTE_NEW[@]}"; do
	if [ -L "/sys/fs/bpf/$d" ] || { [ "$d" == tc ] && [ -e /sys/fs/bpf/tc ]; }; then left+=" $d"; fi
done
check_eq "nothing this test made is left in /sys/fs/bpf (absent at start:${IPROUTE_NEW[*]/#/ })" "$left" ""

finish
