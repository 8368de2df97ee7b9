#!/usr/bin/env bash
# Regional upstreams (--upstream-rules): the built binary with the real
# provider ranges; clients of several regions (X-Forwarded-For from a trusted
# 127.0.0.1) get their region's upstream for manifests, tags, referrers and a
# blob's upstream fallback; --upstream for clients no rule matches; the start-up
# log shows the rules; SIGHUP rereads them and a bad file keeps the last good.
source "$(dirname "$0")/../lib/common.sh"
require_cmd curl nginx python3

eval "$(python3 "$ROOT/tests/lib/pick_addresses.py" "$SHARED_DATA")"

# Nothing listens on the upstreams: archeio only names them in redirects.
UPSTREAM="http://127.0.0.1:$(free_port)"
USE1_UP="http://127.0.0.1:$(free_port)/use1"
AWS_UP="http://127.0.0.1:$(free_port)/aws"
GCP_UP="http://127.0.0.1:$(free_port)/gcp"
MPORT=$(free_port)
MIRROR="http://127.0.0.1:$MPORT"
mkdir -p "$TMP/www/use1/containers/images"
start_nginx mirror "$TMP/www" "$MPORT" || exit 1

mkdir -p "$TMP/ranges"
cp "$SHARED_DATA/aws-ip-ranges.json" "$SHARED_DATA/gcp-cloud.json" "$SHARED_DATA/azure-service-tags.json" "$TMP/ranges/"
# The us-east-1 mirror has no blob: its clients fall back to their upstream.
printf 'aws:us-east-1 %s/use1\n* upstream\n' "$MIRROR" >"$TMP/mirrors"
cat >"$TMP/upstreams" <<RULES
# most specific wins; azure and unlisted clients: no rule, --upstream
aws:us-east-1 $USE1_UP/
aws $AWS_UP
gcp:us-central1 $GCP_UP
RULES

PORT=$(free_port)
"$ARCHEIO" serve --listen "127.0.0.1:$PORT" --ranges "$TMP/ranges" --mirrors "$TMP/mirrors" \
	--upstream "$UPSTREAM" --upstream-path "k8s-artifacts-prod/images" \
	--upstream-rules "$TMP/upstreams" --trusted-proxy 127.0.0.1/32 --xff-hops 2 \
	--workers 2 --access-log --mirror-timeout-ms 1000 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
on_exit "kill $SERVER_PID"
wait_for_log "$TMP/server.log" "listening on" 20 || { cat "$TMP/server.log"; exit 1; }
BASE="http://127.0.0.1:$PORT"
P=v2/k8s-artifacts-prod/images
DIGEST="sha256:$(printf 'c%.0s' {1..64})"
as() { status_location "$BASE$2" -H "X-Forwarded-For: $1, 127.0.0.1"; }

log "start-up log: the file and each rule"
check_match "config names the file" "$(grep ' config ' "$TMP/server.log")" "upstream_rules=$TMP/upstreams"
check_match "state counts the rules" "$(grep 'prefixes=' "$TMP/server.log" | head -1)" "mirror_rules=2 upstream_rules=3"
check_eq "each rule logged" "$(grep -c 'upstream rule' "$TMP/server.log")" "3"
check_match "a region rule" "$(grep 'upstream rule' "$TMP/server.log")" "cloud=aws region=us-east-1 upstream=$USE1_UP"

log "manifests by region ($AWS_USE1_REGION, $AWS_EUW1_REGION, $GCP_REGION, $AZURE_REGION, unlisted)"
check_eq "aws us-east-1" "$(as "$AWS_USE1" /v2/pause/manifests/3.9)" "307 $USE1_UP/$P/pause/manifests/3.9"
check_eq "aws eu-west-1: the cloud's rule" "$(as "$AWS_EUW1" /v2/pause/manifests/3.9)" "307 $AWS_UP/$P/pause/manifests/3.9"
check_eq "aws us-west-2 (IPv6)" "$(as "$AWS_V6" /v2/pause/manifests/3.9)" "307 $AWS_UP/$P/pause/manifests/3.9"
check_eq "gcp us-central1" "$(as "$GCP" /v2/pause/manifests/3.9)" "307 $GCP_UP/$P/pause/manifests/3.9"
check_eq "azure: no rule" "$(as "$AZURE" /v2/pause/manifests/3.9)" "307 $UPSTREAM/$P/pause/manifests/3.9"
check_eq "unlisted: no rule" "$(as "$UNLISTED" /v2/pause/manifests/3.9)" "307 $UPSTREAM/$P/pause/manifests/3.9"
check_eq "the peer itself (no header): 400" "$(status_location "$BASE/v2/pause/manifests/3.9")" "400 -"

log "tags, referrers, queries, blobs"
check_eq "tags with query" "$(as "$GCP" '/v2/pause/tags/list?n=2&last=a')" "307 $GCP_UP/$P/pause/tags/list?n=2&last=a"
check_eq "referrers" "$(as "$AWS_USE1" "/v2/pause/referrers/$DIGEST")" "307 $USE1_UP/$P/pause/referrers/$DIGEST"
check_eq "blob, mirror lacks it: region's upstream" "$(as "$AWS_USE1" "/v2/pause/blobs/$DIGEST")" "307 $USE1_UP/$P/pause/blobs/$DIGEST"
check_eq "blob, mirror rule upstream: region's upstream" "$(as "$GCP" "/v2/pause/blobs/$DIGEST")" "307 $GCP_UP/$P/pause/blobs/$DIGEST"
check_eq "/v2/ untouched" "$(as "$GCP" /v2/)" "200 -"
check_match "access log has the client and region" \
	"$(grep "client=$GCP " "$TMP/server.log" | grep manifests | tail -1)" "cloud=gcp region=us-central1 .*target=$GCP_UP/"

log "SIGHUP: new rules take effect; a bad file keeps the last good"
printf '* %s/star\n' "$UPSTREAM" >"$TMP/upstreams"
kill -HUP "$SERVER_PID"
wait_for_log "$TMP/server.log" "reloaded" 10
check_eq "gcp now *" "$(as "$GCP" /v2/pause/manifests/3.9)" "307 $UPSTREAM/star/$P/pause/manifests/3.9"
check_eq "unlisted now *" "$(as "$UNLISTED" /v2/pause/manifests/3.9)" "307 $UPSTREAM/star/$P/pause/manifests/3.9"
printf 'gcp upstream\n' >"$TMP/upstreams"
kill -HUP "$SERVER_PID"
wait_for_log "$TMP/server.log" "reload failed" 10
check_match "reload error names file, line and keyword" "$(grep 'reload failed' "$TMP/server.log")" \
	"upstreams:1: 'upstream' is not allowed here"
check_eq "last good rules kept" "$(as "$GCP" /v2/pause/manifests/3.9)" "307 $UPSTREAM/star/$P/pause/manifests/3.9"

log "start-up: a bad rules file is refused, exit 2"
rc=0
out=$("$ARCHEIO" serve --listen "127.0.0.1:$(free_port)" --upstream-rules "$TMP/upstreams" 2>&1) || rc=$?
check_eq "exit status" "$rc" "2"
check_match "message" "$out" "upstreams:1: 'upstream' is not allowed here"
finish
