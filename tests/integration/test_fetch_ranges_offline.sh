#!/usr/bin/env bash
# scripts/fetch-ranges.sh without network: every URL points at 127.0.0.1:1
# (nothing listens there), so the download fails. The script must exit
# non-zero with one clear message, leave DIR exactly as it was, never run the
# archeio check and never signal the server. No public host is contacted.
set -euo pipefail
cd "$(dirname "$0")/../.."

tmp="$(mktemp -d /tmp/archeio-fetch-offline.XXXXXX)"
server_pid=""
cleanup() {
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

dir="$tmp/ranges"
mkdir "$dir"
echo '{"prefixes": [{"ip_prefix": "3.0.0.0/8", "region": "old"}]}' >"$dir/aws-ip-ranges.json"
echo '{"prefixes": []}' >"$dir/gcp-cloud.json"
echo "# operator" >"$dir/zz-operator.txt"
snapshot() { (cd "$dir" && find . -printf '%p %s %m %T@\n' | sort && sha256sum $(find . -type f | sort)); }
before="$(snapshot)"

# The check binary must never run: it leaves a mark if it does.
stub="$tmp/archeio-stub"
printf '#!/bin/sh\ntouch "%s/stub-ran"\nexit 0\n' "$tmp" >"$stub"
chmod +x "$stub"

# Stands in for the server: records a SIGHUP instead of dying from it. Its
# executable is named archeio, as --pid-file wants of the process it names.
mkdir "$tmp/bin"
cat >"$tmp/bin/archeio" <<STANDIN
#!/bin/bash
trap 'touch $tmp/got-hup' HUP
for i in \$(seq 600); do sleep 0.1; done
STANDIN
chmod +x "$tmp/bin/archeio"
"$tmp/bin/archeio" &
server_pid=$!

run() {
	ARCHEIO_AWS_RANGES_URL=http://127.0.0.1:1/ip-ranges.json \
	ARCHEIO_GCP_RANGES_URL=http://127.0.0.1:1/cloud.json \
	ARCHEIO_AZURE_PAGE_URL=http://127.0.0.1:1/details.aspx \
	ARCHEIO_BIN="$stub" ARCHEIO_FETCH_TIMEOUT=10 \
		timeout 60 scripts/fetch-ranges.sh "$dir" "$@" >"$tmp/out" 2>"$tmp/err"
}

check_case() {
	local rc="$1" label="$2"
	[ "$rc" -ne 0 ] || fail "$label: exit status 0 without network"
	[ "$rc" -ne 124 ] || fail "$label: timed out"
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || { cat "$tmp/err" >&2; fail "$label: want one line on stderr"; }
	grep -q "^fetch-ranges: cannot download AWS ranges from http://127.0.0.1:1/ip-ranges.json (.*); check network access; nothing changed$" "$tmp/err" ||
		{ cat "$tmp/err" >&2; fail "$label: unclear message"; }
	[ "$(snapshot)" = "$before" ] || fail "$label: $dir changed"
	[ ! -e "$tmp/stub-ran" ] || fail "$label: archeio check ran"
	[ ! -e "$tmp/got-hup" ] || fail "$label: server was signalled"
	kill -0 "$server_pid" || fail "$label: server process gone"
}

rc=0; run --pid "$server_pid" || rc=$?
check_case "$rc" "--pid"
echo "$server_pid" >"$tmp/server.pid"
rc=0; run --pid-file "$tmp/server.pid" || rc=$?
check_case "$rc" "--pid-file"
rc=0; ARCHEIO_AZURE_RANGES_URL=http://127.0.0.1:1/ServiceTags_Public_20260101.json run || rc=$?
check_case "$rc" "no pid"

# docs/ranges.md's example message, reproduced: the default (real) URLs in a network namespace
# of our own that has no network at all, so the name cannot resolve and nothing leaves the host.
# curl retries (--retry 2) and reports each attempt; the script must say it once, as the doc does.
doc_line="$(grep -E '^fetch-ranges: cannot download AWS ranges from https://ip-ranges\.amazonaws\.com/' docs/ranges.md || true)"
[ -n "$doc_line" ] || fail "docs/ranges.md: no example of the offline message"
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	rc=0
	ARCHEIO_BIN="$stub" ARCHEIO_FETCH_TIMEOUT=10 timeout 60 unshare --net \
		scripts/fetch-ranges.sh "$dir" >"$tmp/out" 2>"$tmp/err" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$tmp/err" >&2; fail "doc example: exit $rc, want 1"; }
	[ "$(cat "$tmp/err")" = "$doc_line" ] ||
		fail "doc example: the script prints
  $(cat "$tmp/err")
but docs/ranges.md shows
  $doc_line"
	[ "$(snapshot)" = "$before" ] || fail "doc example: $dir changed"
	[ ! -e "$tmp/stub-ran" ] || fail "doc example: archeio check ran"
else
	echo "fetch-ranges offline: not root, docs/ranges.md's example not reproduced"
fi

echo "fetch-ranges offline: ok"
