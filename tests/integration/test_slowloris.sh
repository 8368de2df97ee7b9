#!/usr/bin/env bash
# Slowloris, short (about 20 s): 300 connections each trickling a request head
# one byte a second beside normal clients on one worker. The normal clients'
# p99 must stay within 2x of idle (+5 ms for a noisy shared VM), and every
# trickling connection must get 408 once --header-timeout-ms has passed.
# bench/slowloris.sh is the longer run whose figures the README records.
source "$(dirname "$0")/../lib/common.sh"
require_cmd python3

CONNS=${SLOWLORIS_CONNS:-300}
ulimit -n 4096
PORT=$(free_port)
printf '127.0.0.0/8 lab one\n' >"$TMP/ranges.txt"
printf "*\tupstream\n" >"$TMP/mirrors"
"$ARCHEIO" serve --listen "127.0.0.1:$PORT" --ranges "$TMP/ranges.txt" --mirrors "$TMP/mirrors" \
	--upstream http://127.0.0.1:9 --upstream-path "" --workers 1 --header-timeout-ms 6000 \
	>"$TMP/server.log" 2>&1 &
PID=$!
on_exit "kill $PID; wait $PID"
wait_for_log "$TMP/server.log" "listening on" 20 || { cat "$TMP/server.log"; exit 1; }

# 4 s idle, 4 s beside the tricklers, which keep trickling until 10 s (the
# 408s come at 6 s).
timeout 60 python3 "$ROOT/tests/lib/slowloris.py" 127.0.0.1 "$PORT" /v2/pause/manifests/3.9 \
	"$CONNS" 4 10 >"$TMP/result.json" || { fail "slowloris.py failed"; finish; }
log "$(cat "$TMP/result.json")"
read -r idle_p99 loaded_p99 got_408 count loaded_ok < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(r["idle"]["p99_ms"], r["loaded"]["p99_ms"], r["trickling"]["got_408"],
      r["trickling"]["count"], r["loaded"]["statuses"].get("307", 0) == r["loaded"]["requests"])
' "$TMP/result.json")
check_eq "normal requests during the trickle all answered 307" "$loaded_ok" True
within=$(python3 -c "print($loaded_p99 <= 2 * $idle_p99 + 5)")
check_eq "p99 beside the tricklers ($loaded_p99 ms) within 2x idle ($idle_p99 ms) + 5 ms" "$within" True
check_eq "trickling connections that got 408" "$got_408" "$count"
check_eq "server still running" "$(kill -0 $PID 2>/dev/null && echo yes)" yes
finish
