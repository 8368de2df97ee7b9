#!/usr/bin/env bash
# PROXY protocol (--proxy-protocol) behind HAProxy: in a network namespace of
# its own, HAProxy (TCP mode) sends PROXY v1 (send-proxy) and v2
# (send-proxy-v2) to archeio's plain and TLS listeners; clients with AWS, GCP
# and unlisted source addresses reach archeio's access log as themselves and
# get their region's mirror. A peer that is not trusted may not send a header;
# a trusted one must, valid and within the header timeout.
source "$(dirname "$0")/../lib/common.sh"
require_root
require_cmd curl nginx python3 haproxy ip openssl
source "$ROOT/tests/lib/make-certs.sh"

eval "$(python3 "$ROOT/tests/lib/pick_addresses.py" "$SHARED_DATA")"
NS="archeio-pp-$$"
ip netns add "$NS"
on_exit "ip netns del $NS"
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up
LB=198.18.0.1 # HAProxy's and archeio's address; clients bind their own
for a in "$LB" "$AWS_USE1" "$GCP" "$UNLISTED"; do nsx ip addr add "$a/32" dev lo; done

MPORT=18080 APORT=18443 TPORT=18444 V1=8001 V2=8002 V2TLS=8003 METRICS_PORT=19090
MIRROR="http://127.0.0.1:$MPORT"
DIGEST="sha256:$(printf 'd%.0s' {1..64})"
mkdir -p "$TMP/www/use1/containers/images"
echo blob >"$TMP/www/use1/containers/images/$DIGEST"
start_nginx mirror "$TMP/www" "$MPORT" 127.0.0.1 "$NS" || exit 1
printf 'aws:us-east-1 %s/use1\n* upstream\n' "$MIRROR" >"$TMP/mirrors"
make_ca "$TMP/pki" >/dev/null 2>&1
make_cert "$TMP/pki" server "IP:$LB" >/dev/null 2>&1

UPSTREAM="http://127.0.0.1:9/up"
ip netns exec "$NS" "$ARCHEIO" serve --listen "0.0.0.0:$TPORT" --tls-cert "$TMP/pki/server.crt" --tls-key "$TMP/pki/server.key" \
	--plain-listen "0.0.0.0:$APORT" --proxy-protocol --trusted-proxy 127.0.0.1/32 \
	--ranges "$SHARED_DATA/aws-ip-ranges.json" --ranges "$SHARED_DATA/gcp-cloud.json" \
	--mirrors "$TMP/mirrors" --upstream "$UPSTREAM" --upstream-path images --workers 2 \
	--metrics-listen "127.0.0.1:$METRICS_PORT" \
	--access-log --log-level debug --header-timeout-ms 1000 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
on_exit "kill $SERVER_PID"
wait_for_log "$TMP/server.log" "listening on" 20 || { cat "$TMP/server.log"; exit 1; }
check_match "start-up log says PROXY protocol is on" "$(grep ' config ' "$TMP/server.log")" "proxy_protocol=on"

cat >"$TMP/haproxy.cfg" <<CFG
global
	maxconn 256
defaults
	mode tcp
	timeout connect 2s
	timeout client 10s
	timeout server 10s
listen v1
	bind $LB:$V1
	server archeio 127.0.0.1:$APORT send-proxy
listen v2
	bind $LB:$V2
	server archeio 127.0.0.1:$APORT send-proxy-v2
listen v2tls
	bind $LB:$V2TLS
	server archeio 127.0.0.1:$TPORT send-proxy-v2
CFG
haproxy -c -f "$TMP/haproxy.cfg" >/dev/null || { fail "haproxy config"; finish; }
ip netns exec "$NS" haproxy -db -f "$TMP/haproxy.cfg" >"$TMP/haproxy.log" 2>&1 &
HAPROXY_PID=$!
on_exit "kill $HAPROXY_PID"
for port in $V1 $V2 $V2TLS; do nsx bash -c "$(declare -f wait_for_port); TEST_NAME=$TEST_NAME; wait_for_port $LB $port 10" || exit 1; done

# as SOURCE URL [curl args]: status and Location of a request from SOURCE
as() { nsx curl -s -o /dev/null --max-time 5 --interface "$1" -w '%{http_code} %header{location}' "${@:3}" "$2" | awk '{print $1, ($2 == "" ? "-" : $2)}'; }
blob="/v2/pause/blobs/$DIGEST"
MIRROR_BLOB="$MIRROR/use1/containers/images/$DIGEST"
UP_BLOB="$UPSTREAM/v2/images/pause/blobs/$DIGEST"
logged() { grep "request client=$1 " "$TMP/server.log" | grep -c "$2"; }

log "HAProxy send-proxy (v1) and send-proxy-v2, plain and TLS"
check_eq "v1: AWS us-east-1 client gets its mirror" "$(as "$AWS_USE1" "http://$LB:$V1$blob")" "307 $MIRROR_BLOB"
check_eq "v2: AWS us-east-1 client gets its mirror" "$(as "$AWS_USE1" "http://$LB:$V2$blob")" "307 $MIRROR_BLOB"
check_eq "v2 + TLS: AWS us-east-1 client gets its mirror" \
	"$(as "$AWS_USE1" "https://$LB:$V2TLS$blob" --cacert "$TMP/pki/ca.crt")" "307 $MIRROR_BLOB"
check_eq "v2: GCP client goes upstream" "$(as "$GCP" "http://$LB:$V2$blob")" "307 $UP_BLOB"
check_eq "v1: unlisted client goes upstream" "$(as "$UNLISTED" "http://$LB:$V1$blob")" "307 $UP_BLOB"
sleep 0.2
check_eq "access log: the AWS client, its region, 3 times" "$(logged "$AWS_USE1" "cloud=aws region=us-east-1")" "3"
check_eq "access log: the GCP client" "$(logged "$GCP" "cloud=gcp region=")" "1"
check_eq "access log: the unlisted client" "$(logged "$UNLISTED" "cloud=- region=-")" "1"
check_eq "access log: never the balancer" "$(grep -c 'request client=127.0.0.1 ' "$TMP/server.log")" "0"

log "a peer that is not trusted: served as itself; a PROXY header from it is refused"
check_eq "direct GCP client, no header" "$(as "$GCP" "http://$LB:$APORT$blob")" "307 $UP_BLOB"
# raw SOURCE HOST PORT HEX: sends the bytes, prints what came back (hex) or "closed"
raw() {
	nsx python3 - "$@" <<'PY'
import socket, sys
src, host, port, data = sys.argv[1], sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4])
s = socket.socket()
s.settimeout(5)
s.bind((src, 0))
s.connect((host, port))
s.sendall(data)
try:
    got = s.recv(4096)
except (ConnectionResetError, socket.timeout):
    got = b""
print(got.split(b"\r\n")[0].decode() if got else "closed")
PY
}
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
GET=$(hex $'GET /v2/pause/manifests/1 HTTP/1.1\r\nConnection: close\r\n\r\n')
check_eq "untrusted v1 header refused" "$(raw "$GCP" "$LB" "$APORT" "$(hex "PROXY TCP4 $AWS_USE1 $LB 1 2"$'\r\n')$GET")" "closed"
V2SIG=0d0a0d0a000d0a515549540a
ip_hex() { printf '%02x' ${1//./ }; }
V2HDR="${V2SIG}2111000c$(ip_hex "$AWS_USE1")$(ip_hex "$LB")04d201bb"
check_eq "untrusted v2 header refused" "$(raw "$GCP" "$LB" "$APORT" "$V2HDR$GET")" "closed"

log "a trusted peer: crafted headers"
check_eq "trusted v2 header, then a request" "$(raw 127.0.0.1 127.0.0.1 "$APORT" "$V2HDR$GET")" "HTTP/1.1 307 Temporary Redirect"
check_eq "trusted v2 LOCAL (health check): the peer is the client" \
	"$(raw 127.0.0.1 127.0.0.1 "$APORT" "${V2SIG}20000000$GET")" "HTTP/1.1 307 Temporary Redirect"
check_eq "trusted, no header" "$(raw 127.0.0.1 127.0.0.1 "$APORT" "$GET")" "closed"
check_eq "trusted, malformed v1" "$(raw 127.0.0.1 127.0.0.1 "$APORT" "$(hex $'PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n')$GET")" "closed"
check_eq "trusted, truncated v2 (address cut)" "$(raw 127.0.0.1 127.0.0.1 "$APORT" "${V2SIG}21110008$(ip_hex "$AWS_USE1")$(ip_hex "$LB")$GET")" "closed"
check_eq "trusted, oversized v2" "$(raw 127.0.0.1 127.0.0.1 "$APORT" "${V2SIG}2111ffff")" "closed"
start=$(date +%s%N)
check_eq "trusted, half a header then silence: closed" "$(raw 127.0.0.1 127.0.0.1 "$APORT" "$(hex 'PROXY TCP4 1.2')")" "closed"
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$ms" -lt 3000 ]; then pass; else fail "slow header closed after ${ms} ms, want within the 1000 ms header timeout"; fi
sleep 0.2
check_match "refusals logged at debug" "$(grep -c 'PROXY header refused' "$TMP/server.log")" "^[6-9]$"
check_match "the timeout named" "$(grep 'PROXY header refused' "$TMP/server.log")" "within the header timeout"
check_eq "crafted v2 client in the access log" "$(logged "$AWS_USE1" "manifests")" "1"

log "refusals counted by reason on /metrics"
nsx curl -s --max-time 5 "http://127.0.0.1:$METRICS_PORT/metrics" >"$TMP/m.txt"
refused() { awk -v k="archeio_proxy_protocol_refused_total{reason=\"$1\"}" '$1 == k {print $2}' "$TMP/m.txt"; }
check_eq "untrusted: the v1 and v2 headers of an untrusted peer" "$(refused untrusted)" "2"
check_eq "malformed: no header, bad v1, truncated and oversized v2" "$(refused malformed)" "4"
check_eq "timeout: half a header then silence" "$(refused timeout)" "1"
finish
