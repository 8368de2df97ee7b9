#!/usr/bin/env bash
# archeio-mirror end to end, on loopback only:
#  1. a real registry (Debian's docker-registry) filled by skopeo with generated
#     single- and multi-platform OCI images: --dry-run, copy to a directory,
#     digests checked, second run skips, resume after an interrupted run,
#     --ref, --catalog, bad flags;
#  2. a fake registry (tests/lib/fake-registry.py) with bearer auth, Link
#     paging, 503s on first blob requests, redirects to storage, and a blob
#     whose bytes lie;
#  3. a MOCK S3 (tests/lib/fake-s3.py) that verifies SigV4 and
#     x-amz-checksum-sha256 with its own implementation.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD="${BUILD:-build}"
BIN="$BUILD/archeio-mirror"

skip_or_fail() {
	if [ "${CI:-}" = true ] || [ "$(id -u)" -eq 0 ]; then
		echo "FAIL: $*"; exit 1
	fi
	echo "SKIP: $*"; exit 77
}
[ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }
for tool in docker-registry skopeo python3 curl sha256sum; do
	command -v "$tool" >/dev/null || skip_or_fail "$tool is not installed (scripts/install-deps.sh)"
done

WORK="$(mktemp -d /tmp/archeio-mirror-test.XXXXXX)"
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

failures=0
check() { # check "description" command...
	local what="$1"; shift
	if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
}
# Runs the mirror with a time bound; stdout -> $WORK/out.txt, stderr -> $WORK/err.txt.
mirror() {
	local rc=0
	timeout 120 "$BIN" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
	echo "$rc"
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port_file() { # a python server writes its port when listening
	for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
	echo "server did not start ($1)"; return 1
}
blobs_ok() { # blobs_ok DIR FILE-with-"kind digest"-lines: every config/layer present and intact
	local dir="$1" list="$2" kind digest
	while read -r kind digest; do
		case "$kind" in config | layer) ;; *) continue ;; esac
		[ -f "$dir/containers/images/$digest" ] || { echo "missing $digest"; return 1; }
		[ "sha256:$(sha256sum <"$dir/containers/images/$digest" | cut -d' ' -f1)" = "$digest" ] ||
			{ echo "corrupt $digest"; return 1; }
	done <"$list"
}
count_blobs() { grep -cE '^(config|layer) ' "$1"; }
no_temp_files() { ! find "$1" -name '.tmp-archeio-*' | grep -q .; }

# --- images -----------------------------------------------------------------
python3 tests/lib/make-oci-layout.py "$WORK/layout" v1:single v2:multi v3:single >"$WORK/expected"
python3 tests/lib/make-oci-layout.py "$WORK/layout2" other:single >"$WORK/expected2"
cat "$WORK/expected" "$WORK/expected2" >"$WORK/expected-all"

# --- 1. real registry -------------------------------------------------------
REG_PORT="$(free_port)"
cat >"$WORK/registry.yml" <<YML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $WORK/registry-data}
http:
  addr: 127.0.0.1:$REG_PORT
YML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$REG_PORT/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$REG_PORT/v2/" >/dev/null || { echo "FAIL: docker-registry did not start"; cat "$WORK/registry.log"; exit 1; }
REG="http://127.0.0.1:$REG_PORT"
printf '{"default":[{"type":"insecureAcceptAnything"}]}' >"$WORK/policy.json"
push() { # push LAYOUT TAG REPO
	timeout 120 skopeo --policy "$WORK/policy.json" copy --all --quiet --dest-tls-verify=false \
		"oci:$1:$2" "docker://127.0.0.1:$REG_PORT/$3:$2"
}
for tag in v1 v2 v3; do push "$WORK/layout" "$tag" test/img; done
push "$WORK/layout2" other test/other

DEST="$WORK/mirror"
rc=$(mirror --from "$REG" --repo test/img --to "$DEST" --dry-run)
check "dry-run exits 0" [ "$rc" = 0 ]
check "dry-run lists every blob" [ "$(grep -c '^would copy ' "$WORK/out.txt")" = "$(count_blobs "$WORK/expected")" ]
check "dry-run writes nothing" [ ! -e "$DEST" ]

rc=$(mirror --from "$REG" --repo test/img --to "$DEST" --concurrency 3 --rps 200)
check "copy exits 0" [ "$rc" = 0 ]
check "every blob is stored with its digest" blobs_ok "$DEST" "$WORK/expected"
check "no temp files are left" no_temp_files "$DEST"
check "one summary line when stderr is not a terminal" [ "$(wc -l <"$WORK/err.txt")" = 1 ]
check "summary counts the copies" grep -q "($(count_blobs "$WORK/expected") copied, 0 present, 0 failed)" "$WORK/err.txt"
check "manifests are recorded" [ "$(ls "$DEST/.archeio-mirror/manifests" | wc -l)" -ge 3 ]

stamp="$(stat -c %Y.%i "$DEST/containers/images/"* | sort | sha256sum)"
rc=$(mirror --from "$REG" --repo test/img --to "$DEST")
check "second run exits 0" [ "$rc" = 0 ]
check "second run skips every image by its record" grep -q "0 copied, 0 present, 0 failed), .* 3 images already recorded" "$WORK/err.txt"
check "second run touched no blob" [ "$stamp" = "$(stat -c %Y.%i "$DEST/containers/images/"* | sort | sha256sum)" ]

# An interrupted run: no records, one blob missing, a dead run's temp file.
rm -rf "$DEST/.archeio-mirror"
victim="$(grep '^layer ' "$WORK/expected" | head -1 | cut -d' ' -f2)"
rm "$DEST/containers/images/$victim"
echo partial >"$DEST/containers/images/.tmp-archeio-999999999-abcdef"
rc=$(mirror --from "$REG" --repo test/img --to "$DEST")
check "resume exits 0" [ "$rc" = 0 ]
check "resume copies only the missing blob" grep -q "(1 copied, $(($(count_blobs "$WORK/expected") - 1)) present, 0 failed)" "$WORK/err.txt"
check "resume restores the blob" blobs_ok "$DEST" "$WORK/expected"
check "resume removes a dead run's temp file" no_temp_files "$DEST"

D2="$WORK/mirror-ref"
v1_config="$(sed -n '3p' "$WORK/expected" | cut -d' ' -f2)"
rc=$(mirror --from "$REG" --repo test/img --ref v1 --to "$D2")
check "--ref copies only that image" [ "$rc" = 0 ] && [ "$(ls "$D2/containers/images" | wc -l)" = "$(head -4 "$WORK/expected" | count_blobs /dev/stdin)" ]
check "--ref copied the config of v1" [ -f "$D2/containers/images/$v1_config" ]

D3="$WORK/mirror-catalog"
printf '# repositories\ntest/other\n' >"$WORK/repos.txt"
rc=$(mirror --from "$REG" --repos-file "$WORK/repos.txt" --to "$D3")
check "--repos-file copies the listed repository" [ "$rc" = 0 ] && blobs_ok "$D3" "$WORK/expected2"
rc=$(mirror --from "$REG" --catalog --to "$D3")
check "--catalog copies every repository" [ "$rc" = 0 ] && blobs_ok "$D3" "$WORK/expected-all"

rc=$(mirror --from "$REG" --repo test/img --to "$WORK/x" --concurrency 0)
check "bad flag value exits 2" [ "$rc" = 2 ]
check "bad flag gives one clear line" [ "$(wc -l <"$WORK/err.txt")" = 1 ] && grep -q -- '--concurrency' "$WORK/err.txt"
rc=$(mirror --from "$REG" --nonsense)
check "unknown flag exits 2" [ "$rc" = 2 ]
rc=$(mirror --from "$REG" --repo test/missing --to "$WORK/m404")
check "a missing repository fails with a list" [ "$rc" = 1 ] && grep -q 'test/missing' "$WORK/err.txt"

# --- 2. fake registry: auth, paging, 503s, a lying blob ---------------------
python3 tests/lib/fake-registry.py "$WORK/fake.port" "$WORK/layout" --flaky --redirect --log "$WORK/fake.log" &
PIDS+=($!)
wait_port_file "$WORK/fake.port"
FAKE="http://127.0.0.1:$(cat "$WORK/fake.port")"
D4="$WORK/mirror-fake"
rc=$(mirror --from "$FAKE" --repo test/img --to "$D4" --concurrency 2)
check "bearer auth + paging + retried 503s: exits 0" [ "$rc" = 0 ]
check "bearer auth + paging + retried 503s: all blobs" blobs_ok "$D4" "$WORK/expected"
check "a token was fetched for the repository scope" grep -q 'GET /token?service=fake&scope=repository%3Atest%2Fimg%3Apull' "$WORK/fake.log"
check "tags were paged" grep -q 'tags/list?n=1&last=' "$WORK/fake.log"
check "blob redirects were followed" grep -q '^GET /storage/sha256:' "$WORK/fake.log"

# --rps: a lower bound on the duration only (the limit can make a run slower,
# never faster), so the check does not depend on machine speed.
python3 tests/lib/fake-registry.py "$WORK/rps.port" "$WORK/layout" --log "$WORK/rps.log" &
PIDS+=($!)
wait_port_file "$WORK/rps.port"
start=$(date +%s%N)
rc=$(mirror --from "http://127.0.0.1:$(cat "$WORK/rps.port")" --repo test/img --to "$WORK/m-rps" --rps 10 --concurrency 4)
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
requests=$(wc -l <"$WORK/rps.log")
# A burst of 10 goes at once, every further request waits 100 ms.
check "--rps 10: $requests requests took ${elapsed_ms} ms (>= $(((requests - 10) * 100)) ms)" \
	[ "$rc" = 0 ] && [ "$elapsed_ms" -ge $(((requests - 10) * 100)) ]

bad="$(grep '^layer ' "$WORK/expected" | tail -1 | cut -d' ' -f2)"
python3 tests/lib/fake-registry.py "$WORK/liar.port" "$WORK/layout" --corrupt "$bad" &
PIDS+=($!)
wait_port_file "$WORK/liar.port"
D5="$WORK/mirror-liar"
rc=$(mirror --from "http://127.0.0.1:$(cat "$WORK/liar.port")" --repo test/img --to "$D5")
check "corrupt blob: non-zero exit" [ "$rc" = 1 ]
check "corrupt blob: not stored" [ ! -e "$D5/containers/images/$bad" ]
check "corrupt blob: listed as a digest mismatch" grep -q "$bad: digest mismatch" "$WORK/err.txt"
check "corrupt blob: no temp file left" no_temp_files "$D5"
# The generator prints an image's layers and config before its manifest.
bad_manifest="$(awk -v d="$bad" '$2 == d { found = 1 } found && $1 == "manifest" { print $2; exit }' "$WORK/expected")"
check "corrupt blob: its image is not recorded" [ ! -e "$D5/.archeio-mirror/manifests/$bad_manifest" ]
check "corrupt blob: the other images are recorded" [ "$(ls "$D5/.archeio-mirror/manifests" | wc -l)" = 4 ]

python3 tests/lib/fake-registry.py "$WORK/flaky.port" "$WORK/layout" --flaky &
PIDS+=($!)
wait_port_file "$WORK/flaky.port"
rc=$(mirror --from "http://127.0.0.1:$(cat "$WORK/flaky.port")" --repo test/img --ref v1 --to "$WORK/m-noretry" --retries 0)
check "503 without retries: non-zero exit" [ "$rc" = 1 ] && grep -q 'HTTP 503' "$WORK/err.txt"

# --- 3. MOCK S3 that checks SigV4 and x-amz-checksum-sha256 -----------------
mkdir -p "$WORK/s3data"
python3 tests/lib/fake-s3.py "$WORK/s3.port" "$WORK/s3data" AKIDTEST secretTEST eu-test-1 --log "$WORK/s3.log" &
PIDS+=($!)
wait_port_file "$WORK/s3.port"
S3="http://127.0.0.1:$(cat "$WORK/s3.port")"
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secretTEST
rc=$(mirror --from "$REG" --repo test/img --to s3://bucket/pre/fix --s3-endpoint "$S3" --s3-region eu-test-1)
check "S3: exits 0" [ "$rc" = 0 ]
check "S3: every blob stored under the prefix" blobs_ok "$WORK/s3data/bucket/pre/fix" "$WORK/expected"
check "S3: the mock rejected nothing" bash -c "! grep -q REJECT '$WORK/s3.log'"
rc=$(mirror --from "$REG" --repo test/img --to s3://bucket/pre/fix --s3-endpoint "$S3" --s3-region eu-test-1)
check "S3: second run finds every blob by HEAD" [ "$rc" = 0 ] && grep -q "(0 copied, $(count_blobs "$WORK/expected") present, 0 failed)" "$WORK/err.txt"
rc=$(AWS_SECRET_ACCESS_KEY=wrong mirror --from "$REG" --repo test/img --to s3://bucket/other --s3-endpoint "$S3" --s3-region eu-test-1)
check "S3: a wrong secret is refused by the signature check" [ "$rc" = 1 ] && grep -q 'REJECT signature mismatch' "$WORK/s3.log"
rc=$(AWS_ACCESS_KEY_ID= mirror --from "$REG" --repo test/img --to s3://bucket/x --s3-endpoint "$S3")
check "S3: missing credentials exit 2" [ "$rc" = 2 ] && grep -q AWS_ACCESS_KEY_ID "$WORK/err.txt"

echo "test_mirror_tool: $failures failed checks"
[ "$failures" -eq 0 ]
