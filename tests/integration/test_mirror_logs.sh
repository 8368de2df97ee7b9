#!/usr/bin/env bash
# What the operator is told about mirror checks (issue 14, item 6): a mirror
# origin that fails (here: its nginx stopped, so connections are refused)
# gets one warning naming the origin and the reason, however many requests
# fail within a probe interval and however many workers see it; at most one
# more per interval while it stays down; one line when it answers again; and
# at --log-level debug one line per check with its result. Every client is
# unlisted (no ranges), so the '*' rule sends them all to the one mirror.
source "$(dirname "$0")/../lib/common.sh"
require_cmd curl nginx python3

MPORT=$(free_port)
MIRROR="http://127.0.0.1:$MPORT"
ORIGIN="$MIRROR/"
UPSTREAM="http://127.0.0.1:$(free_port)"
UP="$UPSTREAM/v2/k8s-artifacts-prod/images"
INTERVAL_S=5 # --mirror-probe-interval-ms default
DIGEST_A="sha256:$(printf 'a%.0s' {1..64})" # on the mirror
DIGEST_B="sha256:$(printf 'b%.0s' {1..64})" # not on it
mkdir -p "$TMP/www/containers/images"
echo blob >"$TMP/www/containers/images/$DIGEST_A"
start_nginx mirror "$TMP/www" "$MPORT" || exit 1
printf '* %s\n' "$MIRROR" >"$TMP/mirrors"

PORT=$(free_port)
"$ARCHEIO" serve --listen "127.0.0.1:$PORT" --mirrors "$TMP/mirrors" --upstream "$UPSTREAM" \
	--workers 2 --log-level debug --mirror-timeout-ms 1000 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
on_exit "kill $SERVER_PID"
wait_for_log "$TMP/server.log" "listening on" 20 || { cat "$TMP/server.log"; exit 1; }
BASE="http://127.0.0.1:$PORT"
blob() { status_location "$BASE/v2/pause/blobs/$1"; }
# A digest nobody asked for yet: every request is a new check.
new_digest() { printf 'sha256:%064x' "$((RANDOM * 32768 + RANDOM))$1"; }
# Lines the server logged since mark (a line count).
since() { tail -n "+$(($1 + 1))" "$TMP/server.log"; }
mark() { wc -l <"$TMP/server.log"; }
count() { grep -c -- "$1" || true; }

log "mirror up: each check's result is a debug line"
check_eq "present blob -> mirror" "$(blob "$DIGEST_A")" "307 $MIRROR/containers/images/$DIGEST_A"
check_eq "absent blob -> upstream" "$(blob "$DIGEST_B")" "307 $UP/pause/blobs/$DIGEST_B"
check_match "debug line for the present blob" "$(grep "mirror check" "$TMP/server.log" | grep "$DIGEST_A")" \
	"debug mirror check url=$MIRROR/containers/images/$DIGEST_A result=present status=200"
check_match "debug line for the absent blob" "$(grep "mirror check" "$TMP/server.log" | grep "$DIGEST_B")" \
	"debug mirror check url=$MIRROR/containers/images/$DIGEST_B result=absent status=404"
check_eq "no mirror warning while the mirror answers" "$(grep ' warn ' "$TMP/server.log" | grep -vc 'no ranges loaded')" "0"

log "mirror down: one warning for many failed checks within an interval"
kill "$(cat "$TMP/nginx-mirror/nginx.pid")"
for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null || break; sleep 0.05; done
m=$(mark)
start=$(date +%s%N)
upstream=0
for i in $(seq 1 30); do
	d=$(new_digest "$i")
	[ "$(blob "$d")" = "307 $UP/pause/blobs/$d" ] && upstream=$((upstream + 1))
done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check_eq "30 blobs while the mirror is down go upstream" "$upstream" "30"
[ "$elapsed_ms" -lt $((INTERVAL_S * 1000)) ] || log "note: the 30 requests took ${elapsed_ms} ms, over one interval"
check_eq "one warning naming the origin (30 failed checks, 2 workers, ${elapsed_ms} ms)" \
	"$(since "$m" | count " warn .*origin=$ORIGIN")" "1"
check_match "the warning says what failed and why" "$(since "$m" | grep ' warn ')" \
	"warn mirror failing, its clients go upstream origin=$ORIGIN reason=\".*(refused|connect).*\""
check_match "each failed check is a debug line" "$(since "$m" | count "mirror check url=$MIRROR/.* result=failed")" \
	"^(3[0-9]|[4-9][0-9])$"

log "still down after an interval: at most one more warning"
sleep $((INTERVAL_S + 1))
m=$(mark)
for i in $(seq 31 40); do blob "$(new_digest "$i")" >/dev/null; done
check_eq "one more warning for 10 more failed checks" "$(since "$m" | count " warn .*origin=$ORIGIN")" "1"
check_match "it says the mirror is still failing, with the count" "$(since "$m" | grep ' warn ')" \
	"warn mirror still failing origin=$ORIGIN reason=.* failed_checks=[0-9]+"

log "mirror back: one line"
start_nginx mirror2 "$TMP/www" "$MPORT" || exit 1
m=$(mark)
check_eq "present blob -> mirror again" "$(blob "$DIGEST_A")" "307 $MIRROR/containers/images/$DIGEST_A"
for i in $(seq 41 46); do blob "$(new_digest "$i")" >/dev/null; done
blob "$DIGEST_A" >/dev/null
check_eq "one recovery line naming the origin" "$(since "$m" | count "mirror answering again origin=$ORIGIN")" "1"
check_match "the recovery line is info with the failed checks" "$(since "$m" | grep 'mirror answering again')" \
	"info mirror answering again origin=$ORIGIN failed_checks=[0-9]+ down_s=[0-9]+"
check_eq "no warning once it answers" "$(since "$m" | count ' warn ')" "0"

log "info level: no debug lines, the warning still comes"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
PORT=$(free_port)
"$ARCHEIO" serve --listen "127.0.0.1:$PORT" --mirrors "$TMP/mirrors" --upstream "$UPSTREAM" \
	--workers 1 --mirror-timeout-ms 1000 >"$TMP/server2.log" 2>&1 &
SERVER_PID=$!
on_exit "kill $SERVER_PID"
wait_for_log "$TMP/server2.log" "listening on" 20 || { cat "$TMP/server2.log"; exit 1; }
BASE="http://127.0.0.1:$PORT"
kill "$(cat "$TMP/nginx-mirror2/nginx.pid")"
for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null || break; sleep 0.05; done
for i in $(seq 51 55); do blob "$(new_digest "$i")" >/dev/null; done
check_eq "no check lines at info" "$(count 'mirror check' <"$TMP/server2.log")" "0"
check_eq "the warning at info" "$(count " warn mirror failing.*origin=$ORIGIN" <"$TMP/server2.log")" "1"

finish
