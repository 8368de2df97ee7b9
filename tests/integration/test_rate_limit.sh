#!/usr/bin/env bash
# --rate-limit: per-client token buckets shared by the workers. Clients come
# through a trusted proxy (X-Forwarded-For from loopback), each request on a
# new connection, so with 2 workers a client's requests land on both: the
# burst is cut at --rate-burst in total, not per worker. Over the limit: 429
# TOOMANYREQUESTS with Retry-After and no Location; other clients, exempt
# CIDRs and exempt clouds are untouched; IPv6 clients share their /64; the
# bucket refills with time; the refusal is logged at debug and counted by the
# client's cloud in /metrics.
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

finish
