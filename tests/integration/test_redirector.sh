#!/usr/bin/env bash
# The request contract end to end: the built binary with the real provider
# ranges and registry.k8s.io's mirror table (hosts rewritten to a local nginx),
# real requests with curl, X-Forwarded-For from a trusted 127.0.0.1, --xff-hops 2.
source "$(dirname "$0")/../lib/common.sh"
require_cmd curl nginx python3

eval "$(python3 "$ROOT/tests/lib/pick_addresses.py" "$SHARED_DATA")"

MPORT=$(free_port)
UPSTREAM="http://127.0.0.1:$(free_port)"
SIGUP="http://127.0.0.1:$(free_port)/sig"
MIRROR="http://127.0.0.1:$MPORT"
# Same table as production, every bucket and the CDN a directory on one local nginx.
sed -E "s#https://([^[:space:]]+)#$MIRROR/\1#" "$SHARED_DATA/registry-k8s-io.mirrors" >"$TMP/mirrors"
CDN_DIR=d1be1w964nk82h.cloudfront.net
USE1_DIR=$(awk '$1 == "aws:us-east-1" {print $2}' "$SHARED_DATA/registry-k8s-io.mirrors" | sed -E 's#https://##')
EUW1_DIR=$(awk '$1 == "aws:eu-west-1" {print $2}' "$SHARED_DATA/registry-k8s-io.mirrors" | sed -E 's#https://##')
USW2_DIR=$(awk '$1 == "aws:us-west-2" {print $2}' "$SHARED_DATA/registry-k8s-io.mirrors" | sed -E 's#https://##')

DIGEST_A="sha256:$(printf 'a%.0s' {1..64})"   # on the us-east-1, us-west-2 buckets and the CDN
DIGEST_B="sha256:$(printf 'b%.0s' {1..64})"   # nowhere
for d in "$USE1_DIR" "$USW2_DIR" "$CDN_DIR"; do
	mkdir -p "$TMP/www/$d/containers/images"
	echo blob >"$TMP/www/$d/containers/images/$DIGEST_A"
done
mkdir -p "$TMP/www/$EUW1_DIR/containers/images"
start_nginx mirror "$TMP/www" "$MPORT" || exit 1

mkdir -p "$TMP/ranges"
cp "$SHARED_DATA/aws-ip-ranges.json" "$SHARED_DATA/gcp-cloud.json" "$SHARED_DATA/azure-service-tags.json" "$TMP/ranges/"

PORT=$(free_port)
start_server() {
	"$ARCHEIO" serve --listen "127.0.0.1:$PORT" --ranges "$TMP/ranges" --mirrors "$TMP/mirrors" \
		--upstream "$UPSTREAM" --upstream-path "k8s-artifacts-prod/images" \
		--signature-upstream "$SIGUP" --info-url "http://127.0.0.1/info" \
		--privacy-url "http://127.0.0.1/privacy-policy" \
		--trusted-proxy 127.0.0.1/32 --xff-hops 2 --workers 2 --access-log \
		--mirror-timeout-ms 1000 "$@" >"$TMP/server.log" 2>&1 &
	SERVER_PID=$!
	on_exit "kill $SERVER_PID"
	wait_for_log "$TMP/server.log" "listening on" 20 || { cat "$TMP/server.log"; exit 1; }
}
start_server
BASE="http://127.0.0.1:$PORT"
UP="$UPSTREAM/v2/k8s-artifacts-prod/images"
req() { status_location "$BASE$1" "${@:2}"; }

log "rule 1: methods"
for m in POST PUT DELETE PATCH OPTIONS; do
	check_eq "$m /v2/a/manifests/x" "$(req /v2/a/manifests/x -X "$m")" "405 -"
done
check_match "405 has Allow" "$(curl -si -X POST "$BASE/v2/" | tr -d '\r')" $'Allow: GET, HEAD'

log "rule 2: outside /v2"
check_eq "/" "$(req /)" "307 http://127.0.0.1/info"
check_eq "/privacy" "$(req /privacy)" "307 http://127.0.0.1/privacy-policy"
check_eq "/privacy/x" "$(req /privacy/x)" "307 http://127.0.0.1/privacy-policy"
check_eq "/foo" "$(req /foo)" "404 -"
check_eq "/v2x" "$(req /v2x)" "404 -"

log "rule 3-4: base and catalog"
check_eq "/v2" "$(req /v2)" "200 -"
check_eq "/v2/" "$(req /v2/)" "200 -"
check_match "/v2/ api version" "$(curl -si "$BASE/v2/" | tr -d '\r')" "Docker-Distribution-Api-Version: registry/2.0"
check_eq "/v2/_catalog" "$(req /v2/_catalog)" "404 -"

log "rule 5: hostile and invalid paths never redirect"
for p in "/v2/../etc/manifests/x" "/v2/a/../b/manifests/x" "/v2/a//b/manifests/x" "/v2/%2e%2e/a/manifests/x" \
	"/v2/a/manifests/%2e%2e" "/v2/A/manifests/x" "/v2/a/manifests/" "/v2/a/blobs/sha256:abc" \
	"/v2/a/blobs/sha256:$(printf 'A%.0s' {1..64})" "/v2/a/blobs/uploads/" "/v2/a/manifests/x%00" \
	"/v2/a/manifests/x%0d%0aSet-Cookie:%20y" "/v2/a%252fb/manifests/x" "/v2/a/tags/list/extra" \
	"/v2/a/referrers/notadigest" "/v2/a/manifests/.hidden"; do
	got=$(req "$p")
	check_match "$p is 4xx without Location" "$got" "^4[0-9][0-9] -$"
done
check_match "OCI error body" "$(curl -s --path-as-is "$BASE/v2/A/manifests/x")" '"code":"NAME_INVALID"'
check_match "digest error body" "$(curl -s "$BASE/v2/a/blobs/sha256:abc")" '"code":"DIGEST_INVALID"'

log "rule 6: signatures and referrers"
SIG_TAG="sha256-$(printf 'c%.0s' {1..64})"
check_eq ".sig tag" "$(req "/v2/pause/manifests/$SIG_TAG.sig")" "307 $SIGUP/v2/k8s-artifacts-prod/images/pause/manifests/$SIG_TAG.sig"
check_eq ".att tag" "$(req "/v2/pause/manifests/$SIG_TAG.att")" "307 $SIGUP/v2/k8s-artifacts-prod/images/pause/manifests/$SIG_TAG.att"
check_eq "referrers + query" "$(req "/v2/pause/referrers/$DIGEST_A?artifactType=application%2Fvnd.dev.cosign")" \
	"307 $SIGUP/v2/k8s-artifacts-prod/images/pause/referrers/$DIGEST_A?artifactType=application%2Fvnd.dev.cosign"

log "rule 7: upstream"
check_eq "manifest tag" "$(req /v2/pause/manifests/3.9)" "307 $UP/pause/manifests/3.9"
check_eq "manifest digest" "$(req "/v2/pause/manifests/$DIGEST_A")" "307 $UP/pause/manifests/$DIGEST_A"
check_eq "nested name" "$(req /v2/a/b-c/d.e/manifests/v1)" "307 $UP/a/b-c/d.e/manifests/v1"
check_eq "percent-encoded name" "$(req /v2/a%2Fb/manifests/v1)" "307 $UP/a/b/manifests/v1"
check_eq "tags pagination" "$(req '/v2/pause/tags/list?n=10&last=3.8')" "307 $UP/pause/tags/list?n=10&last=3.8"
check_eq "HEAD manifest" "$(req /v2/pause/manifests/3.9 -I)" "307 $UP/pause/manifests/3.9"
check_eq "HEAD has no body" "$(curl -s -I "$BASE/v2/pause/manifests/3.9" -o /dev/null -w '%{size_download}')" "0"
check_match "GET redirect has a body" "$(curl -s "$BASE/v2/pause/manifests/3.9")" "Temporary Redirect"

log "rule 8: blobs by client region"
blob() { req "/v2/pause/blobs/$1" -H "X-Forwarded-For: $2, 198.18.0.1" "${@:3}"; }
mirror_url() { echo "$MIRROR/$1/containers/images/$2"; }
check_eq "aws us-east-1 ($AWS_USE1) present" "$(blob "$DIGEST_A" "$AWS_USE1")" "307 $(mirror_url "$USE1_DIR" "$DIGEST_A")"
check_eq "aws us-east-1 absent" "$(blob "$DIGEST_B" "$AWS_USE1")" "307 $UP/pause/blobs/$DIGEST_B"
check_eq "aws eu-west-1 ($AWS_EUW1) bucket lacks it: upstream, not the CDN" "$(blob "$DIGEST_A" "$AWS_EUW1")" "307 $UP/pause/blobs/$DIGEST_A"
check_eq "aws IPv6 us-west-2 ($AWS_V6)" "$(blob "$DIGEST_A" "$AWS_V6")" "307 $(mirror_url "$USW2_DIR" "$DIGEST_A")"
check_eq "gcp ($GCP) upstream" "$(blob "$DIGEST_A" "$GCP")" "307 $UP/pause/blobs/$DIGEST_A"
check_eq "azure ($AZURE) CDN" "$(blob "$DIGEST_A" "$AZURE")" "307 $(mirror_url "$CDN_DIR" "$DIGEST_A")"
check_eq "unlisted ($UNLISTED) CDN" "$(blob "$DIGEST_A" "$UNLISTED")" "307 $(mirror_url "$CDN_DIR" "$DIGEST_A")"
check_eq "HEAD blob" "$(blob "$DIGEST_A" "$AWS_USE1" -I)" "307 $(mirror_url "$USE1_DIR" "$DIGEST_A")"
check_eq "blob query kept upstream" "$(req "/v2/pause/blobs/$DIGEST_B?x=1" -H "X-Forwarded-For: $GCP, 198.18.0.1")" "307 $UP/pause/blobs/$DIGEST_B?x=1"

log "client address"
check_eq "trusted peer, no XFF" "$(req "/v2/pause/blobs/$DIGEST_A")" "400 -"
check_eq "trusted peer, short XFF" "$(req "/v2/pause/blobs/$DIGEST_A" -H "X-Forwarded-For: $AWS_USE1")" "400 -"
check_eq "trusted peer, garbage XFF" "$(req "/v2/pause/blobs/$DIGEST_A" -H "X-Forwarded-For: nope, 198.18.0.1")" "400 -"
check_eq "trusted peer, 3 entries takes 2nd from end" \
	"$(req "/v2/pause/blobs/$DIGEST_A" -H "X-Forwarded-For: $GCP, $AWS_USE1, 198.18.0.1")" "307 $(mirror_url "$USE1_DIR" "$DIGEST_A")"
bad_xff=$(curl -s -D - --max-time 5 "$BASE/v2/pause/blobs/$DIGEST_A" -H "X-Forwarded-For: nope, 198.18.0.1" | tr -d '\r')
check_match "bad XFF: an OCI error body" "$bad_xff" \
	$'\n\n\\{"errors":\\[\\{"code":"UNSUPPORTED","message":"missing or malformed X-Forwarded-For","detail":null\\}\\]\\}$'
check_match "bad XFF: application/json" "$bad_xff" $'\nContent-Type: application/json\n'
check_match "bad XFF: API version header" "$bad_xff" $'\nDocker-Distribution-Api-Version: registry/2.0\n'
check_eq "non-blob ignores missing XFF" "$(req /v2/pause/manifests/3.9)" "307 $UP/pause/manifests/3.9"

log "mirror checks are cached: one HEAD for repeated requests"
before=$(grep -c "HEAD /$USW2_DIR/containers/images/$DIGEST_A" "$TMP/mirror.access.log")
for i in 1 2 3 4 5; do blob "$DIGEST_A" "$AWS_V6" >/dev/null; done
after=$(grep -c "HEAD /$USW2_DIR/containers/images/$DIGEST_A" "$TMP/mirror.access.log")
# The cache is per worker: at most one more HEAD, from the worker that had not checked yet.
check_match "HEADs for 5 more requests (2 workers)" "$((after - before))" "^[01]$"
check_eq "no GET reached the mirror" "$(grep -c '"GET ' "$TMP/mirror.access.log")" "0"

log "access log names client, cloud and region"
check_match "access log" "$(grep "client=$AWS_USE1 " "$TMP/server.log" | head -1)" "cloud=aws region=us-east-1 .*status=307"
check_match "access log: duration, size and user agent (text)" \
	"$(grep "client=$AWS_USE1 " "$TMP/server.log" | head -1)" \
	" status=307 target=[^ ]+ duration_us=[0-9]+ bytes=[1-9][0-9]* user_agent=curl/[0-9.]+$"
curl -s -o /dev/null --max-time 5 -A 'Mozilla/5.0 (X11; "q")' "$BASE/v2/ua/manifests/1"
wait_for_log "$TMP/server.log" "path=/v2/ua/manifests/1 " 5
check_match "a user agent with spaces and quotes is quoted and escaped" \
	"$(grep "path=/v2/ua/manifests/1 " "$TMP/server.log")" ' user_agent="Mozilla/5\.0 \(X11; \\"q\\"\)"$'

log "malformed HTTP"
raw() { python3 - "$PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
print(data.split(b"\r\n")[0].decode("latin-1") if data else "(nothing)")
PY
}
check_eq "garbage request line" "$(raw 'garbage\r\n\r\n')" "HTTP/1.1 400 Bad Request"
check_eq "HTTP/2.0 line" "$(raw 'GET / HTTP/2.0\r\n\r\n')" "HTTP/1.1 505 HTTP Version Not Supported"
check_eq "header without colon" "$(raw 'GET / HTTP/1.1\r\nbroken\r\n\r\n')" "HTTP/1.1 400 Bad Request"
check_eq "absolute-form target" "$(raw 'GET http://evil.example/v2/ HTTP/1.1\r\n\r\n')" "HTTP/1.1 400 Bad Request"
big=$(python3 -c 'print("A"*9000)')
check_eq "huge header" "$(raw "GET / HTTP/1.1\r\nX: $big\r\n\r\n")" "HTTP/1.1 431 Request Header Fields Too Large"
check_eq "pipelined requests answered in order" \
	"$(python3 - "$PORT" "$DIGEST_A" "$AWS_USE1" <<'PY'
import socket, sys
port, digest, ip = sys.argv[1:]
s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
reqs = (f"GET /v2/pause/blobs/{digest} HTTP/1.1\r\nX-Forwarded-For: {ip}, 198.18.0.1\r\n\r\n"
        "GET /v2/ HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\nConnection: close\r\n\r\n")
s.sendall(reqs.encode())
data = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    data += c
import re
print(" ".join(m.decode() for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)))
PY
)" "307 200 404"

log "SIGHUP reload: new mirror rules take effect, a bad file keeps the last good state"
sed -i -E "s#^aws:us-east-1[[:space:]].*#aws:us-east-1\tupstream#" "$TMP/mirrors"
kill -HUP "$SERVER_PID"
wait_for_log "$TMP/server.log" "reloaded" 10
check_eq "us-east-1 now upstream" "$(blob "$DIGEST_A" "$AWS_USE1")" "307 $UP/pause/blobs/$DIGEST_A"
printf '1.2.3.0/24 aws\n' >"$TMP/ranges/zz-operator.txt"
kill -HUP "$SERVER_PID"
wait_for_log "$TMP/server.log" "reload failed" 10
check_match "reload error names file and line" "$(grep 'reload failed' "$TMP/server.log")" "zz-operator.txt:1: .*2 fields"
check_eq "old state kept" "$(blob "$DIGEST_A" "$AZURE")" "307 $(mirror_url "$CDN_DIR" "$DIGEST_A")"
printf '# operator overrides\n%s/32 acme lab-1\n' "$AZURE" >"$TMP/ranges/zz-operator.txt"
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do [ "$(grep -c 'reloaded' "$TMP/server.log")" -ge 2 ] && break; sleep 0.05; done
check_eq "operator range overrides azure (most specific)" "$(blob "$DIGEST_A" "$AZURE")" "307 $(mirror_url "$CDN_DIR" "$DIGEST_A")"
check_match "lookup sees operator region" "$("$ARCHEIO" lookup --ranges "$TMP/ranges" "$AZURE")" "acme	lab-1"

log "a mirror that is down: upstream"
sed -E "s#$MIRROR#http://127.0.0.1:$(free_port)#" "$TMP/mirrors" >"$TMP/mirrors.down"
cp "$TMP/mirrors.down" "$TMP/mirrors"
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do [ "$(grep -c 'reloaded' "$TMP/server.log")" -ge 3 ] && break; sleep 0.05; done
check_eq "down mirror -> upstream" "$(blob "$DIGEST_A" "$AWS_V6")" "307 $UP/pause/blobs/$DIGEST_A"

log "SIGTERM: clean exit 0"
kill -TERM "$SERVER_PID"
rc=0
for i in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
wait "$SERVER_PID" || rc=$?
check_eq "exit status after SIGTERM" "$rc" "0"
check_match "stop logged" "$(tail -1 "$TMP/server.log")" "stopped"

log "start-up errors: one clear line, exit 2"
errline() { "$ARCHEIO" serve "$@" 2>&1 >/dev/null | head -3; }
exit2() { "$ARCHEIO" serve "$@" >/dev/null 2>&1; echo $?; }
check_eq "bad upstream exit" "$(exit2 --upstream ftp://x)" "2"
check_match "bad upstream message" "$(errline --upstream ftp://x)" "ftp://x"
printf '10.0.0.0/33 aws x\n' >"$TMP/bad.txt"
check_eq "bad ranges exit" "$(exit2 --listen 127.0.0.1:0 --ranges "$TMP/bad.txt")" "2"
check_match "bad ranges message" "$(errline --listen 127.0.0.1:0 --ranges "$TMP/bad.txt")" "bad.txt:1: .*bad CIDR"
printf 'aws:us-east-1 ftp://x\n' >"$TMP/bad.mirrors"
check_eq "bad mirrors exit" "$(exit2 --listen 127.0.0.1:0 --mirrors "$TMP/bad.mirrors")" "2"
check_eq "unknown flag exit" "$(exit2 --bogus)" "2"
check_eq "help exit" "$("$ARCHEIO" --help >/dev/null; echo $?)" "0"
check_match "help documents flags" "$("$ARCHEIO" --help)" "--trusted-proxy"

log "lookup"
out=$("$ARCHEIO" lookup --ranges "$SHARED_DATA/aws-ip-ranges.json" --ranges "$SHARED_DATA/gcp-cloud.json" \
	--ranges "$SHARED_DATA/azure-service-tags.json" "$AWS_USE1" "$GCP" "$AZURE" "$AWS_V6" "$UNLISTED")
check_eq "lookup output" "$out" "$AWS_USE1	aws	us-east-1
$GCP	gcp	us-central1
$AZURE	azure	westeurope
$AWS_V6	aws	us-west-2
$UNLISTED	-	-"
check_eq "lookup bad IP exit" "$("$ARCHEIO" lookup --ranges "$TMP/ranges" 1.2.3 >/dev/null 2>&1; echo $?)" "2"

finish
