#!/usr/bin/env bash
# --rate-limit: per-client token buckets shared by the workers. Clients come
# through a trusted proxy (X-Forwarded-For from loopback), each request on a
# new connection, so with 2 workers a client's requests land on both: the
# burst is cut at --rate-burst in total, not per worker. Over the limit: 429
# TOOMANYREQUESTS with Retry-After and no Location; other clients, exempt
# CIDRs and exempt clouds are untouched; IPv6 clients share their /64; the
# bucket refills with time; the refusal is logged at debug and counted by the
# client's cloud in /metrics.
# Then --limits-file: a second server started without a limit gets one by
# SIGHUP (429s start), a bad file on reload is logged with FILE:LINE, counted
# and keeps the last good limits, a raised burst does not hand a client that
# spent its burst a fresh one (the buckets survive), and "rate-limit 0" ends
# the 429s; a bad file at start is exit 2 with FILE:LINE.
source "$(dirname "$0")/../lib/common.sh"
require_cmd curl

UPSTREAM="http://127.0.0.1:$(free_port)"
printf '192.0.2.0/24 lab east\n203.0.113.0/24 lab ci\n' >"$TMP/ranges.txt"
printf '*\tupstream\n' >"$TMP/mirrors"
PORT=$(free_port)
MPORT=$(free_port)
"$ARCHEIO" serve --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$MPORT" --workers 2 --ranges "$TMP/ranges.txt" \
	--mirrors "$TMP/mirrors" --upstream "$UPSTREAM" --trusted-proxy 127.0.0.1/32 --xff-hops 1 \
	--rate-limit 1 --rate-burst 5 --rate-limit-exempt 198.51.100.0/24 \
	--rate-limit-exempt lab:ci --log-level debug --access-log >"$TMP/server.log" 2>&1 &
PID=$!
on_exit "kill $PID; wait $PID"
wait_for_log "$TMP/server.log" "listening on" 20 || { cat "$TMP/server.log"; exit 1; }
BASE="http://127.0.0.1:$PORT"

# statuses CLIENT N PATH: the status of N requests, each on its own connection.
statuses() {
	local i out=""
	for ((i = 0; i < $2; i++)); do
		out+="$(curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: $1" "$BASE$3") "
	done
	echo "$out"
}
count() { grep -o "$1" <<<"$2" | wc -l; }

log "a burst from one client is cut at the burst, across both workers"
got=$(statuses 192.0.2.7 12 /v2/pause/manifests/latest)
ok=$(count 307 "$got")
# 1/s: at most one token comes back while the burst runs.
if ((ok >= 5 && ok <= 6)); then pass; else fail "redirects in a burst of 12: $ok ($got)"; fi
check_eq "the rest refused" "$(count 429 "$got")" "$((12 - ok))"

log "the refusal: 429 TOOMANYREQUESTS, Retry-After, no redirect"
curl -s -D "$TMP/h" -o "$TMP/body" -H "X-Forwarded-For: 192.0.2.7" \
	"$BASE/v2/pause/blobs/sha256:$(printf 'a%.0s' {1..64})" >/dev/null
check_match "status line" "$(head -1 "$TMP/h")" "^HTTP/1.1 429 Too Many Requests"
check_match "Retry-After" "$(grep -i '^Retry-After:' "$TMP/h" | tr -d '\r')" "^Retry-After: [1-9][0-9]*$"
check_eq "no Location" "$(grep -ci '^Location:' "$TMP/h")" "0"
check_match "OCI error body" "$(cat "$TMP/body")" '"code":"TOOMANYREQUESTS"'
check_match "HEAD refused too" \
	"$(curl -s -I -o /dev/null -w '%{http_code}' -H 'X-Forwarded-For: 192.0.2.7' "$BASE/v2/")" "^429$"

log "other clients keep their own buckets"
check_eq "another address" "$(count 307 "$(statuses 192.0.2.8 5 /v2/pause/manifests/latest)")" "5"
check_eq "exempt CIDR: never limited" \
	"$(count 307 "$(statuses 198.51.100.1 12 /v2/pause/manifests/latest)")" "12"
check_eq "exempt cloud:region (lab:ci): never limited" \
	"$(count 307 "$(statuses 203.0.113.5 12 /v2/pause/manifests/latest)")" "12"

log "IPv6 clients share their /64"
check_eq "first host of the /64: its burst" \
	"$(count 307 "$(statuses 2001:db8:1:2::1 5 /v2/pause/manifests/latest)")" "5"
check_eq "another host of the same /64: refused" \
	"$(statuses 2001:db8:1:2::ffff 1 /v2/pause/manifests/latest)" "429 "
check_eq "the next /64: its own bucket" \
	"$(statuses 2001:db8:1:3::1 1 /v2/pause/manifests/latest)" "307 "

log "the bucket refills at the rate"
sleep 1.2
check_eq "a second later: one more" "$(statuses 192.0.2.7 1 /v2/pause/manifests/latest)" "307 "

log "logged"
check_match "debug line" "$(grep 'rate limited' "$TMP/server.log" | head -1)" \
	"client=192\.0\.2\.7 cloud=lab region=east retry_after=[0-9]+s"
check_match "access log line with 429" "$(grep 'status=429' "$TMP/server.log" | head -1)" \
	"client=192\.0\.2\.7 cloud=lab region=east .*status=429"
check_match "start-up line" "$(grep 'rate limit:' "$TMP/server.log")" \
	"1 requests/s per client, burst 5, IPv6 per /64, 65536 buckets"

log "counted in /metrics by the client's cloud"
curl -s "http://127.0.0.1:$MPORT/metrics" >"$TMP/m.txt"
# lab: the burst's refusals, the blob and the HEAD; unlisted: the IPv6 one.
check_eq "lab refusals" "$(awk '$1 == "archeio_rate_limited_total{cloud=\"lab\"}" {print $2}' "$TMP/m.txt")" \
	"$((14 - ok))"
check_eq "unlisted refusals" \
	"$(awk '$1 == "archeio_rate_limited_total{cloud=\"unlisted\"}" {print $2}' "$TMP/m.txt")" "1"

log "--limits-file: a bad file at start is FILE:LINE and exit 2"
printf 'rate-limit 5\nrate-burst lots\n' >"$TMP/bad.limits"
rc=0
"$ARCHEIO" serve --listen "127.0.0.1:$(free_port)" --ranges "$TMP/ranges.txt" --mirrors "$TMP/mirrors" \
	--upstream "$UPSTREAM" --limits-file "$TMP/bad.limits" >"$TMP/bad.log" 2>&1 || rc=$?
check_eq "exit status" "$rc" "2"
check_match "message" "$(cat "$TMP/bad.log")" "$TMP/bad.limits:2: rate-burst: 'lots' is not a whole number"

log "--limits-file: limits change on SIGHUP"
kill "$PID"
wait "$PID" 2>/dev/null
printf '# no limit yet\nrate-limit 0\n' >"$TMP/limits"
PORT2=$(free_port)
MPORT2=$(free_port)
"$ARCHEIO" serve --listen "127.0.0.1:$PORT2" --metrics-listen "127.0.0.1:$MPORT2" --workers 2 \
	--ranges "$TMP/ranges.txt" --mirrors "$TMP/mirrors" --upstream "$UPSTREAM" \
	--trusted-proxy 127.0.0.1/32 --xff-hops 1 --limits-file "$TMP/limits" >"$TMP/server2.log" 2>&1 &
PID2=$!
on_exit "kill $PID2; wait $PID2"
wait_for_log "$TMP/server2.log" "listening on" 20 || { cat "$TMP/server2.log"; exit 1; }
BASE="http://127.0.0.1:$PORT2"
# reload WHAT: SIGHUP, then wait (bounded) for one more "limits reload..." line.
reload() {
	local before i
	before=$(grep -c 'limits reload' "$TMP/server2.log")
	kill -HUP "$PID2"
	for ((i = 0; i < 100; i++)); do
		(($(grep -c 'limits reload' "$TMP/server2.log") > before)) && return 0
		sleep 0.05
	done
	fail "no reload line after SIGHUP"
}
check_eq "no limit: 12 of 12 redirected" "$(count 307 "$(statuses 192.0.2.20 12 /v2/pause/manifests/latest)")" "12"

printf 'rate-limit 1\nrate-burst 3\n' >"$TMP/limits"
reload
check_match "the change is logged" "$(grep 'limits reloaded' "$TMP/server2.log" | tail -1)" \
	"rate-limit 0 -> 1, rate-burst 100 -> 3"
got=$(statuses 192.0.2.20 12 /v2/pause/manifests/latest)
ok=$(count 307 "$got")
if ((ok >= 3 && ok <= 4)); then pass; else fail "after SIGHUP, redirects of 12: $ok ($got)"; fi
check_eq "429s start" "$(count 429 "$got")" "$((12 - ok))"

printf 'rate-limit 1\nrate-burst 0\n' >"$TMP/limits"
reload
check_match "a bad file on reload: FILE:LINE" "$(grep 'limits reload failed' "$TMP/server2.log")" \
	"keeping the last good limits: $TMP/limits:2: rate-burst: '0' is not a whole number from 1"
check_eq "the last good limits stay" "$(count 307 "$(statuses 192.0.2.21 5 /v2/pause/manifests/latest)")" "3"

# 192.0.2.22 spends its burst of 3, then the burst is raised to 4: it gets
# the one more token (and at most one refilled), not a fresh 4.
statuses 192.0.2.22 3 /v2/ >/dev/null
printf 'rate-limit 1\nrate-burst 4\n' >"$TMP/limits"
reload
ok=$(count 307 "$(statuses 192.0.2.22 4 /v2/pause/manifests/latest)")
if ((ok >= 1 && ok <= 2)); then pass; else fail "buckets after a reload: $ok of 4 redirected (a fresh bucket: 4)"; fi

printf 'rate-limit 0\n' >"$TMP/limits"
reload
check_eq "rate-limit 0: the 429s stop" "$(count 307 "$(statuses 192.0.2.20 12 /v2/pause/manifests/latest)")" "12"
curl -s "http://127.0.0.1:$MPORT2/metrics" >"$TMP/m2.txt"
check_eq "reloads counted: success" \
	"$(awk '$1 == "archeio_limits_reloads_total{result=\"success\"}" {print $2}' "$TMP/m2.txt")" "3"
check_eq "reloads counted: failure" \
	"$(awk '$1 == "archeio_limits_reloads_total{result=\"failure\"}" {print $2}' "$TMP/m2.txt")" "1"

finish
