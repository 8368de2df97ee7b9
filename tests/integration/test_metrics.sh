#!/usr/bin/env bash
# The operator's port (--metrics-listen): traffic of every kind through the
# built server — manifests, tags, referrers to the signature upstream, the
# info page, blobs through a trusted proxy with the mirror having the blob or
# not (and cached), a client in a range whose rule is upstream, an unlisted
# one, a bad X-Forwarded-For, 404, 405, malformed, 505, 414, a slow head (408),
# plain HTTP and garbage on the TLS port, a good and a bad reload — then the
# counters read back from /metrics with their exact values; /healthz,
# /readyz (503 with the reason while the --ranges given hold no prefixes, 200
# once a reload brings some), 404/405 on the metrics port, no /metrics on the
# public ports; the stale-ranges warning and metric from an old AWS
# createDate; `promtool check metrics` on the text.
source "$(dirname "$0")/../lib/common.sh"
require_cmd curl nginx python3 openssl promtool
source "$ROOT/tests/lib/make-certs.sh"

DIGEST_A="sha256:$(printf 'a%.0s' {1..64})" # on the mirror
DIGEST_B="sha256:$(printf 'b%.0s' {1..64})" # not on it
MPORT=$(free_port)
MIRROR="http://127.0.0.1:$MPORT"
mkdir -p "$TMP/www/use1/containers/images"
echo blob >"$TMP/www/use1/containers/images/$DIGEST_A"
start_nginx mirror "$TMP/www" "$MPORT" || exit 1
UPSTREAM="http://127.0.0.1:$(free_port)"
SIGUP="http://127.0.0.1:$(free_port)/sig"

# Ranges: an AWS file published 2020-01-02T03:04:05Z (stale under 30d), an
# Azure file with its changeNumber, an operator file.
mkdir -p "$TMP/ranges"
cat >"$TMP/ranges/aws.json" <<'JSON'
{"syncToken": "1", "createDate": "2020-01-02-03-04-05",
 "prefixes": [{"ip_prefix": "203.0.113.0/24", "region": "us-east-1", "service": "AMAZON"}],
 "ipv6_prefixes": []}
JSON
cat >"$TMP/ranges/azure.json" <<'JSON'
{"changeNumber": 42, "cloud": "Public", "values": [{"name": "AzureCloud.westeurope",
 "properties": {"region": "westeurope", "addressPrefixes": ["192.0.2.0/25"]}}]}
JSON
printf '198.18.7.0/24 lab lab-1\n' >"$TMP/ranges/ops.txt"
printf 'aws:us-east-1 %s/use1\nlab upstream\n* upstream\n' "$MIRROR" >"$TMP/mirrors"

make_ca "$TMP/ca" && make_cert "$TMP/ca" server "IP:127.0.0.1" || exit 1

PORT=$(free_port)
TLS_PORT=$(free_port)
METRICS_PORT=$(free_port)
METRICS="http://127.0.0.1:$METRICS_PORT"
"$ARCHEIO" serve --listen "127.0.0.1:$TLS_PORT" --plain-listen "127.0.0.1:$PORT" \
	--tls-cert "$TMP/ca/server.crt" --tls-key "$TMP/ca/server.key" \
	--metrics-listen "127.0.0.1:$METRICS_PORT" --ranges "$TMP/ranges" --mirrors "$TMP/mirrors" \
	--upstream "$UPSTREAM" --upstream-path "" --signature-upstream "$SIGUP" \
	--trusted-proxy 127.0.0.1/32 --xff-hops 2 --workers 2 --ranges-max-age 30d \
	--header-timeout-ms 300 --mirror-probe-interval-ms 3600000 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
on_exit "kill $SERVER_PID; wait $SERVER_PID"
wait_for_log "$TMP/server.log" "listening on" 20 || { cat "$TMP/server.log"; exit 1; }
BASE="http://127.0.0.1:$PORT"

# scrape: /metrics into $TMP/m.txt; metric 'NAME{LABELS}': its value, 0 when absent.
scrape() { curl -s --max-time 5 "$METRICS/metrics" >"$TMP/m.txt"; }
metric() { awk -v k="$1" '$1 == k {v = $2; found = 1} END {print found ? v : 0}' "$TMP/m.txt"; }
# Waits (bounded) until every client connection has been closed and counted.
scrape_settled() {
	local i
	for ((i = 0; i < 50; i++)); do
		scrape
		[ "$(metric archeio_connections_open)" = 0 ] && return 0
		sleep 0.1
	done
}
# raw PORT BYTES [PAUSE]: sends BYTES (printf escapes), reads the answer;
# prints its status code, "none" when there was none.
raw() {
	python3 - "$@" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
if len(sys.argv) > 3:
    time.sleep(float(sys.argv[3]))
data = b""
try:
    while len(data) < 65536:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except (socket.timeout, ConnectionResetError):
    pass
s.close()
print(data.split(b" ")[1].decode() if data.startswith(b"HTTP/") else "none")
PY
}

log "the operator's port before any traffic"
# body_and_status URL: the body (newlines dropped), a space, the status.
body_and_status() { curl -s --max-time 5 -w ' %{http_code}' "$1" | tr -d '\n'; }
check_eq "/healthz" "$(body_and_status "$METRICS/healthz")" "ok 200"
check_eq "/readyz" "$(body_and_status "$METRICS/readyz")" "ok 200"
check_eq "anything else is 404" "$(curl -s -o /dev/null -w '%{http_code}' "$METRICS/v2/")" "404"
check_eq "POST is 405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$METRICS/metrics")" "405"
check_match "/metrics is Prometheus text 0.0.4" \
	"$(curl -s -o /dev/null -w '%{content_type}' "$METRICS/metrics")" "^text/plain; version=0.0.4"
check_eq "/metrics is not served on the public port" \
	"$(curl -s -o /dev/null -w '%{http_code}' "$BASE/metrics")" "404"
scrape
check_eq "one connection so far (the public /metrics)" "$(metric archeio_connections_accepted_total)" "1"
check_eq "ready" "$(metric archeio_ready)" "1"
check_match "build info has the version" "$(grep '^archeio_build_info' "$TMP/m.txt")" \
	'^archeio_build_info\{version="[^"]+"\} 1$'

log "stale ranges: warning and metrics"
check_match "the stale warning at start" "$(grep ' warn ranges are stale' "$TMP/server.log")" \
	'data_time=2020-01-02T03:04:05Z from="publication stamp" age_s=[0-9]+ max_age_s=2592000'
check_eq "archeio_ranges_stale" "$(metric archeio_ranges_stale)" "1"
check_eq "data time: the AWS createDate" "$(metric archeio_ranges_data_timestamp_seconds)" "1577934245"
check_eq "max age" "$(metric archeio_ranges_max_age_seconds)" "2592000"
age=$(metric archeio_ranges_age_seconds)
check_eq "age = now - createDate (within a minute)" "$(((age - ($(date +%s) - 1577934245)) / 60))" "0"
check_eq "AWS file's publication time" \
	"$(metric "archeio_ranges_file_published_timestamp_seconds{file=\"$TMP/ranges/aws.json\",format=\"aws\"}")" \
	"1577934245"
check_eq "Azure file's changeNumber" \
	"$(metric "archeio_ranges_file_change_number{file=\"$TMP/ranges/azure.json\",format=\"azure\"}")" "42"
check_eq "prefixes: aws IPv4" "$(metric 'archeio_ranges_prefixes{cloud="aws",family="ipv4"}')" "1"
check_eq "prefixes: lab IPv4" "$(metric 'archeio_ranges_prefixes{cloud="lab",family="ipv4"}')" "1"

log "traffic"
req() { curl -s -o /dev/null --max-time 5 -w '%{http_code}' "$@"; }
blob() { echo "$BASE/v2/pause/blobs/$1"; }
check_eq "ping" "$(req "$BASE/v2/")" "200"
check_eq "manifest" "$(req "$BASE/v2/pause/manifests/3.9")" "307"
check_eq "tags (HEAD)" "$(req -I "$BASE/v2/pause/tags/list")" "307"
check_eq "referrers -> signature upstream" "$(req "$BASE/v2/pause/referrers/$DIGEST_A")" "307"
check_eq "info page" "$(req "$BASE/")" "307"
check_eq "404" "$(req "$BASE/nope")" "404"
check_eq "405" "$(req -X POST "$BASE/v2/")" "405"
# Each pair on one connection, so the second is answered from that worker's cache.
XFF="X-Forwarded-For: 203.0.113.5, 198.18.0.9"
check_eq "aws us-east-1, on the mirror, twice" \
	"$(curl -s -o /dev/null -o /dev/null -w '%{http_code} %{redirect_url}\n' -H "$XFF" "$(blob "$DIGEST_A")" "$(blob "$DIGEST_A")" | sort -u)" \
	"307 $MIRROR/use1/containers/images/$DIGEST_A"
check_eq "aws us-east-1, not on the mirror, twice" \
	"$(curl -s -o /dev/null -o /dev/null -w '%{http_code} %{redirect_url}\n' -H "$XFF" "$(blob "$DIGEST_B")" "$(blob "$DIGEST_B")" | sort -u)" \
	"307 $UPSTREAM/v2/pause/blobs/$DIGEST_B"
check_eq "lab (rule: upstream)" "$(req -H 'X-Forwarded-For: 198.18.7.9, 198.18.0.9' "$(blob "$DIGEST_A")")" "307"
check_eq "unlisted" "$(req -H 'X-Forwarded-For: 198.51.100.1, 198.18.0.9' "$(blob "$DIGEST_A")")" "307"
check_eq "bad X-Forwarded-For" "$(req -H 'X-Forwarded-For: nope' "$(blob "$DIGEST_A")")" "400"
check_eq "malformed request: 400" "$(raw "$PORT" 'GARBAGE\r\n\r\n')" "400"
check_eq "HTTP/9.9: 505" "$(raw "$PORT" 'GET / HTTP/9.9\r\n\r\n')" "505"
check_eq "long request line: 414" "$(raw "$PORT" "GET /$(printf 'a%.0s' {1..9000}) HTTP/1.1\r\n\r\n")" "414"
check_eq "slow head: 408" "$(raw "$PORT" 'GET /v2/ HTTP/1.1\r\n' 0.8)" "408"
check_eq "plain HTTP on the TLS port: 400" "$(raw "$TLS_PORT" 'GET /v2/ HTTP/1.1\r\n\r\n')" "400"
check_eq "garbage handshake on the TLS port: closed" "$(raw "$TLS_PORT" '\x16\x03\x01\x00\x04\x01\x00\x00\x00')" "none"
check_eq "HTTPS manifest" "$(req --cacert "$TMP/ca/server.crt" "https://127.0.0.1:$TLS_PORT/v2/pause/manifests/3.9")" "307"

log "the counters, exactly"
scrape_settled
expect() { check_eq "$1" "$(metric "$1")" "$2"; }
expect 'archeio_requests_total{route="ping",status="200"}' 1
expect 'archeio_requests_total{route="manifest",status="307"}' 2
expect 'archeio_requests_total{route="tags",status="307"}' 1
expect 'archeio_requests_total{route="signature",status="307"}' 1
expect 'archeio_requests_total{route="other",status="307"}' 1
expect 'archeio_requests_total{route="other",status="404"}' 2 # /nope and /metrics
expect 'archeio_requests_total{route="other",status="405"}' 1
expect 'archeio_requests_total{route="blob",status="307"}' 6
expect 'archeio_requests_total{route="blob",status="400"}' 1
check_eq "no other request series" "$(grep -c '^archeio_requests_total' "$TMP/m.txt")" "9"
expect 'archeio_redirects_total{target="mirror"}' 2
expect 'archeio_redirects_total{target="upstream"}' 7
expect 'archeio_redirects_total{target="signature"}' 1
expect 'archeio_redirects_total{target="page"}' 1
expect 'archeio_blob_redirects_total{cloud="aws",region="us-east-1",target="mirror"}' 2
expect 'archeio_blob_redirects_total{cloud="aws",region="us-east-1",target="upstream"}' 2
expect 'archeio_blob_redirects_total{cloud="lab",region="lab-1",target="upstream"}' 1
expect 'archeio_blob_redirects_total{cloud="unlisted",region="unlisted",target="upstream"}' 1
check_eq "no other blob redirect series" "$(grep -c '^archeio_blob_redirects_total' "$TMP/m.txt")" "4"
expect 'archeio_mirror_cache_hits_total{answer="present"}' 1
expect 'archeio_mirror_cache_hits_total{answer="absent"}' 1
expect 'archeio_mirror_cache_misses_total' 2
expect 'archeio_mirror_check_joins_total' 0
expect 'archeio_mirror_checks_not_made_total' 0
expect "archeio_mirror_checks_total{origin=\"$MIRROR\",result=\"present\"}" 1
expect "archeio_mirror_checks_total{origin=\"$MIRROR\",result=\"absent\"}" 1
expect "archeio_mirror_checks_total{origin=\"$MIRROR\",result=\"error\"}" 0
expect "archeio_mirror_checks_total{origin=\"$MIRROR\",result=\"timeout\"}" 0
expect 'archeio_mirror_check_duration_seconds_count' 2
expect 'archeio_mirror_check_duration_seconds_bucket{le="+Inf"}' 2
# 17 connections to the plain port (the two blob pairs share one each), 3 to the TLS port.
expect archeio_connections_accepted_total 20
expect archeio_connections_open 0
expect 'archeio_connections_closed_total{reason="client"}' 14
expect 'archeio_connections_closed_total{reason="server"}' 0
expect 'archeio_connections_closed_total{reason="timeout"}' 1
expect 'archeio_connections_closed_total{reason="limit"}' 1
expect 'archeio_connections_closed_total{reason="error"}' 4
expect 'archeio_http_errors_total{status="400"}' 2
expect 'archeio_http_errors_total{status="408"}' 1
expect 'archeio_http_errors_total{status="414"}' 1
expect 'archeio_http_errors_total{status="431"}' 0
expect 'archeio_http_errors_total{status="505"}' 1
expect archeio_tls_plain_http_total 1
expect archeio_tls_handshake_failures_total 1
expect archeio_tls_reload_failures_total 0
expect archeio_workers 2
check_match "process metrics" "$(grep -c -E '^process_(start_time_seconds|cpu_seconds_total|resident_memory_bytes|virtual_memory_bytes|open_fds|max_fds) ' "$TMP/m.txt")" "^6$"
check_eq "promtool check metrics" "$(promtool check metrics <"$TMP/m.txt" 2>&1)" ""

log "the alert rules in docs/deploying.md parse"
# The yaml block starting "groups:" in its "## Metrics and alerts" section.
awk '/^## /{in_section = ($0 == "## Metrics and alerts")} in_section && /^```yaml$/{block = 1; n = 0; next}
	block && /^```$/{block = 0} block {n++; if (n == 1 && $0 != "groups:") block = 0; else print}' \
	"$ROOT/docs/deploying.md" >"$TMP/rules.yml"
check_match "promtool check rules" "$(promtool check rules "$TMP/rules.yml" 2>&1)" "SUCCESS: [0-9]+ rules found"
check_eq "every alert names an archeio metric that exists" \
	"$(grep -o 'archeio_[a-z_]*' "$TMP/rules.yml" | sort -u | while read -r m; do
		grep -q "^# TYPE $m " "$TMP/m.txt" || echo "$m"
	done)" ""

log "reloads: a good one, then a bad one"
expect archeio_ranges_generation 1
kill -HUP "$SERVER_PID"
wait_for_log "$TMP/server.log" "info reloaded" 10
printf 'not a range\n' >"$TMP/ranges/zz-bad.txt"
kill -HUP "$SERVER_PID"
wait_for_log "$TMP/server.log" "reload failed" 10
rm -f "$TMP/ranges/zz-bad.txt"
scrape
expect 'archeio_ranges_reloads_total{result="success"}' 1
expect 'archeio_ranges_reloads_total{result="failure"}' 1
expect archeio_ranges_generation 2
check_eq "the stale warning again after the reload" "$(grep -c ' warn ranges are stale' "$TMP/server.log")" "2"

log "readiness: --ranges that hold no prefixes"
mkdir -p "$TMP/empty"
PORT2=$(free_port)
METRICS2="http://127.0.0.1:$(free_port)"
"$ARCHEIO" serve --listen "127.0.0.1:$PORT2" --metrics-listen "${METRICS2#http://}" --ranges "$TMP/empty" \
	--upstream "$UPSTREAM" --workers 1 >"$TMP/server2.log" 2>&1 &
PID2=$!
on_exit "kill $PID2; wait $PID2"
wait_for_log "$TMP/server2.log" "listening on" 20 || { cat "$TMP/server2.log"; exit 1; }
check_eq "/readyz 503 with the reason" "$(curl -s -w '%{http_code}' "$METRICS2/readyz")" \
	"no ranges loaded: the --ranges given hold no prefixes (every client would get the * mirror rule)
503"
check_eq "/healthz still 200" "$(curl -s -o /dev/null -w '%{http_code}' "$METRICS2/healthz")" "200"
check_eq "archeio_ready 0" "$(curl -s "$METRICS2/metrics" | awk '$1 == "archeio_ready" {print $2}')" "0"
check_eq "no files: not stale" "$(curl -s "$METRICS2/metrics" | awk '$1 == "archeio_ranges_stale" {print $2}')" "0"
printf '10.0.0.0/8 lab lab-1\n' >"$TMP/empty/ops.txt"
kill -HUP "$PID2"
wait_for_log "$TMP/server2.log" "info reloaded" 10
check_eq "/readyz 200 once ranges are there" "$(body_and_status "$METRICS2/readyz")" "ok 200"
check_eq "a fresh operator file is not stale" \
	"$(curl -s "$METRICS2/metrics" | awk '$1 == "archeio_ranges_stale" {print $2}')" "0"

log "a metrics address in use is refused at start"
out=$("$ARCHEIO" serve --listen "127.0.0.1:$(free_port)" --metrics-listen "127.0.0.1:$METRICS_PORT" \
	--upstream "$UPSTREAM" --workers 1 2>&1)
rc=$?
check_eq "exit status 1" "$rc" "1"
check_match "names the address" "$out" "error --metrics-listen: cannot listen on 127.0.0.1:$METRICS_PORT"
finish
