#!/usr/bin/env bash
# HTTPS on archeio's own port (issue 8): a TLS listener and a plain one side by
# side in one process; what real TLS clients see (curl, openssl s_client,
# Python's ssl, sslscan): protocols, ciphers, renegotiation, compression, the
# chain as configured, ALPN, SNI, resumption; plain HTTP sent to the TLS port;
# stalled handshakes; certificate reload under load, a bad reload, and the
# kernel-TLS probe. Everything on loopback.
source "$(dirname "$0")/../lib/common.sh"
source "$ROOT/tests/lib/make-certs.sh"
require_cmd curl openssl sslscan python3 timeout
PROBE="$ROOT/tests/lib/tls_probe.py"

CERTS="$TMP/certs"
make_ca "$CERTS" || exit 1
make_cert "$CERTS" a "DNS:registry.test,IP:127.0.0.1" || exit 1
make_cert "$CERTS" b "DNS:other.test" || exit 1
make_cert "$CERTS" a2 "DNS:registry.test,IP:127.0.0.1" || exit 1 # the renewal
# The files archeio reads: replaced in place for the reload.
cp "$CERTS/a.crt" "$TMP/server.crt"
cp "$CERTS/a.key" "$TMP/server.key"
CA="$CERTS/ca.crt"

TPORT=$(free_port)
PPORT=$(free_port)
UPSTREAM="http://127.0.0.1:$(free_port)"
"$ARCHEIO" serve --listen "127.0.0.1:$TPORT" --plain-listen "127.0.0.1:$PPORT" \
	--tls-cert "$TMP/server.crt" --tls-key "$TMP/server.key" \
	--tls-cert "$CERTS/b.crt" --tls-key "$CERTS/b.key" --tls-ktls \
	--upstream "$UPSTREAM" --upstream-path "k8s-artifacts-prod/images" --default-mirror "$UPSTREAM" \
	--info-url "http://127.0.0.1/info" --privacy-url "http://127.0.0.1/privacy" \
	--header-timeout-ms 1000 --workers 2 --log-level debug >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
on_exit "kill $SERVER_PID"
wait_for_log "$TMP/server.log" "listening on" 20 || { cat "$TMP/server.log"; exit 1; }
TLS="https://127.0.0.1:$TPORT"
UP="$UPSTREAM/v2/k8s-artifacts-prod/images"

log "start-up says which TLS mode it runs in"
listening=$(grep 'listening on' "$TMP/server.log")
check_match "https listener logged" "$listening" "127\.0\.0\.1:$TPORT \(https\)"
check_match "plain listener logged" "$listening" "127\.0\.0\.1:$PPORT with 2 workers"
if grep -qw tls /proc/sys/net/ipv4/tcp_available_ulp 2>/dev/null; then
	check_match "kernel TLS on" "$(grep -i 'kernel TLS' "$TMP/server.log")" "kernel TLS (on|available)"
else
	check_match "kernel TLS unavailable, said at start" "$(grep -i 'kernel TLS' "$TMP/server.log")" "unavailable"
fi

log "requests over HTTPS with verification, by IP and by name"
check_eq "manifest over https" "$(status_location "$TLS/v2/pause/manifests/3.9" --cacert "$CA")" \
	"307 $UP/pause/manifests/3.9"
check_eq "by name (SNI registry.test)" \
	"$(status_location "https://registry.test:$TPORT/v2/" --cacert "$CA" --resolve "registry.test:$TPORT:127.0.0.1")" "200 -"
check_eq "plain listener beside it" "$(status_location "http://127.0.0.1:$PPORT/v2/pause/manifests/3.9")" \
	"307 $UP/pause/manifests/3.9"
check_eq "keep-alive: two requests, one connection" \
	"$(curl -s -o /dev/null -o /dev/null -w '%{http_code}%{num_connects} ' --cacert "$CA" "$TLS/v2/" "$TLS/v2/")" "2001 2000 "
check_eq "http/1.1 negotiated by ALPN" "$(curl -s -o /dev/null -w '%{http_version}' --http1.1 --cacert "$CA" "$TLS/v2/")" "1.1"

log "SNI picks the certificate; an unknown name gets the default"
subject() { echo | timeout 5 openssl s_client -connect "127.0.0.1:$TPORT" "$@" 2>/dev/null | openssl x509 -noout -subject 2>/dev/null; }
check_match "SNI other.test" "$(subject -servername other.test)" "CN ?= ?other.test"
check_match "SNI unknown.test" "$(subject -servername unknown.test)" "CN ?= ?registry.test"
check_match "no SNI" "$(subject -noservername)" "CN ?= ?registry.test"

log "the chain as configured: leaf then CA"
chain=$(echo | timeout 5 openssl s_client -connect "127.0.0.1:$TPORT" -servername registry.test -showcerts 2>/dev/null |
	grep -E '^ *[0-9]+ s:' | tr '\n' ' ')
check_match "two certificates served" "$chain" "0 s:.*registry.test.* 1 s:.*archeio test CA"
verify=$(echo | timeout 5 openssl s_client -connect "127.0.0.1:$TPORT" -servername registry.test -CAfile "$CA" \
	-verify_return_error 2>&1 | grep -E 'Verify return code')
check_match "chain verifies against the CA" "$verify" "Verify return code: 0 \(ok\)"

log "ALPN: an h2-only client is refused cleanly, not left hanging"
start=$(date +%s%N)
alpn=$(echo | timeout 5 openssl s_client -connect "127.0.0.1:$TPORT" -alpn h2 2>&1)
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check_match "h2-only: no_application_protocol alert" "$alpn" "no application protocol|alert number 120"
[ "$elapsed_ms" -lt 3000 ] && pass || fail "h2-only refusal took ${elapsed_ms} ms"
wait_for_log "$TMP/server.log" "TLS handshake failed" 5 && pass || fail "handshake failure not logged at debug"

log "sslscan: protocols, ciphers, renegotiation, compression"
timeout 60 sslscan --no-colour --show-certificate "127.0.0.1:$TPORT" >"$TMP/sslscan.txt" 2>&1
for proto in SSLv2 SSLv3 TLSv1.0 TLSv1.1; do
	check_match "$proto disabled" "$(grep -E "^$proto " "$TMP/sslscan.txt")" "disabled"
done
for proto in TLSv1.2 TLSv1.3; do
	check_match "$proto enabled" "$(grep -E "^$proto " "$TMP/sslscan.txt")" "enabled"
done
accepted=$(grep -E '^(Preferred|Accepted)' "$TMP/sslscan.txt")
[ -n "$accepted" ] && pass || fail "sslscan listed no accepted cipher: $(cat "$TMP/sslscan.txt")"
weak=$(echo "$accepted" | grep -Ei 'CBC|RC4|DES|NULL|EXP|MD5|anon|SHA ' || true)
check_eq "no weak cipher accepted" "$weak" ""
check_match "renegotiation" "$(grep -iA1 'renegotiation' "$TMP/sslscan.txt" | tr '\n' ' ')" "not supported"
# Debian's OpenSSL has no zlib, so sslscan cannot offer compression; s_client
# reports what the handshake agreed.
check_match "compression" "$(echo | timeout 5 openssl s_client -connect "127.0.0.1:$TPORT" -tls1_2 2>/dev/null | grep '^Compression')" "Compression: NONE"

log "session resumption: TLS 1.3 tickets and TLS 1.2"
# A whole request and its answer (-ign_eof reads to the close), so the TLS
# 1.3 ticket, sent after the handshake, has surely arrived.
req_close() { printf 'GET /v2/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'; }
for v in -tls1_3 -tls1_2; do
	rm -f "$TMP/sess"
	req_close | timeout 5 openssl s_client -connect "127.0.0.1:$TPORT" $v -ign_eof -sess_out "$TMP/sess" >/dev/null 2>&1
	r=$(req_close | timeout 5 openssl s_client -connect "127.0.0.1:$TPORT" $v -ign_eof -sess_in "$TMP/sess" 2>/dev/null | grep -E '^(Reused|New),')
	check_match "resumed with $v" "$r" "^Reused"
done

log "plain HTTP sent to the TLS port: 400 that says so, then close"
plain=$(printf 'GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n' | timeout 5 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=4)
s.sendall(sys.stdin.buffer.read())
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.decode(errors="replace").replace("\r\n", "|"))' "$TPORT")
check_match "plain HTTP on TLS port: 400" "$plain" "^HTTP/1.1 400 "
check_match "plain HTTP on TLS port: explains" "$plain" "HTTPS"
check_match "plain HTTP on TLS port: closes" "$plain" "Connection: close"

log "stalled or garbage handshakes are cut off by --header-timeout-ms, others are served meanwhile"
python3 "$PROBE" stall 127.0.0.1 "$TPORT" 160301 5 >"$TMP/stall1" &
S1=$!
python3 "$PROBE" stall 127.0.0.1 "$TPORT" "" 5 >"$TMP/stall2" &
S2=$!
sleep 0.2
start=$(date +%s%N)
check_eq "served during stalls" "$(status_location "$TLS/v2/" --cacert "$CA")" "200 -"
during_ms=$((($(date +%s%N) - start) / 1000000))
[ "$during_ms" -lt 500 ] && pass || fail "a request during stalled handshakes took ${during_ms} ms"
wait $S1 $S2
check_match "partial ClientHello cut off" "$(cat "$TMP/stall1")" "^closed (0\.9|1\.|2\.)"
check_match "silent connection cut off" "$(cat "$TMP/stall2")" "^closed (0\.9|1\.|2\.)"
garbage=$(python3 "$PROBE" stall 127.0.0.1 "$TPORT" 00ff00ff00ff00ff00ff 5)
check_match "binary garbage closed at once" "$garbage" "^closed 0\.[0-4]"

log "certificate reload under load"
old_serial=$(python3 "$PROBE" serial 127.0.0.1 "$TPORT" "$CA" registry.test)
new_serial=$(openssl x509 -in "$CERTS/a2.leaf.crt" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
python3 "$PROBE" keepalive 127.0.0.1 "$TPORT" "$CA" registry.test 6 0.5 >"$TMP/keepalive" 2>&1 &
KA=$!
python3 "$PROBE" load 127.0.0.1 "$TPORT" "$CA" registry.test 300 >"$TMP/load" 2>&1 &
LOAD=$!
sleep 0.7
cp "$CERTS/a2.crt" "$TMP/server.crt.new" && mv "$TMP/server.crt.new" "$TMP/server.crt"
cp "$CERTS/a2.key" "$TMP/server.key.new" && mv "$TMP/server.key.new" "$TMP/server.key"
kill -HUP "$SERVER_PID"
wait_for_log "$TMP/server.log" "TLS certificates reloaded" 10 && pass || fail "reload not logged"
wait $LOAD $KA
check_match "every connection during the swap completed" "$(cat "$TMP/load")" "^ok=300 failed=0 "
check_eq "a connection from before keeps its certificate and keeps working" \
	"$(tr '\n' ' ' <"$TMP/keepalive")" "$old_serial 200 200 200 200 200 200 "
check_eq "new connections see the new certificate" \
	"$(python3 "$PROBE" serial 127.0.0.1 "$TPORT" "$CA" registry.test)" "$new_serial"

log "a bad reload keeps the certificate in force"
cp "$CERTS/b.key" "$TMP/server.key" # the key of another certificate
kill -HUP "$SERVER_PID"
wait_for_log "$TMP/server.log" "TLS reload failed" 10 && pass || fail "bad reload not logged"
check_match "names the file and the reason" "$(grep 'TLS reload failed' "$TMP/server.log")" "server.key.*does not match"
check_eq "still served with the good certificate" \
	"$(python3 "$PROBE" serial 127.0.0.1 "$TPORT" "$CA" registry.test)" "$new_serial"
check_eq "and still answers" "$(status_location "$TLS/v2/" --cacert "$CA")" "200 -"
check_match "reload failures counted" "$(grep 'TLS reload failed' "$TMP/server.log" | tail -1)" "failures=1"

log "bad TLS flags are refused at start"
out=$("$ARCHEIO" serve --listen 127.0.0.1:0 --tls-cert "$TMP/server.crt" 2>&1)
check_eq "cert without key: exit 2" "$?" "2"
check_match "cert without key: says so" "$out" "tls-key"
out=$("$ARCHEIO" serve --listen "127.0.0.1:$(free_port)" --tls-cert "$TMP/missing.crt" --tls-key "$TMP/server.key" \
	--upstream "$UPSTREAM" --default-mirror "$UPSTREAM" 2>&1)
check_match "missing certificate names the file" "$out" "missing.crt"
finish
