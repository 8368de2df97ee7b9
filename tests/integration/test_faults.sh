#!/usr/bin/env bash
# Faults (issue 10): mirrors that hang, trickle, send a huge body or endless
# headers, reset, or redirect elsewhere; and ranges files replaced or cut
# under a running server. For each mirror fault: blob requests go upstream
# within the check timeout, manifest requests on the same (single) worker keep
# their idle p99 (within 2x + 3 ms), the redirect is never followed, and the
# server's RSS stays bounded. Everything on loopback.
source "$(dirname "$0")/../lib/common.sh"
require_cmd python3

LOAD="$ROOT/tests/lib/fault_load.py"
load() { python3 "$LOAD" "$@" 2>&1; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

MPORT=$(free_port)
RPORT=$(free_port)
UPSTREAM="http://127.0.0.1:$(free_port)"
TIMEOUT_MS=1000
MODES=(hang slow hugebody headers reset redirect)

# The redirect target: a host no rule names; any request reaching it is a failure.
python3 "$ROOT/tests/lib/bad-mirror.py" "$RPORT" "-" 2>"$TMP/elsewhere.log" &
on_exit "kill $!; wait $!"
# One loopback address per mode (127.0.0.11, .12, ...): each mode is its own
# mirror origin, so one marked failing does not stop the next mode's checks.
MODE_ADDRS=()
for i in "${!MODES[@]}"; do MODE_ADDRS+=("127.0.0.$((11 + i))"); done
python3 "$ROOT/tests/lib/bad-mirror.py" "$MPORT" "http://127.0.0.1:$RPORT" "${MODE_ADDRS[@]}" 2>"$TMP/mirror.log" &
on_exit "kill $!; wait $!"
wait_for_port 127.0.0.1 "$MPORT" 10 || exit 1
wait_for_port 127.0.0.1 "$RPORT" 10 || exit 1

# Client 10.0.N.1 is in region lab:<mode N>, whose mirror misbehaves that way.
: >"$TMP/ranges.txt"
: >"$TMP/mirrors"
for i in "${!MODES[@]}"; do
	printf '10.0.%d.0/24 lab %s\n' "$i" "${MODES[$i]}" >>"$TMP/ranges.txt"
	printf 'lab:%s http://%s:%s/%s\n' "${MODES[$i]}" "${MODE_ADDRS[$i]}" "$MPORT" "${MODES[$i]}" >>"$TMP/mirrors"
done
printf '10.0.99.0/24 lab ok\n' >>"$TMP/ranges.txt"
printf 'lab:ok http://127.0.0.1:%s/ok\n* upstream\n' "$MPORT" >>"$TMP/mirrors"

PORT=$(free_port)
"$ARCHEIO" serve --listen "127.0.0.1:$PORT" --workers 1 --ranges "$TMP/ranges.txt" \
	--mirrors "$TMP/mirrors" --upstream "$UPSTREAM" --upstream-path "" \
	--trusted-proxy 127.0.0.1/32 --xff-hops 1 --mirror-timeout-ms "$TIMEOUT_MS" \
	>"$TMP/server.log" 2>&1 &
SERVER=$!
on_exit "kill $SERVER; wait $SERVER"
wait_for_log "$TMP/server.log" "listening on" 20 || { cat "$TMP/server.log"; exit 1; }

log "control: a healthy mirror"
check_match "healthy mirror: every blob goes to it" "$(load blobs "$PORT" 10.0.99.1 10 ok)" \
	"^307:mirror=10 max_ms=[0-9]+$"

# Warm up, then the idle figure (twice: the better one, since the VM is shared).
load latency "$PORT" 500 >/dev/null
idle=$(load latency "$PORT" 2000)
idle2=$(load latency "$PORT" 2000)
[ "${idle2#* }" -lt "${idle#* }" ] && idle=$idle2
idle_p99=${idle#* }
log "idle manifest latency p50/p99: ${idle% *}/${idle_p99} us"
rss_before=$(rss_kb "$SERVER")

for i in "${!MODES[@]}"; do
	mode=${MODES[$i]}
	log "mirror fault: $mode"
	# 20 blob checks at once, each a new digest, while manifests are timed.
	load blobs "$PORT" "10.0.$i.1" 20 "$mode" >"$TMP/blobs.$mode" &
	blobs_pid=$!
	sleep 0.1
	during=$(load latency "$PORT" 2000)
	wait "$blobs_pid"
	result=$(cat "$TMP/blobs.$mode")
	check_match "$mode: every blob goes upstream" "$result" "^307:upstream=20 max_ms=[0-9]+$"
	max_ms=${result##*max_ms=}
	check_eq "$mode: within the check timeout ($TIMEOUT_MS ms + 600 ms slack; took $max_ms)" \
		"$((max_ms <= TIMEOUT_MS + 600))" 1
	p99=${during#* }
	log "$mode: manifest p50/p99 during the fault: ${during% *}/$p99 us"
	# +10 ms for a shared 2-core VM: a loop blocked by the fault would add the
	# whole check timeout (1 s), far beyond it.
	check_eq "$mode: manifest p99 $p99 us within 2x idle ($idle_p99 us) + 10 ms" \
		"$((p99 <= 2 * idle_p99 + 10000))" 1
done
# Every fault was met (a check on a connection curl kept from an earlier
# answer may fail before the mirror logs it: fewer than 20 lines is fine).
check_eq "the mirror saw checks in every fault mode" \
	"$(for m in "${MODES[@]}"; do grep -q "^$m " "$TMP/mirror.log" && printf '%s ' "$m"; done)" \
	"${MODES[*]} "
check_eq "the redirect was not followed" "$(wc -l <"$TMP/elsewhere.log")" "0"
rss_after=$(rss_kb "$SERVER")
log "RSS before/after the faults: $rss_before/$rss_after kB"
# ASan keeps freed memory in quarantine (make check-sanitize): the bound is
# for the production build; the sanitizer run checks errors, not size.
RSS_LIMIT_KB=4096
[ -z "${SANITIZER_RUN:-}" ] || RSS_LIMIT_KB=65536
check_eq "RSS bounded: grew $((rss_after - rss_before)) kB (at most $RSS_LIMIT_KB)" \
	"$(((rss_after - rss_before) <= RSS_LIMIT_KB))" 1
check_eq "server still answers" "$(status_location "http://127.0.0.1:$PORT/v2/")" "200 -"
check_match "mirror failures logged" "$(cat "$TMP/server.log")" \
	"mirror failing, its clients go upstream origin=http://127\.0\.0\.1[0-9]:$MPORT/"

finish
