#!/usr/bin/env bash
# Soak: archeio with XDP attached (native mode) on a veth in a network
# namespace, wrk in a client namespace with CONNS concurrent connections
# (default 1000) for DURATION seconds (default 90), one request in SOAK_CHURN
# (default 10) closing its connection so that new connections keep crossing
# XDP's tag map. Mixed routes (manifests, blobs through a trusted proxy with
# the mirror present and absent, tags, 404) and clients (X-Forwarded-For).
# Checks every answer's status and Location (bench/soak.lua), and reports:
# requests, unexpected answers, RSS after warm-up (sampled every second from
# /proc/PID/status; flat = max - min), the conn_tags map's entries (sampled),
# and the server's open file descriptors before (after a 2 s warm-up run)
# and after.
# Usage: bench/soak.sh [DURATION] [CONNS]. Root; nothing leaves the machine.
set -uo pipefail
DURATION=${1:-90}
CONNS=${2:-1000}
WARMUP=${WARMUP:-15}
source "$(dirname "$0")/../tests/lib/common.sh"
require_root
require_cmd wrk nginx bpftool nsenter ip curl
source "$ROOT/tests/lib/netns.sh"
make -s -C "$ROOT" "$BUILD/archeio" || exit 1
ulimit -n "$(ulimit -Hn)"
BPFFS="/sys/fs/bpf/archeio-soak-$$"
on_exit "rm -rf $BPFFS"

CLIENT_IP=10.200.0.5
MIRROR_IP=198.18.1.10
netns_setup_core
netns_add_host client "$CLIENT_IP"
netns_add_host mirror "$MIRROR_IP"
CLIENT_NS="${NS_PREFIX}client"

P="sha256:$(printf 'a%.0s' {1..64})"
Q="sha256:$(printf 'c%.0s' {1..64})"
R="sha256:$(printf 'd%.0s' {1..64})"
mkdir -p "$TMP/www/use1/containers/images"
echo blob >"$TMP/www/use1/containers/images/$P"
echo blob >"$TMP/www/use1/containers/images/$R"
start_nginx mirror "$TMP/www" 8081 "$MIRROR_IP" "${NS_PREFIX}mirror"
printf '10.0.0.0/8 aws us-east-1\n172.16.0.0/12 gcp us-central1\n' >"$TMP/ranges.txt"
printf 'aws:us-east-1\thttp://%s:8081/use1\ngcp\tupstream\n*\tupstream\n' "$MIRROR_IP" >"$TMP/mirrors"
UPSTREAM="http://198.18.1.20:5000"

nsenter --net="/run/netns/$SERVER_NS" "$ARCHEIO" serve --listen :8080 --xdp-iface "$SERVER_IF" \
	--xdp-mode native --bpffs "$BPFFS" --ranges "$TMP/ranges.txt" --mirrors "$TMP/mirrors" \
	--upstream "$UPSTREAM" --upstream-path "" --trusted-proxy "$CLIENT_IP/32" --xff-hops 1 --workers 2 \
	>"$TMP/server.log" 2>&1 &
PID=$!
on_exit "kill $PID; wait $PID"
wait_for_log "$TMP/server.log" "listening on" 30 || { cat "$TMP/server.log"; exit 1; }
URL="http://$SERVER_IP:8080"

# What archeio answers for each route of the mix, asked once with curl; the
# blob with the mirror present must go to the mirror, the others upstream.
answer() { ns_exec "$CLIENT_NS" curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H "X-Forwarded-For: $2" "$URL$1"; }
ALLOWED=""
expect() {
	local got
	got=$(answer "$1" "$2")
	check_eq "answer to $1 for $2" "$got" "$3"
	ALLOWED+="$got|"
}
expect /v2/pause/manifests/3.9 10.1.0.1 "307 $UPSTREAM/v2/pause/manifests/3.9"
expect "/v2/pause/blobs/$P" 10.1.0.2 "307 http://$MIRROR_IP:8081/use1/containers/images/$P"
expect "/v2/pause/blobs/$Q" 10.2.0.3 "307 $UPSTREAM/v2/pause/blobs/$Q"
expect "/v2/pause/blobs/$R" 172.16.0.4 "307 $UPSTREAM/v2/pause/blobs/$R"
expect /v2/pause/tags/list 172.16.0.5 "307 $UPSTREAM/v2/pause/tags/list"
expect /nope 10.1.0.6 "404 "
expect "/v2/pause/manifests/sha256:$(printf 'b%.0s' {1..64})" 172.16.0.8 \
	"307 $UPSTREAM/v2/pause/manifests/sha256:$(printf 'b%.0s' {1..64})"

fds() { ls "/proc/$PID/fd" | wc -l; }
tags() { bpftool map dump pinned "$BPFFS/conn_tags" 2>/dev/null | grep -c '"key"\|^key' || true; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$PID/status"; }
# A short warm-up run first, so that the descriptors every worker keeps
# (libcurl's connections to the mirror) are open before counting.
SOAK_ALLOWED="$ALLOWED" SOAK_PRESENT="$P" SOAK_ABSENT="$Q" SOAK_GCP="$R" \
	ns_exec "$CLIENT_NS" wrk -t2 -c50 -d2s -s "$ROOT/bench/soak.lua" "$URL" >/dev/null 2>&1
sleep 1
FDS_BEFORE=$(fds)
log "before: fds=$FDS_BEFORE rss_kb=$(rss) conn_tags=$(tags)"

( for ((i = 0; i < DURATION + 5; i++)); do echo "$i $(rss) $(tags)"; sleep 1; done ) >"$TMP/samples" &
SAMPLER=$!
on_exit "kill $SAMPLER"
SOAK_ALLOWED="$ALLOWED" SOAK_PRESENT="$P" SOAK_ABSENT="$Q" SOAK_GCP="$R" SOAK_CHURN=${SOAK_CHURN:-10} \
	ns_exec "$CLIENT_NS" bash -c "ulimit -n \$(ulimit -Hn); wrk -t2 -c$CONNS -d${DURATION}s --timeout 5s \
	-s '$ROOT/bench/soak.lua' '$URL'" >"$TMP/wrk.out" 2>&1
cat "$TMP/wrk.out"
sleep 3
kill "$SAMPLER" 2>/dev/null
FDS_AFTER=$(fds)
TAGS_AFTER=$(tags)
line=$(grep '^SOAK requests=' "$TMP/wrk.out")
requests=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")
unexpected=$(sed -E 's/.*unexpected=([0-9]+).*/\1/' <<<"$line")
read -r rss_min rss_max tags_max < <(awk -v w="$WARMUP" -v d="$DURATION" \
	'$1 >= w && $1 < d { if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 }
	 { if ($3 > t) t = $3 } END { print min, max, t }' "$TMP/samples")
log "requests=$requests unexpected=$unexpected"
log "rss after ${WARMUP}s warm-up: min ${rss_min} kB max ${rss_max} kB (spread $((rss_max - rss_min)) kB)"
log "conn_tags entries: at most $tags_max while running, $TAGS_AFTER after"
log "fds: $FDS_BEFORE before, $FDS_AFTER after"
grep -c 'status=' "$TMP/server.log" >/dev/null || true
check_eq "at least 1,000,000 requests" "$([ "${requests:-0}" -ge 1000000 ] && echo yes)" yes
check_eq "unexpected answers" "$unexpected" 0
check_eq "RSS flat within 1 MB after warm-up" "$([ $((rss_max - rss_min)) -le 1024 ] && echo yes)" yes
check_eq "fds back to where they were" "$FDS_AFTER" "$FDS_BEFORE"
check_eq "conn_tags bounded (empty once connections are done)" "$([ "$TAGS_AFTER" -le 16 ] && echo yes)" yes
finish
