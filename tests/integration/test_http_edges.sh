#!/usr/bin/env bash
# Connection handling at the edges: slow, idle, half-closed, truncated and
# non-reading clients; request bodies and HTTP/1.0; mirror checks still pending
# when the client leaves or the server stops; listen addresses (port 0 with
# several workers, IPv6, a port in use); JSON access log. Raw sockets from
# tests/lib/http_edges.py against the built server on loopback.
source "$(dirname "$0")/../lib/common.sh"
require_cmd python3 curl

EDGES="$ROOT/tests/lib/http_edges.py"
client() { python3 "$EDGES" "$@" 2>&1; }

DIGEST="sha256:$(printf 'e%.0s' {1..64})"
BLOB="/v2/pause/blobs/$DIGEST"
UPSTREAM="http://127.0.0.1:$(free_port)"
MPORT=$(free_port)
MIRROR="http://127.0.0.1:$MPORT"

# The mirror takes 1.5 s per HEAD: long enough to act while a check is pending.
python3 "$ROOT/tests/lib/slow-mirror.py" "$MPORT" 1.5 2>"$TMP/mirror.log" &
MIRROR_PID=$!
on_exit "kill $MIRROR_PID; wait $MIRROR_PID"
wait_for_port 127.0.0.1 "$MPORT" 10 || exit 1

# Every loopback client is in region lab:one, whose blobs come from the slow mirror.
printf '127.0.0.0/8 lab one\n::1/128 lab one\n' >"$TMP/ranges.txt"
printf 'lab:one\t%s\n*\tupstream\n' "$MIRROR" >"$TMP/mirrors"

# start_server NAME ARGS...: sets PID_<NAME>; log in $TMP/NAME.log.
start_server() {
	local name=$1
	shift
	"$ARCHEIO" serve --ranges "$TMP/ranges.txt" --mirrors "$TMP/mirrors" --upstream "$UPSTREAM" \
		--upstream-path "" --mirror-timeout-ms 5000 "$@" >"$TMP/$name.log" 2>&1 &
	local pid=$!
	printf -v "PID_$name" '%s' "$pid"
	on_exit "kill $pid; wait $pid"
	wait_for_log "$TMP/$name.log" "listening on" 20 || { cat "$TMP/$name.log"; exit 1; }
}

# stop_server NAME: SIGTERM, then STOP_RC is the exit status (bounded wait;
# not in a subshell, which could not wait for the server).
stop_server() {
	local pid_var="PID_$1" i
	local pid=${!pid_var}
	kill -TERM "$pid"
	for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	STOP_RC=0
	wait "$pid" || STOP_RC=$?
}

PORT=$(free_port)
start_server main --listen "127.0.0.1:$PORT" --workers 2 --header-timeout-ms 300 \
	--idle-timeout-ms 500 --log-format json --access-log

log "timeouts"
check_eq "slow request head: 408 then close" "$(client slow_head "$PORT")" "408 eof"
check_eq "connection that sends nothing: closed silently" "$(client silent "$PORT")" "0 bytes eof"
check_eq "idle keep-alive connection closed after the idle timeout" \
	"$(client idle_keepalive "$PORT")" "200 then 0 bytes eof"

log "half-close and truncation"
check_eq "requests then SHUT_WR: all answered, then close" \
	"$(client half_close "$PORT" /v2/ /nope /v2/)" "200 404 200 eof"
check_eq "truncated head then EOF: 400" "$(client truncated "$PORT")" "400 eof"

log "framing"
check_eq "request with a body: answered, Connection: close" "$(client with_body "$PORT")" \
	"200 eof close-header=True"
# A last answer is closed at once only when nothing of the client's is unread;
# otherwise the close lingers, so no RST destroys the answer before it is read.
check_eq "Connection: close, then a pipelined request: answer read 300 ms later, FIN" \
	"$(client close_unread "$PORT" pipelined)" "307 eof whole=True"
check_eq "Connection: close with a body sent after the answer: answer intact, FIN" \
	"$(client close_unread "$PORT" late-body)" "307 eof whole=True"
# As nginx: Expect without a body changes nothing; with a body archeio does
# not read, the final answer comes at once (no 100) with a close.
check_eq "Expect: 100-continue without a body: answered, connection kept" \
	"$(client expect_continue "$PORT" none)" "200 404 eof"
check_eq "Expect: 100-continue with a body: answered at once, no 100, close" \
	"$(client expect_continue "$PORT" body)" "200 eof close-header=True continue=False"
check_eq "Host and 100 other headers: within the limit, connection kept" \
	"$(client many_headers "$PORT" 100)" "200 404 eof"
check_eq "Host and 101 other headers: 431" "$(client many_headers "$PORT" 101)" "431 closed"
check_eq "HTTP/1.0 closes" "$(client http10 "$PORT" close)" "200 eof"
check_eq "HTTP/1.0 keep-alive stays open" "$(client http10 "$PORT" keep-alive)" "200 404 eof"

log "a client that does not read while pipelining"
check_eq "3000 pipelined requests, read late" "$(client pipeline_unread "$PORT" 3000)" \
	"3000 responses, in order: True, eof"
check_match "a client that never reads is not buffered for without bound" \
	"$(client flood_unread "$PORT" 5)" "^stalled after [0-9]+ MB, then all answered: True, eof$"
check_eq "server still answers" "$(status_location "http://127.0.0.1:$PORT/v2/")" "200 -"

log "mirror check pending"
check_eq "blob via the slow mirror" "$(client blob "$PORT" "$BLOB")" \
	"307 $MIRROR/containers/images/$DIGEST eof"
other="sha256:$(printf 'f%.0s' {1..64})"
check_eq "client leaves during its check" "$(client blob_then_leave "$PORT" "/v2/pause/blobs/$other")" "left"
sleep 1.6 # the check completes for a connection that is gone
check_eq "server still answers after that" "$(status_location "http://127.0.0.1:$PORT/v2/")" "200 -"
check_eq "and the cached check is used" "$(client blob "$PORT" "/v2/pause/blobs/$other")" \
	"307 $MIRROR/containers/images/$other eof"

log "JSON logs: fields, numbers as numbers"
line=$(grep '"msg":"request"' "$TMP/main.log" | grep -F '"path":"/v2/pause/blobs/sha256:eee' | head -1)
check_match "access log line is JSON with fields" "$line" \
	'^\{"time":"[^"]+","level":"info","msg":"request","client":"127\.0\.0\.1","cloud":"lab","region":"one","method":"GET","path":"/v2/pause/blobs/sha256:e+","status":307,"target":"http://127\.0\.0\.1:[0-9]+/containers/images/sha256:e+","duration_us":[0-9]+,"bytes":[0-9]+,"user_agent":"-"\}$'
# The blob waited for the slow mirror's 1.5 s check: the duration covers it.
check_match "duration covers the mirror check" "$(sed -E 's/.*"duration_us":([0-9]+).*/\1/' <<<"$line")" \
	'^1[4-9][0-9]{5}$'
# The size is the whole answer as sent (the same redirect, read back by curl).
blob_bytes=$(sed -E 's/.*"bytes":([0-9]+).*/\1/' <<<"$line")
curl -s --max-time 5 -A 'probe/1.0 "x"' -H 'Connection: close' -D "$TMP/head.out" -o "$TMP/body.out" "http://127.0.0.1:$PORT$BLOB"
check_eq "bytes is what the client received" \
	"$(($(wc -c <"$TMP/head.out") + $(wc -c <"$TMP/body.out")))" "$blob_bytes"
wait_for_log "$TMP/main.log" '"user_agent":"probe/1.0 \\"x\\""' 5
check_match "the user agent is logged, escaped" \
	"$(grep -F '"user_agent":"probe/1.0 \"x\""' "$TMP/main.log" | head -1)" '"status":307,'
check_match "configuration as fields" "$(grep '"msg":"config"' "$TMP/main.log")" \
	'"upstream":"http://127\.0\.0\.1:[0-9]+","upstream_path":"",.*"mirrors":"[^"]+/mirrors","upstream_rules":"-","limits_file":"-","ranges":1,"trusted_proxies":0,"xff_hops":2,"proxy_protocol":"off","workers":2,"access_log":"on","xdp":"-"\}$'
check_match "ranges loaded as fields" "$(grep '"msg":"ranges loaded"' "$TMP/main.log")" \
	'"prefixes":2,"regions":1,"mirror_rules":2,"upstream_rules":0,"per_cloud":"lab=1/1"\}$'
check_eq "every log line is JSON" "$(grep -vc '^{' "$TMP/main.log")" "0"

log "SIGTERM with a check pending and an idle connection"
third="sha256:$(printf 'd%.0s' {1..64})"
client blob "$PORT" "/v2/pause/blobs/$third" >"$TMP/pending.out" &
pending_pid=$!
client hold "$PORT" idle 8 >"$TMP/idle.out" &
idle_pid=$!
wait_for_log "$TMP/mirror.log" "HEAD /containers/images/$third" 5
wait_for_log "$TMP/idle.out" holding 5
stop_server main
check_eq "exit status" "$STOP_RC" "0"
wait "$pending_pid" "$idle_pid"
check_eq "in-flight blob request answered" "$(cat "$TMP/pending.out")" \
	"307 $MIRROR/containers/images/$third eof"
check_eq "idle connection closed at once" "$(tail -1 "$TMP/idle.out")" "eof"
check_eq "stop logged" "$(grep -c "\"msg\":\"stopped\"" "$TMP/main.log")" "1"

log "SIGTERM with a stuck partial request: drain gives up after 5 s"
PORT2=$(free_port)
start_server stuck --listen "127.0.0.1:$PORT2" --workers 1
client hold "$PORT2" partial 10 >"$TMP/partial.out" &
partial_pid=$!
wait_for_log "$TMP/partial.out" holding 5
stop_server stuck
check_eq "exit status" "$STOP_RC" "0"
wait "$partial_pid"
check_eq "stuck client closed without an answer" "$(tail -1 "$TMP/partial.out")" "eof"
check_match "drain deadline logged" "$(cat "$TMP/stuck.log")" "worker 0: 1 connections still open after 5 s"
check_match "one worker in the singular" "$(grep 'listening on' "$TMP/stuck.log")" \
	"listening on 127\.0\.0\.1:$PORT2 with 1 worker$"

log "out of file descriptors: accept pauses instead of spinning"
PORT3=$(free_port)
# ulimit in a subshell: only this server is limited.
(ulimit -n 40 && exec "$ARCHEIO" serve --listen "127.0.0.1:$PORT3" --workers 1 --upstream "$UPSTREAM") \
	>"$TMP/fds.log" 2>&1 &
PID_fds=$!
on_exit "kill $PID_fds; wait $PID_fds"
wait_for_log "$TMP/fds.log" "listening on" 20 || { cat "$TMP/fds.log"; exit 1; }
check_eq "60 connections held, then one request" "$(client exhaust_fds "$PORT3" 60 1.5)" "200 eof"
failed=$(grep -c "accept failed: Too many open files" "$TMP/fds.log")
check_match "accept failures were logged" "$failed" "^[1-9][0-9]*$"
# Before the pause, the readable listener was retried at once: ~500k lines a second.
check_match "but not in a busy loop (at most one per 100 ms pause, with slack)" "$failed" "^[0-9]{1,2}$"
stop_server fds
check_eq "exit status" "$STOP_RC" "0"

log "listen addresses"
start_server zero --listen 127.0.0.1:0 --workers 3
line=$(grep "listening on" "$TMP/zero.log")
check_match "port 0: the chosen port is logged" "$line" "listening on 127\.0\.0\.1:[1-9][0-9]* with 3 workers"
zport=$(sed -E 's/.*127\.0\.0\.1:([0-9]+) .*/\1/' <<<"$line")
ok=0
for i in $(seq 1 12); do [ "$(status_location "http://127.0.0.1:$zport/v2/")" = "200 -" ] && ok=$((ok + 1)); done
check_eq "every request on the chosen port answered" "$ok" "12"
stop_server zero
check_eq "exit status" "$STOP_RC" "0"

if grep -q '^0\{31\}1 01 80 10 80 *lo$' /proc/net/if_inet6 2>/dev/null; then
	PORT6=$(free_port)
	start_server six --listen "[::1]:$PORT6" --workers 1
	check_match "IPv6 listen logged" "$(grep 'listening on' "$TMP/six.log")" "listening on \[::1\]:$PORT6 "
	check_eq "IPv6 client in lab:one gets the mirror" "$(client blob "$PORT6" "$BLOB" ::1)" \
		"307 $MIRROR/containers/images/$DIGEST eof"
	stop_server six
	check_eq "exit status" "$STOP_RC" "0"
else
	log "no ::1 on lo: IPv6 listen not checked"
fi

# A socket without SO_REUSEPORT holds the port, so the server cannot share it.
BUSY=$(free_port)
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(1); print("bound",flush=True); time.sleep(30)' \
	"$BUSY" >"$TMP/busy.out" &
busy_pid=$!
on_exit "kill $busy_pid"
wait_for_log "$TMP/busy.out" bound 5
rc=0
timeout 10 "$ARCHEIO" serve --listen "127.0.0.1:$BUSY" --workers 1 >"$TMP/busy.log" 2>&1 || rc=$?
check_eq "port in use: exit 1" "$rc" "1"
check_match "port in use: message" "$(cat "$TMP/busy.log")" "cannot listen on 127\.0\.0\.1:$BUSY: Address already in use"

# A second archeio on an archeio's address: its SO_REUSEPORT sockets would be
# let into the first one's group and take a share of the connections. It must
# fail at start instead, and the first must keep answering everything. The
# second has another upstream, so an answer from it would show.
start_server first --listen "127.0.0.1:0" --workers 2
FIRST_PORT=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+) .*/\1/p' "$TMP/first.log")
SECOND_UPSTREAM="http://127.0.0.2:$(free_port)"
"$ARCHEIO" serve --listen "127.0.0.1:$FIRST_PORT" --workers 2 --upstream "$SECOND_UPSTREAM" \
	--upstream-path "" >"$TMP/second.log" 2>&1 &
second_pid=$!
on_exit "kill $second_pid; wait $second_pid"
# Bounded: until it exits or says it listens.
for ((i = 0; i < 100; i++)); do
	kill -0 "$second_pid" 2>/dev/null || break
	grep -q "listening on" "$TMP/second.log" && break
	sleep 0.05
done
answers=""
for i in $(seq 1 20); do answers+="$(status_location "http://127.0.0.1:$FIRST_PORT/v2/pause/manifests/3.9")"$'\n'; done
check_eq "second archeio on a busy address: the first answers all 20 requests" \
	"$(grep -c -x -F "307 $UPSTREAM/v2/pause/manifests/3.9" <<<"$answers")" "20"
kill -0 "$second_pid" 2>/dev/null && kill -TERM "$second_pid"
rc=0; wait "$second_pid" || rc=$?
check_eq "second archeio on a busy address: exit 1" "$rc" "1"
check_eq "second archeio on a busy address: never listening" "$(grep -c 'listening on' "$TMP/second.log")" "0"
check_match "second archeio on a busy address: one line naming it" \
	"$(grep -E ' error ' "$TMP/second.log")" \
	"^[^"$'\n'"]*cannot listen on 127\.0\.0\.1:$FIRST_PORT: Address already in use[^"$'\n'"]*$"
check_eq "the first still runs" "$(status_location "http://127.0.0.1:$FIRST_PORT/v2/")" "200 -"
stop_server first
check_eq "exit status" "$STOP_RC" "0"

finish
