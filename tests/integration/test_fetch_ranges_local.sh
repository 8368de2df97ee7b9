#!/usr/bin/env bash
# scripts/fetch-ranges.sh against a local HTTP server on 127.0.0.1 (no public
# host is contacted): the Azure file is found through its download page, the
# files replace those in DIR, the server gets SIGHUP; when the archeio check
# rejects the download, DIR is left alone and nobody is signalled. With the
# real build/archeio: a server started with --pid-file is found through that
# file and reloads the new files; a pid file naming a process that is not
# archeio (stale) is refused without signalling anyone.
# The check binary is a stub that validates its arguments and the files' JSON;
# when build/archeio has the `lookup` command, the real one is used as well.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
DATA=../shared/data

tmp="$(mktemp -d /tmp/archeio-fetch-local.XXXXXX)"
http_pid="" server_pid="" archeio_pid=""
cleanup() {
	for p in $http_pid $server_pid $archeio_pid; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# --- a local "internet" -------------------------------------------------------
www="$tmp/www"
mkdir "$www"
cat >"$www/ip-ranges.json" <<'JSON'
{"prefixes": [{"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2"}],
 "ipv6_prefixes": [{"ipv6_prefix": "2600:1f14::/35", "region": "us-west-2"}]}
JSON
cat >"$www/cloud.json" <<'JSON'
{"prefixes": [{"ipv4Prefix": "34.1.208.0/20", "scope": "africa-south1"}]}
JSON
cat >"$www/ServiceTags_Public_20260727.json" <<'JSON'
{"values": [{"name": "AzureCloud.eastus", "properties": {"region": "eastus",
  "addressPrefixes": ["20.42.0.0/17"]}}]}
JSON
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$www" >"$tmp/http.log" 2>&1 &
http_pid=$!
port=""
for _ in $(seq 100); do
	port="$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$tmp/http.log" 2>/dev/null | head -n 1)"
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || fail "local HTTP server did not start: $(cat "$tmp/http.log")"
base="http://127.0.0.1:$port"
cat >"$www/details.html" <<HTML
<html><body><a href="https://example.invalid/confirmation">Download</a>
<script>var url = "$base/ServiceTags_Public_20260727.json";</script></body></html>
HTML

# --- the server stand-in and the check stub -------------------------------------
bash -c "trap 'echo hup >>$tmp/hups' HUP; for i in \$(seq 1200); do sleep 0.1; done" &
server_pid=$!
stub="$tmp/archeio-stub"
cat >"$stub" <<STUB
#!/usr/bin/env bash
# Wants: lookup --ranges DIR 0.0.0.0, DIR holding the three provider files.
[ "\$1 \$2 \$4" = "lookup --ranges 0.0.0.0" ] || { echo "stub: bad args \$*" >&2; exit 3; }
[ "\$(ls "\$3" | tr '\n' ' ')" = "aws-ip-ranges.json azure-service-tags.json gcp-cloud.json " ] ||
	{ echo "stub: unexpected files: \$(ls -a "\$3")" >&2; exit 3; }
for f in "\$3"/*; do python3 -m json.tool "\$f" >/dev/null || exit 2; done
[ ! -e "$tmp/reject" ] || { echo "stub: rejecting on request" >&2; exit 2; }
printf '0.0.0.0\t-\t-\n'
STUB
chmod +x "$stub"

dir="$tmp/ranges"
mkdir "$dir"
echo '{"prefixes": [{"ip_prefix": "3.0.0.0/8", "region": "old"}]}' >"$dir/aws-ip-ranges.json"
echo "198.51.100.0/24 onprem dc-1" >"$dir/zz-operator.txt"

# fetch [--pid PID | --pid-file FILE]: the script against the local server
fetch() {
	ARCHEIO_AWS_RANGES_URL="$base/ip-ranges.json" \
	ARCHEIO_GCP_RANGES_URL="$base/cloud.json" \
	ARCHEIO_AZURE_PAGE_URL="$base/details.html" \
	ARCHEIO_FETCH_TIMEOUT=10 \
		timeout 60 scripts/fetch-ranges.sh "$dir" "$@" >"$tmp/out" 2>"$tmp/err"
}
snapshot() { (cd "$dir" && find . -printf '%p %s %m %T@\n' | sort && sha256sum $(find . -type f | sort)); }
wait_hups() {
	for _ in $(seq 50); do
		[ "$(cat "$tmp/hups" 2>/dev/null | wc -l)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- rejected by the check: nothing changes, no signal ---------------------------
touch "$tmp/reject"
before="$(snapshot)"
rc=0; ARCHEIO_BIN="$stub" fetch --pid "$server_pid" || rc=$?
[ "$rc" -ne 0 ] || fail "rejected download: exit 0"
grep -q "^fetch-ranges: archeio rejects the downloaded ranges: stub: rejecting on request; nothing changed$" "$tmp/err" ||
	{ cat "$tmp/err" >&2; fail "rejected download: unclear message"; }
[ "$(snapshot)" = "$before" ] || fail "rejected download changed $dir"
[ ! -e "$tmp/hups" ] || fail "rejected download signalled the server"
rm "$tmp/reject"

# --- success: files replaced, operator file kept, one SIGHUP ----------------------
rc=0; ARCHEIO_BIN="$stub" fetch --pid "$server_pid" || { rc=$?; cat "$tmp/err" >&2; fail "fetch failed ($rc)"; }
cmp -s "$dir/aws-ip-ranges.json" "$www/ip-ranges.json" || fail "aws file not replaced"
cmp -s "$dir/gcp-cloud.json" "$www/cloud.json" || fail "gcp file not replaced"
cmp -s "$dir/azure-service-tags.json" "$www/ServiceTags_Public_20260727.json" || fail "azure file not replaced"
[ "$(cat "$dir/zz-operator.txt")" = "198.51.100.0/24 onprem dc-1" ] || fail "operator file touched"
[ "$(ls -A "$dir" | tr '\n' ' ')" = "aws-ip-ranges.json azure-service-tags.json gcp-cloud.json zz-operator.txt " ] ||
	fail "unexpected files left in $dir: $(ls -A "$dir")"
[ "$(stat -c %a "$dir/gcp-cloud.json")" = 644 ] || fail "files not mode 0644"
wait_hups 1 || fail "server got no SIGHUP"
grep -q "sent SIGHUP to $server_pid" "$tmp/out" || fail "no SIGHUP report: $(cat "$tmp/out")"

# --- a stale pid file: its pid is some other program now; refused, not signalled ---
echo "$server_pid" >"$tmp/stale.pid"
before="$(snapshot)"
rc=0; ARCHEIO_BIN="$stub" fetch --pid-file "$tmp/stale.pid" || rc=$?
[ "$rc" -eq 1 ] || fail "stale pid file: exit $rc, want 1"
[ "$(cat "$tmp/err")" = "fetch-ranges: pid file $tmp/stale.pid names pid $server_pid, which is not archeio (a stale pid file?); nothing changed" ] ||
	{ cat "$tmp/err" >&2; fail "stale pid file: unclear message"; }
[ "$(snapshot)" = "$before" ] || fail "stale pid file changed $dir"
[ "$(wc -l <"$tmp/hups")" -eq 1 ] || fail "stale pid file: the process it names was signalled"

# --- the real check, once the archeio binary has the lookup command ---------------
if [ -x "$BUILD/archeio" ] && "$BUILD/archeio" lookup --ranges "$dir" 0.0.0.0 >/dev/null 2>&1; then
	cp "$DATA/aws-ip-ranges.json" "$www/ip-ranges.json"
	cp "$DATA/gcp-cloud.json" "$www/cloud.json"
	cp "$DATA/azure-service-tags.json" "$www/ServiceTags_Public_20260727.json"
	# The server as README.md and docs/ranges.md run it: found through its pid file.
	"$BUILD/archeio" serve --listen 127.0.0.1:0 --workers 1 --ranges "$dir" \
		--pid-file "$tmp/archeio.pid" >"$tmp/archeio.log" 2>&1 &
	archeio_pid=$!
	for _ in $(seq 200); do grep -q "listening on" "$tmp/archeio.log" && break; sleep 0.05; done
	grep -q "listening on" "$tmp/archeio.log" || { cat "$tmp/archeio.log" >&2; fail "archeio serve did not start"; }
	[ "$(cat "$tmp/archeio.pid")" = "$archeio_pid" ] || fail "archeio wrote no pid file"
	rc=0; ARCHEIO_BIN="$BUILD/archeio" fetch --pid-file "$tmp/archeio.pid" || { rc=$?; cat "$tmp/err" >&2; fail "fetch with real archeio failed ($rc)"; }
	cmp -s "$dir/aws-ip-ranges.json" "$DATA/aws-ip-ranges.json" || fail "real data not installed"
	grep -q "sent SIGHUP to $archeio_pid" "$tmp/out" || fail "no SIGHUP report: $(cat "$tmp/out")"
	for _ in $(seq 200); do grep -q "reloaded" "$tmp/archeio.log" && break; sleep 0.05; done
	grep -qE "reloaded prefixes=[0-9]{4,}" "$tmp/archeio.log" ||
		{ cat "$tmp/archeio.log" >&2; fail "archeio did not reload the new files"; }
	echo '{"prefixes": [{"ip_prefix": "3.0.0.0/33", "region": "r"}]}' >"$www/ip-ranges.json"
	before="$(snapshot)"
	rc=0; ARCHEIO_BIN="$BUILD/archeio" fetch --pid-file "$tmp/archeio.pid" || rc=$?
	[ "$rc" -ne 0 ] || fail "real archeio accepted a bad CIDR"
	grep -q "archeio rejects the downloaded ranges: .*bad CIDR" "$tmp/err" || { cat "$tmp/err" >&2; fail "real check: unclear message"; }
	[ "$(snapshot)" = "$before" ] || fail "rejected download changed $dir"
	[ "$(grep -c "SIGHUP: reloading" "$tmp/archeio.log")" -eq 1 ] || fail "rejected download signalled archeio"
	echo "fetch-ranges local: checked with $BUILD/archeio too"
else
	echo "fetch-ranges local: $BUILD/archeio has no working 'lookup' yet; checked with the stub only"
fi
echo "fetch-ranges local: ok"
