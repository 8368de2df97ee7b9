#!/usr/bin/env bash
# archeio-mirror filling a fleet of mirrors, on loopback only:
#  1. fan-out: one run copies a generated image with a 12 MiB layer (three
#     parts of --s3-part-size 5MiB) into two buckets of s3rver 3.7 (a
#     third-party S3 implementation, /opt/s3rver from scripts/install-deps.sh)
#     and a directory; every object read back and its digest checked; the
#     source read once per blob; per-destination summary lines;
#  2. signatures of every request, multipart ones included, checked by the
#     MOCK S3 (tests/lib/fake-s3.py) against botocore's S3SigV4Auth (Debian's
#     python3-botocore) as an independent oracle;
#  3. SIGKILL in the middle of a multipart upload: no object appears, the
#     next run completes; SIGTERM: the run aborts its upload
#     (AbortMultipartUpload, recorded by the mock) and exits 143;
#  4. a failing destination does not stop the others, and the exit status
#     (64 + a bit per destination) names it.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
BIN="$BUILD/archeio-mirror"
S3RVER="${S3RVER:-/opt/s3rver/node_modules/.bin/s3rver}"

skip_or_fail() {
	if [ "${CI:-}" = true ] || [ "$(id -u)" -eq 0 ]; then
		echo "FAIL: $*"; exit 1
	fi
	echo "SKIP: $*"; exit 77
}
[ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }
for tool in python3 curl sha256sum node; do
	command -v "$tool" >/dev/null || skip_or_fail "$tool is not installed (scripts/install-deps.sh)"
done
[ -x "$S3RVER" ] || skip_or_fail "s3rver is not installed at $S3RVER (scripts/install-deps.sh)"
# botocore from Debian's python3-botocore, which the system python sees.
ORACLE_PY=/usr/bin/python3
"$ORACLE_PY" -c 'import botocore.auth' 2>/dev/null || skip_or_fail "python3-botocore is not installed"

WORK="$(mktemp -d /tmp/archeio-fleet-test.XXXXXX)"
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

failures=0
check_all() { # check_all "description" 'commands'
	if eval "$2"; then echo "ok   - $1"; else echo "FAIL - $1"; failures=$((failures + 1)); fi
}
mirror() { # stdout -> $WORK/out.txt, stderr -> $WORK/err.txt; prints the exit status
	local rc=0
	timeout 120 "$BIN" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
	echo "$rc"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port_file() {
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
	echo "server did not start ($1)"; return 1
}
wait_for() { # wait_for FILE PATTERN [tenths]: bounded wait for a log line
	for _ in $(seq "${3:-200}"); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
blob_digests() { awk '$1 == "config" || $1 == "layer" { print $2 }' "$WORK/expected"; }
dir_ok() { # every blob in DIR with its digest
	local d
	for d in $(blob_digests); do
		[ "sha256:$(sha256sum <"$1/containers/images/$d" | cut -d' ' -f1)" = "$d" ] || { echo "bad $d in $1"; return 1; }
	done
}
s3rver_ok() { # every blob read back from s3rver at BASE (http://host:port/bucket/prefix)
	local d
	for d in $(blob_digests); do
		curl -fsS "$1/containers/images/${d/:/%3A}" -o "$WORK/readback" || { echo "cannot read $d from $1"; return 1; }
		[ "sha256:$(sha256sum <"$WORK/readback" | cut -d' ' -f1)" = "$d" ] || { echo "bad $d in $1"; return 1; }
	done
}

# --- source: a generated image with a 12 MiB layer, and a small one ----------
python3 tests/lib/make-oci-layout.py "$WORK/layout" v1:big v2:single >"$WORK/expected"
BIG=""
for d in $(awk '$1 == "layer" { print $2 }' "$WORK/expected"); do
	if [ "$(stat -c %s "$WORK/layout/blobs/sha256/${d#sha256:}")" -gt $((10 << 20)) ]; then BIG="$d"; fi
done
NBLOBS="$(blob_digests | wc -l)"
python3 tests/lib/fake-registry.py "$WORK/reg.port" "$WORK/layout" --log "$WORK/reg.log" &
PIDS+=($!)
wait_port_file "$WORK/reg.port"
REG="http://127.0.0.1:$(cat "$WORK/reg.port")"

# --- 1. fan-out into two s3rver buckets and a directory ---------------------
S3R_PORT="$(free_port)"
"$S3RVER" -d "$WORK/s3rver" -a 127.0.0.1 -p "$S3R_PORT" --silent \
	--configure-bucket east --configure-bucket west >"$WORK/s3rver.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$S3R_PORT/" >/dev/null 2>&1 && break; sleep 0.1; done
S3R="http://127.0.0.1:$S3R_PORT"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER # s3rver's own credentials
: >"$WORK/reg.log"
rc=$(mirror --from "$REG" --repo test/img --to "$WORK/dir" --to "s3://east/m/r?region=us-east-2" \
	--to "s3://west?endpoint=$S3R&region=us-west-2" --s3-endpoint "$S3R" --s3-part-size 5MiB --concurrency 2)
check_all "fan-out: exit 0" '[ "$rc" = 0 ] || { cat "$WORK/err.txt"; false; }'
check_all "fan-out: the 12 MiB layer exists" '[ -n "$BIG" ]'
check_all "fan-out: every blob in the directory, digests match" 'dir_ok "$WORK/dir"'
check_all "fan-out: every blob read back from s3rver bucket east/m/r, digests match" 's3rver_ok "$S3R/east/m/r"'
check_all "fan-out: every blob read back from s3rver bucket west, digests match" 's3rver_ok "$S3R/west"'
check_all "fan-out: each blob read from the source once" \
	'[ "$(grep -c "GET /v2/test/img/blobs/" "$WORK/reg.log")" = "$NBLOBS" ]'
check_all "fan-out: one summary line per destination" \
	'grep -q "^  to $WORK/dir: $NBLOBS copied, 0 present, 0 failed" "$WORK/err.txt" &&
	grep -q "^  to s3://east/m/r?region=us-east-2: $NBLOBS copied, 0 present, 0 failed" "$WORK/err.txt" &&
	grep -q "^  to s3://west?endpoint=.*: $NBLOBS copied, 0 present, 0 failed" "$WORK/err.txt"'
check_all "fan-out: no multipart upload left in s3rver" '! find "$WORK/s3rver" -path "*multipart*" -type f | grep -q .'
rm -rf "$WORK/dir/containers/images/$BIG"
rc=$(mirror --from "$REG" --repo test/img --to "$WORK/dir" --to "s3://east/m/r" --to "s3://west" \
	--s3-endpoint "$S3R" --s3-part-size 5MiB)
check_all "fan-out again: only what a destination lacks is copied" \
	'[ "$rc" = 0 ] && grep -q "^  to $WORK/dir: 1 copied, $((NBLOBS - 1)) present" "$WORK/err.txt" &&
	grep -q "^  to s3://west: 0 copied, $NBLOBS present" "$WORK/err.txt" && dir_ok "$WORK/dir"'
# --verify=digest over the fan-out: s3rver stores no checksum (and a multipart
# object would carry only a per-part one), so its objects are read back and
# hashed; all intact, nothing is read from the source.
: >"$WORK/reg.log"
rc=$(mirror --from "$REG" --repo test/img --to "$WORK/dir" --to "s3://east/m/r" --to "s3://west" \
	--s3-endpoint "$S3R" --s3-part-size 5MiB --verify=digest)
check_all "fan-out --verify=digest: every copy intact, no blob read from the source" \
	'[ "$rc" = 0 ] && grep -q "(0 copied, $NBLOBS present, 0 failed" "$WORK/err.txt" &&
	! grep -q "^repaired" "$WORK/err.txt" && ! grep -q "GET /v2/test/img/blobs/" "$WORK/reg.log"'

# --- 2. signatures checked by botocore --------------------------------------
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secretTEST
"$ORACLE_PY" tests/lib/fake-s3.py "$WORK/s3.port" "$WORK/s3data" AKIDTEST secretTEST eu-test-1 \
	--log "$WORK/s3.log" --oracle botocore --deny /bucket/locked &
PIDS+=($!)
wait_port_file "$WORK/s3.port"
S3="http://127.0.0.1:$(cat "$WORK/s3.port")"
rc=$(mirror --from "$REG" --repo test/img --to s3://bucket/pre --s3-endpoint "$S3" --s3-region eu-test-1 \
	--s3-part-size 5MiB --s3-part-concurrency 2)
check_all "botocore oracle: exit 0, every blob stored" '[ "$rc" = 0 ] && dir_ok "$WORK/s3data/bucket/pre"'
check_all "botocore oracle: every signature accepted, multipart requests included" \
	'! grep -q REJECT "$WORK/s3.log" && grep -q "^INITIATE " "$WORK/s3.log" &&
	[ "$(grep -c "^PART " "$WORK/s3.log")" = 3 ] && grep -q "^COMPLETE .*$BIG 3 parts" "$WORK/s3.log"'
rc=$(AWS_SECRET_ACCESS_KEY=wrong mirror --from "$REG" --repo test/img --to s3://bucket/x --s3-endpoint "$S3" \
	--s3-region eu-test-1)
check_all "botocore oracle: a wrong secret is refused" '[ "$rc" = 65 ] && grep -q "REJECT signature mismatch" "$WORK/s3.log"'

# --- 3. interrupted runs ----------------------------------------------------
"$ORACLE_PY" tests/lib/fake-s3.py "$WORK/slow.port" "$WORK/slow" AKIDTEST secretTEST eu-test-1 \
	--log "$WORK/slow.log" --slow-parts 3 &
PIDS+=($!)
wait_port_file "$WORK/slow.port"
SLOW="http://127.0.0.1:$(cat "$WORK/slow.port")"
# The binary itself runs in the background (no timeout or function wrapper,
# so the signals reach it); cleanup kills it should a wait below give up.
slow_args=(--from "$REG" --repo test/img --to s3://bucket/k --s3-endpoint "$SLOW" --s3-region eu-test-1
	--s3-part-size 5MiB)
"$BIN" "${slow_args[@]}" >"$WORK/out.txt" 2>"$WORK/err.txt" &
pid=$!
PIDS+=("$pid")
wait_for "$WORK/slow.log" "^INITIATE " || true
sleep 0.5
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
sleep 4 # longer than a slow part: anything the dead run had sent has landed
check_all "SIGKILL mid-upload: the upload had begun, no object appeared" \
	'grep -q "^INITIATE " "$WORK/slow.log" && ! grep -q "^COMPLETE " "$WORK/slow.log" &&
	[ ! -e "$WORK/slow/bucket/k/containers/images/$BIG" ]'
: >"$WORK/slow.log"
rc=$(mirror "${slow_args[@]}" --s3-part-concurrency 1)
check_all "after SIGKILL: the next run completes" '[ "$rc" = 0 ] && dir_ok "$WORK/slow/bucket/k" && grep -q "^COMPLETE " "$WORK/slow.log"'
rm -rf "$WORK/slow/bucket/k"
: >"$WORK/slow.log"
"$BIN" "${slow_args[@]}" >"$WORK/out.txt" 2>"$WORK/err.txt" &
pid=$!
PIDS+=("$pid")
wait_for "$WORK/slow.log" "^INITIATE " || true
sleep 0.5
kill -TERM "$pid"
rc=0
for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid" || rc=$?
id="$(sed -n 's/^INITIATE \([0-9a-f]*\) .*/\1/p' "$WORK/slow.log" | head -1)"
check_all "SIGTERM mid-upload: exit 143, the interrupted blob listed" \
	'[ "$rc" = 143 ] && grep -q "$BIG: to s3://bucket/k: .*interrupted" "$WORK/err.txt" || { echo "rc=$rc"; cat "$WORK/err.txt"; false; }'
check_all "SIGTERM mid-upload: the upload was aborted, nothing left behind" \
	'[ -n "$id" ] && grep -q "^ABORT $id" "$WORK/slow.log" && [ ! -e "$WORK/slow/.uploads/$id" ] &&
	[ ! -e "$WORK/slow/bucket/k/containers/images/$BIG" ]'

# --- 4. one destination failing ---------------------------------------------
rc=$(mirror --from "$REG" --repo test/img --to "$WORK/dir2" --to s3://bucket/locked --to s3://bucket/open \
	--s3-endpoint "$S3" --s3-region eu-test-1 --retries 0)
check_all "a failing destination: exit 64 + 2 (the second --to), the others complete" \
	'[ "$rc" = 66 ] && dir_ok "$WORK/dir2" && dir_ok "$WORK/s3data/bucket/open" &&
	grep -q "^  to s3://bucket/locked: 0 copied, 0 present, $NBLOBS failed" "$WORK/err.txt" &&
	grep -q "to s3://bucket/locked: checking destination: HEAD .*HTTP 403" "$WORK/err.txt"'

echo "test_mirror_fleet: $failures failure(s)"
[ "$failures" = 0 ]
