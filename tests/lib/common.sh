# Shared helpers for integration tests: sourced, not run.
# Every test: `source tests/lib/common.sh`, then register cleanups with
# `on_exit CMD...`; they run in reverse order on any exit (trap).
set -u

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BUILD="${BUILD:-build}"
ARCHEIO="$ROOT/$BUILD/archeio"
SHARED_DATA="$ROOT/../shared/data"
TEST_NAME="$(basename "$0" .sh)"
TMP="$(mktemp -d "/tmp/archeio-$TEST_NAME.XXXXXX")"
chmod 755 "$TMP"
FAILURES=0
CHECKS=0
_CLEANUPS=()

on_exit() { _CLEANUPS+=("$*"); }
_run_cleanups() {
	local rc=$?
	local i
	for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${_CLEANUPS[$i]}" >/dev/null 2>&1 || true; done
	rm -rf "$TMP"
	exit "$rc"
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

log() { echo "[$TEST_NAME] $*"; }
pass() { CHECKS=$((CHECKS + 1)); }
fail() { CHECKS=$((CHECKS + 1)); FAILURES=$((FAILURES + 1)); echo "[$TEST_NAME] FAIL: $*"; }
# check DESCRIPTION ACTUAL EXPECTED
check_eq() { if [ "$2" == "$3" ]; then pass; else fail "$1: got '$2', want '$3'"; fi; }
check_match() { if [[ "$2" =~ $3 ]]; then pass; else fail "$1: '$2' does not match /$3/"; fi; }
finish() {
	log "$CHECKS checks, $FAILURES failed"
	[ "$CHECKS" -gt 0 ] || { echo "[$TEST_NAME] FAIL: no checks ran"; exit 1; }
	[ "$FAILURES" -eq 0 ]
	exit $?
}

# Needs root (netns, BPF): fail in CI or as root? As root we have it; without
# root: skip (77) on a laptop, fail under CI.
require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		if [ "${CI:-}" = true ]; then echo "[$TEST_NAME] FAIL: needs root in CI"; exit 1; fi
		echo "[$TEST_NAME] SKIP: needs root (run as root or in CI)"; exit 77
	fi
}
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		if [ "${CI:-}" = true ] || [ "$(id -u)" -eq 0 ]; then echo "[$TEST_NAME] FAIL: missing $c (scripts/install-deps.sh)"; exit 1; fi
		echo "[$TEST_NAME] SKIP: missing $c (scripts/install-deps.sh installs it)"; exit 77
	done
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_port HOST PORT [SECONDS] (bounded)
wait_for_port() {
	local host=$1 port=$2 limit=${3:-10} i
	for ((i = 0; i < limit * 20; i++)); do
		(exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "[$TEST_NAME] port $host:$port did not open within ${limit}s"
	return 1
}

# wait_for_log FILE PATTERN [SECONDS]
wait_for_log() {
	local file=$1 pattern=$2 limit=${3:-10} i
	for ((i = 0; i < limit * 20; i++)); do
		grep -q -- "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "[$TEST_NAME] '$pattern' did not appear in $file within ${limit}s"
	return 1
}

# start_nginx NAME DOCROOT PORT [LISTEN_ADDR] [NETNS] [CERT KEY]: a static file
# server with an access log at $TMP/NAME.access.log. With CERT and KEY (PEM;
# CERT may hold the chain) it serves HTTPS only. Stopped on exit.
start_nginx() {
	local name=$1 root=$2 port=$3 addr=${4:-127.0.0.1} netns=${5:-} cert=${6:-} key=${7:-}
	local dir="$TMP/nginx-$name" ssl="" tls_conf=""
	mkdir -p "$dir"
	if [ -n "$cert" ] || [ -n "$key" ]; then
		if [ -z "$cert" ] || [ -z "$key" ]; then echo "[$TEST_NAME] start_nginx: CERT and KEY go together"; return 1; fi
		ssl=" ssl"
		tls_conf="ssl_certificate $cert; ssl_certificate_key $key;"
	fi
	cat >"$dir/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 256; }
http {
	access_log $TMP/$name.access.log;
	client_body_temp_path $dir/tmp;
	proxy_temp_path $dir/tmp;
	fastcgi_temp_path $dir/tmp;
	uwsgi_temp_path $dir/tmp;
	scgi_temp_path $dir/tmp;
	server {
		listen $addr:$port$ssl;
		$tls_conf
		root $root;
		location / { try_files \$uri =404; }
	}
}
NGINX
	mkdir -p "$dir/tmp"
	touch "$TMP/$name.access.log"
	if [ -n "$netns" ]; then
		nsenter --net="/run/netns/$netns" nginx -c "$dir/nginx.conf" -p "$dir" >"$dir/stdout" 2>&1 &
	else
		nginx -c "$dir/nginx.conf" -p "$dir" >"$dir/stdout" 2>&1 &
	fi
	local pid=$!
	on_exit "kill $pid; wait $pid"
	if [ -z "$netns" ]; then wait_for_port "$addr" "$port" 10 || { cat "$dir/error.log" "$dir/stdout"; return 1; }; fi
}

# http_status_location URL [curl args...]: prints "STATUS LOCATION" (LOCATION '-' when absent)
status_location() {
	local url=$1; shift
	curl -s -o /dev/null --max-time 5 --path-as-is -w '%{http_code} %header{location}' "$@" "$url" | awk '{print $1, ($2 == "" ? "-" : $2)}'
}
