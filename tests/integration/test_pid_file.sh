#!/usr/bin/env bash
# `archeio serve --pid-file PATH`: written once the server listens (and
# handles SIGHUP), removed at exit; a second server naming the same file while
# the first runs is refused (exit 2, one line); a stale file (dead pid, or a
# pid now used by another program) is replaced; a directory that cannot take
# the file is refused before anything starts. Loopback only.
source "$(dirname "$0")/../lib/common.sh"
require_cmd curl

UPSTREAM="http://127.0.0.1:$(free_port)"
mkdir "$TMP/run"
PIDFILE="$TMP/run/archeio.pid"

# start NAME ARGS...: archeio serve in the background; sets PID_<NAME>.
start() {
	local name=$1
	shift
	"$ARCHEIO" serve --listen 127.0.0.1:0 --workers 2 --upstream "$UPSTREAM" --upstream-path "" \
		"$@" >"$TMP/$name.log" 2>&1 &
	local pid=$!
	printf -v "PID_$name" '%s' "$pid"
	on_exit "kill $pid; wait $pid"
}
# stop PID: SIGTERM, bounded wait; sets STOP_RC.
stop() {
	local i
	kill -TERM "$1"
	for ((i = 0; i < 200; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
	STOP_RC=0
	wait "$1" || STOP_RC=$?
}
# refused ARGS...: runs archeio serve in the foreground (bounded); "EXIT|error lines".
refused() {
	local rc=0
	timeout 10 "$ARCHEIO" serve --listen 127.0.0.1:0 --workers 1 --upstream "$UPSTREAM" \
		--upstream-path "" "$@" >"$TMP/refused.log" 2>&1 || rc=$?
	echo "$rc|$(grep -E ' error ' "$TMP/refused.log" | sed -E 's/^[^ ]+ error //')"
}

log "written when the server listens, with its pid"
start first --pid-file "$PIDFILE"
wait_for_log "$TMP/first.log" "listening on" 20 || { cat "$TMP/first.log"; exit 1; }
check_eq "pid file holds the server's pid" "$(cat "$PIDFILE" 2>&1)" "$PID_first"
check_eq "pid file mode" "$(stat -c %a "$PIDFILE" 2>&1)" "644"
check_eq "nothing else in its directory" "$(ls -A "$TMP/run" | tr '\n' ' ')" "archeio.pid "
check_match "start-up log names the pid file" "$(grep "pid file" "$TMP/first.log")" \
	"pid file $PIDFILE: pid $PID_first \\(removed at exit\\)"

log "SIGHUP through the pid file reloads"
kill -HUP "$(cat "$PIDFILE")"
wait_for_log "$TMP/first.log" "reloaded" 10
check_match "reloaded" "$(grep -c reloaded "$TMP/first.log")" "^1$"

log "a second server with the same pid file is refused while the first runs"
check_eq "second server: exit 2, one line" "$(refused --pid-file "$PIDFILE")" \
	"2|--pid-file $PIDFILE: archeio is already running as pid $PID_first (stop it, or give another --pid-file)"
check_eq "second server never listened" "$(grep -c 'listening on' "$TMP/refused.log")" "0"
check_eq "pid file still the first's" "$(cat "$PIDFILE")" "$PID_first"
port=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+) .*/\1/p' "$TMP/first.log")
check_eq "the first still answers" "$(status_location "http://127.0.0.1:$port/v2/")" "200 -"

log "removed at exit"
stop "$PID_first"
check_eq "exit status" "$STOP_RC" "0"
check_eq "pid file removed" "$(ls -A "$TMP/run" | wc -l)" "0"

log "a stale pid file is replaced"
sleep 0 &
dead=$!
wait "$dead"
echo "$dead" >"$PIDFILE"
start stale --pid-file "$PIDFILE"
wait_for_log "$TMP/stale.log" "listening on" 20 || { cat "$TMP/stale.log"; exit 1; }
check_eq "dead pid: replaced" "$(cat "$PIDFILE")" "$PID_stale"
check_match "dead pid: logged" "$(grep 'pid file' "$TMP/stale.log")" \
	"replacing the stale pid file $PIDFILE \\(pid $dead is not a running archeio\\)"
stop "$PID_stale"
check_eq "exit status" "$STOP_RC" "0"

# A pid now used by another program (after a crash, the pid was reused).
sleep 30 &
other=$!
on_exit "kill $other"
echo "$other" >"$PIDFILE"
start reused --pid-file "$PIDFILE"
wait_for_log "$TMP/reused.log" "listening on" 20 || { cat "$TMP/reused.log"; exit 1; }
check_eq "reused pid: replaced" "$(cat "$PIDFILE")" "$PID_reused"
check_eq "reused pid: that program was left alone" "$(kill -0 "$other" && echo alive)" "alive"
stop "$PID_reused"
check_eq "exit status" "$STOP_RC" "0"
check_eq "pid file removed" "$(ls -A "$TMP/run" | wc -l)" "0"

log "a file the server cannot write is refused at start"
check_eq "missing directory: exit 2" "$(refused --pid-file "$TMP/nowhere/archeio.pid")" \
	"2|--pid-file $TMP/nowhere/archeio.pid: cannot write in $TMP/nowhere: No such file or directory"
check_eq "a directory: exit 2" "$(refused --pid-file "$TMP/run")" \
	"2|--pid-file $TMP/run: not a regular file"
check_eq "never listened" "$(grep -c 'listening on' "$TMP/refused.log")" "0"

finish
