#!/usr/bin/env bash
# Ranges files under a running server (issue 10): replaced by rename while
# SIGHUPs arrive (each reload sees a whole old or a whole new file, never a
# mix), cut short (refused, the last good ranges kept), and a provider file
# with host bits set (accepted, the warning in the server log with file and
# line). Loopback only.
source "$(dirname "$0")/../lib/common.sh"
require_cmd python3

UPSTREAM="http://127.0.0.1:$(free_port)"
mkdir -p "$TMP/ranges"
# Two whole files: A has 20000 prefixes in region a, B 30000 in region b.
gen() { python3 -c 'import sys
n, r = int(sys.argv[1]), sys.argv[2]
print("\n".join(f"10.{i // 256 % 256}.{i % 256}.0/24 lab {r}" for i in range(n)))' "$@"; }
gen 20000 a >"$TMP/A.txt"
gen 30000 b >"$TMP/B.txt"
cp "$TMP/A.txt" "$TMP/ranges/ops.txt"
# A provider file with a host-bit prefix on its third line.
printf '{"prefixes": [\n {"ip_prefix": "192.0.2.0/24", "region": "x"},\n {"ip_prefix": "198.51.100.7/24", "region": "y"}]}\n' \
	>"$TMP/ranges/aws.json"

PORT=$(free_port)
"$ARCHEIO" serve --listen "127.0.0.1:$PORT" --workers 1 --ranges "$TMP/ranges" \
	--upstream "$UPSTREAM" --upstream-path "" >"$TMP/server.log" 2>&1 &
SERVER=$!
on_exit "kill $SERVER; wait $SERVER"
wait_for_log "$TMP/server.log" "listening on" 20 || { cat "$TMP/server.log"; exit 1; }

log "host bits in a provider file: a warning with file and line"
check_match "warning logged" "$(grep ' warn ' "$TMP/server.log")" \
	"ranges: $TMP/ranges/aws\.json:3: prefixes\[1\]\.ip_prefix: CIDR \"198\.51\.100\.7/24\" has host bits set; using 198\.51\.100\.0/24"
check_match "and loaded" "$(grep 'ranges loaded' "$TMP/server.log")" "prefixes=20002 "

log "replaced by rename while reloading"
# 40 renames of A and B into place, 40 SIGHUPs beside them.
(for i in $(seq 1 40); do
	if ((i % 2)); then cp "$TMP/B.txt" "$TMP/ranges/.new"; else cp "$TMP/A.txt" "$TMP/ranges/.new"; fi
	mv "$TMP/ranges/.new" "$TMP/ranges/ops.txt"
done) &
writer=$!
for i in $(seq 1 40); do kill -HUP "$SERVER"; sleep 0.05; done
wait "$writer"
kill -HUP "$SERVER"
for ((i = 0; i < 200; i++)); do
	[ "$(grep -c 'reloaded' "$TMP/server.log")" -ge 41 ] && break
	sleep 0.1
done
reloads=$(grep -c 'reloaded' "$TMP/server.log")
check_eq "every SIGHUP reloaded (some may coalesce)" "$((reloads >= 2))" 1
check_eq "no reload failed" "$(grep -c 'reload failed' "$TMP/server.log")" "0"
check_eq "every reload saw a whole file: prefixes=20002 or 30002" \
	"$(grep 'reloaded' "$TMP/server.log" | grep -vcE 'prefixes=(20002|30002) ')" "0"
check_match "the last reload has the last file (A)" "$(grep 'reloaded' "$TMP/server.log" | tail -1)" \
	"prefixes=20002 "

log "a file cut short: refused, last good state kept"
# Written in place (no rename), as a copy interrupted inside a line leaves it.
{ head -n 10000 "$TMP/B.txt"; printf '10.39.1'; } >"$TMP/ranges/ops.txt"
kill -HUP "$SERVER"
wait_for_log "$TMP/server.log" "reload failed" 10
check_match "refused with file and line" "$(grep 'reload failed' "$TMP/server.log")" \
	"reload failed, keeping the last good state: $TMP/ranges/ops\.txt:10001: 1 field"
python3 -c 'import sys; sys.stdout.write(open(sys.argv[1]).read()[:-20])' "$TMP/ranges/aws.json" \
	>"$TMP/ranges/aws.tmp" && mv "$TMP/ranges/aws.tmp" "$TMP/ranges/aws.json"
cp "$TMP/A.txt" "$TMP/ranges/ops.txt"
kill -HUP "$SERVER"
for ((i = 0; i < 100; i++)); do [ "$(grep -c 'reload failed' "$TMP/server.log")" -ge 2 ] && break; sleep 0.1; done
check_match "a cut JSON file: refused with its position" "$(grep 'reload failed' "$TMP/server.log" | tail -1)" \
	"aws\.json:[0-9]+: invalid JSON"
check_eq "still serving" "$(status_location "http://127.0.0.1:$PORT/v2/")" "200 -"
check_eq "no reload took a partial file" "$(grep 'reloaded' "$TMP/server.log" | grep -vcE 'prefixes=(20002|30002) ')" "0"

finish
