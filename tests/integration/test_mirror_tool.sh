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
#     x-amz-checksum-sha256 with its own implementation;
#  4. failures a user meets: an unreachable or broken source (malformed or
#     missing answers, failing token service), bad --repos-file input,
#     unusable destinations, S3 403s and 500s, --ref by digest, stale records,
#     and --concurrency not changing the result.
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
# check_all "description" 'commands': for a check of several commands joined
# by &&, which `check` would apply to the first command only.
check_all() {
	local what="$1"
	if eval "$2"; then echo "ok   - $what"; else echo "FAIL - $what"; failures=$((failures + 1)); fi
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
# The summary line counts every failure the list below it shows: the numbers
# before "failed" in "blobs ... (N failed), N images failed, ..." add up to the
# N of "failures (N):". A run that failed must list and count something.
summary_counts_failures() {
	local listed counted
	listed=$(sed -n 's/^failures (\([0-9]*\)):$/\1/p' "$WORK/err.txt")
	counted=$(grep -m1 'blobs [0-9]*/[0-9]* (' "$WORK/err.txt" | grep -oE '[0-9]+ ([a-z]+ )*failed' |
		awk '{ sum += $1 } END { print sum + 0 }')
	[ -n "$listed" ] && [ "$listed" -gt 0 ] && [ "$counted" = "$listed" ] ||
		{ echo "summary counts $counted failures, the list shows ${listed:-none}:"; cat "$WORK/err.txt"; return 1; }
}
no_temp_files() { ! find "$1" -name '.tmp-archeio-*' | grep -q .; }

# --- images -----------------------------------------------------------------
python3 tests/lib/make-oci-layout.py "$WORK/layout" v1:single v2:multi v3:single >"$WORK/expected"
python3 tests/lib/make-oci-layout.py "$WORK/layout2" other:single >"$WORK/expected2"
cat "$WORK/expected" "$WORK/expected2" >"$WORK/expected-all"
# Layer counts are random; v1's blobs are the lines up to its manifest.
awk '{ print } /^manifest /{ exit }' "$WORK/expected" >"$WORK/expected-v1"

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
v1_config="$(grep '^config ' "$WORK/expected-v1" | cut -d' ' -f2)"
rc=$(mirror --from "$REG" --repo test/img --ref v1 --to "$D2")
check_all "--ref copies only that image" '[ "$rc" = 0 ] && [ "$(ls "$D2/containers/images" | wc -l)" = "$(count_blobs "$WORK/expected-v1")" ]'
check "--ref copied the config of v1" [ -f "$D2/containers/images/$v1_config" ]

D3="$WORK/mirror-catalog"
printf '# repositories\ntest/other\n' >"$WORK/repos.txt"
rc=$(mirror --from "$REG" --repos-file "$WORK/repos.txt" --to "$D3")
check_all "--repos-file copies the listed repository" '[ "$rc" = 0 ] && blobs_ok "$D3" "$WORK/expected2"'
rc=$(mirror --from "$REG" --catalog --to "$D3")
check_all "--catalog copies every repository" '[ "$rc" = 0 ] && blobs_ok "$D3" "$WORK/expected-all"'

rc=$(mirror --from "$REG" --repo test/img --catalog --to "$WORK/m-both" --dry-run)
check_all "--repo plus --catalog: each blob listed once" \
	'[ "$rc" = 0 ] && [ "$(grep -c "^would copy " "$WORK/out.txt")" = "$(count_blobs "$WORK/expected-all")" ] &&
	[ "$(grep "^would copy " "$WORK/out.txt" | sort -u | wc -l)" = "$(count_blobs "$WORK/expected-all")" ]'
rc=$(mirror --from "$REG" --repo test/img --to "$WORK/x" --concurrency 0)
check "bad flag value exits 2" [ "$rc" = 2 ]
check_all "bad flag gives one clear line" '[ "$(wc -l <"$WORK/err.txt")" = 1 ] && grep -q -- '\''--concurrency'\'' "$WORK/err.txt"'
rc=$(mirror --from "$REG" --nonsense)
check "unknown flag exits 2" [ "$rc" = 2 ]
rc=$(mirror --from "$REG" --repo test/missing --to "$WORK/m404")
check_all "a missing repository fails with a list" '[ "$rc" = 1 ] && grep -q '\''test/missing'\'' "$WORK/err.txt"'
check "a missing repository: the summary counts the failure it lists" summary_counts_failures

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
check_all "--rps 10: $requests requests took ${elapsed_ms} ms (>= $(((requests - 10) * 100)) ms)" '\
	[ "$rc" = 0 ] && [ "$elapsed_ms" -ge $(((requests - 10) * 100)) ]'

bad="$(grep '^layer ' "$WORK/expected" | tail -1 | cut -d' ' -f2)"
python3 tests/lib/fake-registry.py "$WORK/liar.port" "$WORK/layout" --corrupt "$bad" &
PIDS+=($!)
wait_port_file "$WORK/liar.port"
D5="$WORK/mirror-liar"
rc=$(mirror --from "http://127.0.0.1:$(cat "$WORK/liar.port")" --repo test/img --to "$D5")
check "corrupt blob: non-zero exit" [ "$rc" = 1 ]
check "corrupt blob: not stored" [ ! -e "$D5/containers/images/$bad" ]
check "corrupt blob: listed as a digest mismatch" grep -q "$bad: digest mismatch" "$WORK/err.txt"
check "corrupt blob: the summary counts the failure it lists" summary_counts_failures
check "corrupt blob: no temp file left" no_temp_files "$D5"
# The generator prints an image's layers and config before its manifest.
bad_manifest="$(awk -v d="$bad" '$2 == d { found = 1 } found && $1 == "manifest" { print $2; exit }' "$WORK/expected")"
check "corrupt blob: its image is not recorded" [ ! -e "$D5/.archeio-mirror/manifests/$bad_manifest" ]
check "corrupt blob: the other images are recorded" [ "$(ls "$D5/.archeio-mirror/manifests" | wc -l)" = 4 ]

python3 tests/lib/fake-registry.py "$WORK/flaky.port" "$WORK/layout" --flaky &
PIDS+=($!)
wait_port_file "$WORK/flaky.port"
rc=$(mirror --from "http://127.0.0.1:$(cat "$WORK/flaky.port")" --repo test/img --ref v1 --to "$WORK/m-noretry" --retries 0)
check_all "503 without retries: non-zero exit" '[ "$rc" = 1 ] && grep -q '\''HTTP 503'\'' "$WORK/err.txt"'

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
check_all "S3: second run finds every blob by HEAD" '[ "$rc" = 0 ] && grep -q "(0 copied, $(count_blobs "$WORK/expected") present, 0 failed)" "$WORK/err.txt"'
rc=$(AWS_SECRET_ACCESS_KEY=wrong mirror --from "$REG" --repo test/img --to s3://bucket/other --s3-endpoint "$S3" --s3-region eu-test-1)
check_all "S3: a wrong secret is refused by the signature check" '[ "$rc" = 65 ] && grep -q '\''REJECT signature mismatch'\'' "$WORK/s3.log"'
rc=$(AWS_ACCESS_KEY_ID='' mirror --from "$REG" --repo test/img --to s3://bucket/x --s3-endpoint "$S3")
check_all "S3: missing credentials exit 2" '[ "$rc" = 2 ] && grep -q AWS_ACCESS_KEY_ID "$WORK/err.txt"'

# --- 4. failures a user meets ------------------------------------------------
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
# start_fake NAME ARGS...: a fake registry over $WORK/layout; sets URL.
start_fake() {
	local name="$1"; shift
	python3 tests/lib/fake-registry.py "$WORK/$name.port" "$WORK/layout" --log "$WORK/$name.log" "$@" &
	PIDS+=($!)
	wait_port_file "$WORK/$name.port"
	URL="http://127.0.0.1:$(cat "$WORK/$name.port")"
}
nothing_stored() { [ -z "$(find "$1/containers/images" -type f 2>/dev/null)" ]; }
one_line_error() { [ "$(wc -l <"$WORK/err.txt")" -ge 1 ] && grep -q "$1" "$WORK/err.txt"; }

# A source that cannot be reached or is broken: exit 1, the reason named.
DEAD="http://127.0.0.1:$(free_port)"
rc=$(mirror --from "$DEAD" --repo test/img --to "$WORK/m-dead" --retries 0)
check_all "unreachable source: exit 1, names the source" '[ "$rc" = 1 ] && one_line_error "source $DEAD/*: "'
start_fake ping500 --fault ping-500
rc=$(mirror --from "$URL" --repo test/img --to "$WORK/m-ping" --retries 0)
check_all "/v2/ answering 500: exit 1 with the status" '[ "$rc" = 1 ] && one_line_error "/v2/: HTTP 500"'

start_fake tags404 --fault tags-404
rc=$(mirror --from "$URL" --repo test/img --to "$WORK/m-t404")
check_all "tags/list 404: exit 1, repository and status named" '[ "$rc" = 1 ] && one_line_error "test/img: listing tags: .*HTTP 404"'
check "tags/list 404: nothing copied" nothing_stored "$WORK/m-t404"
check "tags/list 404: the summary counts the failure it lists" summary_counts_failures
rc=$(mirror --from "$URL" --repo test/img --ref v1 --to "$WORK/m-t404ref")
check_all "tags/list 404 does not matter with --ref" '[ "$rc" = 0 ] && blobs_ok "$WORK/m-t404ref" "$WORK/expected-v1"'
start_fake tagsjson --fault tags-not-json
rc=$(mirror --from "$URL" --repo test/img --to "$WORK/m-tjson")
check_all "tags/list not JSON: exit 1, said so" '[ "$rc" = 1 ] && one_line_error "answer is not a JSON object"'
start_fake tagslist --fault tags-not-list
rc=$(mirror --from "$URL" --repo test/img --to "$WORK/m-tlist")
check_all "tags/list with a non-list: exit 1, said so" '[ "$rc" = 1 ] && one_line_error '\''"tags" is not a list'\'''

start_fake mjson --fault manifest-not-json
rc=$(mirror --from "$URL" --repo test/img --ref v1 --to "$WORK/m-mjson")
check_all "manifest not JSON: exit 1, image and parse error named" '[ "$rc" = 1 ] && one_line_error "test/img:v1: manifest: invalid JSON"'
check "manifest not JSON: the summary counts the failure it lists" summary_counts_failures
check_all "manifest not JSON: nothing copied or recorded" 'nothing_stored "$WORK/m-mjson" && [ -z "$(ls "$WORK/m-mjson/.archeio-mirror/manifests")" ]'
start_fake mtype --fault manifest-wrong-type
rc=$(mirror --from "$URL" --repo test/img --to "$WORK/m-mtype")
check_all "manifests labelled text/html are parsed by their mediaType" '[ "$rc" = 0 ] && blobs_ok "$WORK/m-mtype" "$WORK/expected"'
start_fake mlie --fault manifest-digest-lie
rc=$(mirror --from "$URL" --repo test/img --ref v1 --to "$WORK/m-mlie")
check_all "Docker-Content-Digest that lies: exit 1, both digests named" '[ "$rc" = 1 ] && one_line_error "Docker-Content-Digest sha256:0000.* but content is sha256:"'
check "Docker-Content-Digest that lies: nothing copied" nothing_stored "$WORK/m-mlie"
start_fake phantom --phantom-tag ghost
rc=$(mirror --from "$URL" --repo test/img --to "$WORK/m-ghost")
check_all "a listed tag without manifest: exit 1, tag and 404 named" '[ "$rc" = 1 ] && one_line_error "test/img:ghost: .*HTTP 404"'
check "a listed tag without manifest: the other images are copied" blobs_ok "$WORK/m-ghost" "$WORK/expected"
check "a listed tag without manifest: the other images are recorded" [ "$(ls "$WORK/m-ghost/.archeio-mirror/manifests" | wc -l)" = 5 ]
check "a listed tag without manifest: the summary counts the failure it lists" summary_counts_failures
start_fake oversize --fault blob-oversize
rc=$(mirror --from "$URL" --repo test/img --ref v1 --to "$WORK/m-big" --retries 0)
check_all "a blob longer than declared: exit 1, said so" '[ "$rc" = 1 ] && one_line_error "source sent more than the [0-9]* bytes the manifest declares"'
check_all "a blob longer than declared: nothing stored, no temp file" 'nothing_stored "$WORK/m-big" && no_temp_files "$WORK/m-big"'

for fault in "token-500:token request: HTTP 500" "token-empty:answered without a token" \
	"basic-auth:asks for a username and password: give them in --auth-file" \
	"token-no-realm:bearer challenge without a usable realm"; do
	start_fake "${fault%%:*}" --fault "${fault%%:*}"
	rc=$(mirror --from "$URL" --repo test/img --to "$WORK/m-${fault%%:*}" --retries 0)
	check_all "${fault%%:*}: exit 1 with \"${fault#*:}\"" '[ "$rc" = 1 ] && one_line_error "${fault#*:}"'
done

# --ref by digest, and what records save.
v1_manifest="$(grep -m1 '^manifest ' "$WORK/expected" | cut -d' ' -f2)"
# shellcheck disable=SC2034 # read inside check_all's eval
v2_index="$(grep -m1 '^index ' "$WORK/expected" | cut -d' ' -f2)"
v2_child="$(grep '^manifest ' "$WORK/expected" | sed -n 2p | cut -d' ' -f2)"
start_fake refs
REFS_URL="$URL"
D6="$WORK/m-digest"
rc=$(mirror --from "$URL" --repo test/img --ref "$v1_manifest" --to "$D6")
check_all "--ref DIGEST copies that image" '[ "$rc" = 0 ] && blobs_ok "$D6" "$WORK/expected-v1" && [ "$(ls "$D6/containers/images" | wc -l)" = "$(count_blobs "$WORK/expected-v1")" ]'
check "--ref DIGEST records it" [ -f "$D6/.archeio-mirror/manifests/$v1_manifest" ]
: >"$WORK/refs.log"
rc=$(mirror --from "$URL" --repo test/img --ref "$v1_manifest" --to "$D6" --dry-run)
check_all "--ref DIGEST recorded: skipped without fetching the manifest" '[ "$rc" = 0 ] &&
	grep -q "^skip test/img@$v1_manifest (recorded)" "$WORK/out.txt" && ! grep -q manifests "$WORK/refs.log"'
rc=$(mirror --from "$URL" --repo test/img --ref "sha256:$(printf '%064d' 0)" --to "$D6")
check_all "--ref with an unknown digest: exit 1, 404 named" '[ "$rc" = 1 ] && one_line_error "test/img:sha256:0000.*HTTP 404"'
rc=$(mirror --from "$URL" --repo test/img --ref "$v2_child" --to "$D6")
: >"$WORK/refs.log"
rc2=$(mirror --from "$URL" --repo test/img --ref v2 --to "$D6")
check_all "an index whose child is recorded: the child is not fetched again" '[ "$rc" = 0 ] && [ "$rc2" = 0 ] &&
	grep -q "manifests/v2" "$WORK/refs.log" && ! grep -q "manifests/$v2_child" "$WORK/refs.log"'
check_all "an index whose child is recorded: the index and its children are recorded" '\
	[ -f "$D6/.archeio-mirror/manifests/$v2_index" ] && [ "$(ls "$D6/.archeio-mirror/manifests" | wc -l)" = 4 ]'
rc=$(mirror --from "$URL" --repo test/img --to "$D6" --dry-run)
check_all "--dry-run names recorded images" '[ "$rc" = 0 ] && grep -q "^skip test/img:v1 $v1_manifest (recorded)" "$WORK/out.txt" &&
	[ "$(grep -c '\''^would copy '\'' "$WORK/out.txt")" = "$(tail -n +$(($(grep -n "^index $v2_index" "$WORK/expected" | cut -d: -f1) + 1)) "$WORK/expected" | count_blobs /dev/stdin)" ]'

# A record is trusted (docs/mirroring.md): a blob deleted behind its back is
# not noticed until the record is removed.
D7="$WORK/m-stale"
rc=$(mirror --from "$URL" --repo test/img --to "$D7")
gone="$(grep '^layer ' "$WORK/expected" | tail -1 | cut -d' ' -f2)"
rm "$D7/containers/images/$gone"
rc=$(mirror --from "$URL" --repo test/img --to "$D7")
check_all "stale record: the run trusts it and copies nothing" '[ "$rc" = 0 ] && grep -q "(0 copied, 0 present, 0 failed), .* 3 images already recorded" "$WORK/err.txt"'
rm -r "$D7/.archeio-mirror"
rc=$(mirror --from "$URL" --repo test/img --to "$D7")
check_all "stale record removed: only the deleted blob is copied again" '[ "$rc" = 0 ] &&
	grep -q "(1 copied, $(($(count_blobs "$WORK/expected") - 1)) present, 0 failed)" "$WORK/err.txt" && blobs_ok "$D7" "$WORK/expected"'

# --concurrency changes the speed, never the result.
rc=$(mirror --from "$URL" --repo test/img --to "$WORK/m-c1" --concurrency 1)
# shellcheck disable=SC2034 # read inside check_all's eval
rc2=$(mirror --from "$URL" --repo test/img --to "$WORK/m-c16" --concurrency 16)
tree_sum() { (cd "$1" && find . -type f ! -name '.tmp-*' -exec sha256sum {} + | sort); }
check_all "--concurrency 1 and 16 store the same files and records" '[ "$rc" = 0 ] && [ "$rc2" = 0 ] &&
	[ "$(tree_sum "$WORK/m-c1")" = "$(tree_sum "$WORK/m-c16")" ] && blobs_ok "$WORK/m-c1" "$WORK/expected"'

# --repos-file and --help.
printf '# mirrored repositories\n\n   test/img   # the app\n\t\r\n# test/other\n' >"$WORK/repos-ok.txt"
rc=$(mirror --from "$URL" --repos-file "$WORK/repos-ok.txt" --to "$WORK/m-rf" --dry-run)
check_all "--repos-file: comments, blanks and spaces ignored" '[ "$rc" = 0 ] && [ "$(grep -c '\''^would copy test/img@'\'' "$WORK/out.txt")" = "$(count_blobs "$WORK/expected")" ] &&
	! grep -q '\''test/other'\'' "$WORK/out.txt"'
printf 'test/img\n\nTest/Upper\n' >"$WORK/repos-bad.txt"
rc=$(mirror --from "$URL" --repos-file "$WORK/repos-bad.txt" --to "$WORK/m-rf")
check_all "--repos-file: a bad name exits 2 with file:line" '[ "$rc" = 2 ] && one_line_error "repos-bad.txt:3: \"Test/Upper\" is not a valid repository name"'
rc=$(mirror --from "$URL" --repos-file "$WORK/no-such-file" --to "$WORK/m-rf")
check_all "--repos-file: a missing file exits 2" '[ "$rc" = 2 ] && one_line_error "cannot open .*no-such-file: No such file"'
rc=$(mirror --from "$URL" --repos-file "$WORK" --to "$WORK/m-rf")
check_all "--repos-file: a directory exits 2" '[ "$rc" = 2 ] && one_line_error "cannot read $WORK"'
printf 'test/img\0\n' >"$WORK/repos-nul.txt"
rc=$(mirror --from "$URL" --repos-file "$WORK/repos-nul.txt" --to "$WORK/m-rf")
check_all "--repos-file: a binary file exits 2" '[ "$rc" = 2 ] && one_line_error "is not a text file"'
rc=$(mirror --help)
check_all "--help prints the usage on stdout, exit 0" '[ "$rc" = 0 ] && grep -q '\''^usage: archeio-mirror'\'' "$WORK/out.txt"'

# Destinations that cannot be used.
echo file >"$WORK/a-file"
rc=$(mirror --from "$URL" --repo test/img --to "$WORK/a-file/mirror")
check_all "--to below a regular file: exit 2, path named" '[ "$rc" = 2 ] && one_line_error "cannot create $WORK/a-file/mirror.*Not a directory"'
rc=$(mirror --from "$URL" --repo test/img --to "$WORK/m-st" --state-dir "$WORK/a-file/state")
check_all "--state-dir below a regular file: exit 2" '[ "$rc" = 2 ] && one_line_error "state: cannot create $WORK/a-file/state"'
D8="$WORK/m-squat"
mkdir -p "$D8/containers/images/$gone/x"
rc=$(mirror --from "$URL" --repo test/img --to "$D8")
check_all "a directory in a blob's place: exit 65 (64 + the first destination), rename failure named" '[ "$rc" = 65 ] && one_line_error "$gone: to $D8: cannot rename .* Is a directory"'
check_all "a directory in a blob's place: no temp file, other blobs stored" 'no_temp_files "$D8" &&
	[ "$(find "$D8/containers/images" -maxdepth 1 -type f | wc -l)" = $(($(count_blobs "$WORK/expected") - 1)) ]'
D9="$WORK/m-loop"
mkdir -p "$D9/containers/images" && ln -s "$gone" "$D9/containers/images/$gone"
rc=$(mirror --from "$URL" --repo test/img --to "$D9")
check_all "a symlink loop in a blob's place: exit 65 (64 + the first destination), stat failure named" '[ "$rc" = 65 ] && one_line_error "checking destination: cannot stat .*$gone"'
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then # needs root to switch to nobody
	mkdir -p "$WORK/ro/containers/images"
	chmod 0711 "$WORK"
	rc=0
	GCOV_PREFIX="$WORK/ro-gcov" timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BIN" --from "$URL" --repo test/img --to "$WORK/ro" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
	check_all "a destination the user cannot write: exit 2, said so" '[ "$rc" = 2 ] && one_line_error "Permission denied"'
	rc=0
	GCOV_PREFIX="$WORK/ro-gcov" timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BIN" --from "$URL" --repo test/img --to "$WORK/ro" --dry-run >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
	check_all "a read-only destination still allows --dry-run" '[ "$rc" = 0 ] && grep -q '\''^would copy '\'' "$WORK/out.txt"'
	chmod 0700 "$WORK"
fi

# S3 that fails: 500s are retried, 403 is not.
mkdir -p "$WORK/s3b"
python3 tests/lib/fake-s3.py "$WORK/s3b.port" "$WORK/s3b" AKIDTEST secretTEST eu-test-1 \
	--log "$WORK/s3b.log" --fail-puts 2 --deny /bucket/locked &
PIDS+=($!)
wait_port_file "$WORK/s3b.port"
S3B="http://127.0.0.1:$(cat "$WORK/s3b.port")"
s3() { AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secretTEST mirror --from "$REFS_URL" --repo test/img --s3-endpoint "$S3B" --s3-region eu-test-1 "$@"; }
rc=$(s3 --to s3://bucket/retry --state-dir "$WORK/s3-state")
check_all "S3 500 then success: exit 0 after retrying" '[ "$rc" = 0 ] && [ "$(grep -c '\''^FAIL500 '\'' "$WORK/s3b.log")" = 2 ] &&
	blobs_ok "$WORK/s3b/bucket/retry" "$WORK/expected"'
check_all "S3 with --state-dir: images recorded, staging left empty" '[ "$(ls "$WORK/s3-state/manifests" | wc -l)" = 5 ] &&
	[ -z "$(ls -A "$WORK/s3-state/staging")" ]'
rc=$(s3 --to s3://bucket/retry --state-dir "$WORK/s3-state" --dry-run)
check_all "S3 with --state-dir: the next run skips recorded images" '[ "$rc" = 0 ] && [ "$(grep -c '\''^skip '\'' "$WORK/out.txt")" = 3 ]'
rc=$(s3 --to s3://bucket/dry --dry-run)
check_all "S3 --dry-run: names the object URLs, writes nothing" '[ "$rc" = 0 ] &&
	grep -q "^would copy test/img@sha256:.* to $S3B/bucket/dry/containers/images/sha256%3A" "$WORK/out.txt" && [ ! -e "$WORK/s3b/bucket/dry" ]'
python3 tests/lib/fake-s3.py "$WORK/s3c.port" "$WORK/s3b" AKIDTEST secretTEST eu-test-1 --fail-puts 1000 &
PIDS+=($!)
wait_port_file "$WORK/s3c.port"
rc=$(AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secretTEST mirror --from "$URL" --repo test/img --ref v1 \
	--s3-endpoint "http://127.0.0.1:$(cat "$WORK/s3c.port")" --s3-region eu-test-1 --to s3://bucket/down --retries 1)
check_all "S3 that keeps answering 500: exit 65 (64 + the first destination), PUT and status named" '[ "$rc" = 65 ] && one_line_error "PUT http://.*/bucket/down/.*: HTTP 500" &&
	[ ! -e "$WORK/s3b/bucket/down" ]'
rc=$(s3 --to s3://bucket/locked --retries 0)
check_all "S3 403 AccessDenied: exit 65 (64 + the first destination), HEAD and status named" '[ "$rc" = 65 ] && one_line_error "checking destination: HEAD .*: HTTP 403" &&
	[ ! -e "$WORK/s3b/bucket/locked" ]'

# A registry that expires tokens, forgets manifests or blobs, or lies about sizes.
start_fake expiring --fault token-expires
rc=$(mirror --from "$URL" --repo test/img --to "$WORK/m-expire" --concurrency 2)
check_all "expiring tokens: new ones are fetched and the copy completes" \
	'[ "$rc" = 0 ] && blobs_ok "$WORK/m-expire" "$WORK/expected" && [ "$(grep -c "^GET /token" "$WORK/expiring.log")" -gt 3 ]'
start_fake gone --missing "$v2_child" --missing "$(grep '^layer ' "$WORK/expected-v1" | head -1 | cut -d' ' -f2)"
rc=$(mirror --from "$URL" --repo test/img --to "$WORK/m-gone" --retries 0)
check_all "an index child that 404s: exit 1, index and child named" \
	'[ "$rc" = 1 ] && one_line_error "test/img:v2: .*manifests/$v2_child: HTTP 404"'
check_all "a blob that 404s: its digest and status named" \
	'one_line_error "test/img@$(grep "^layer " "$WORK/expected-v1" | head -1 | cut -d" " -f2): .*HTTP 404"'
check "a missing index child and blob: the summary counts both failures it lists" summary_counts_failures
check_all "missing manifest and blob: only the intact image (v3) is recorded" \
	'[ "$(ls "$WORK/m-gone/.archeio-mirror/manifests")" = "$(grep "^manifest " "$WORK/expected" | tail -1 | cut -d" " -f2)" ]'
start_fake huge --fault manifest-huge
rc=$(mirror --from "$URL" --repo test/img --ref v1 --to "$WORK/m-huge" --retries 0)
check_all "a manifest over 4 MiB is refused" '[ "$rc" = 1 ] && one_line_error "response larger than 4194304 bytes" && nothing_stored "$WORK/m-huge"'
start_fake sizelie --fault manifest-size-lie
rc=$(mirror --from "$URL" --repo test/img --ref v1 --to "$WORK/m-size")
check_all "blobs shorter than the manifest says: exit 1, not stored" \
	'[ "$rc" = 1 ] && one_line_error "size mismatch: got [0-9]* bytes, manifest says" && nothing_stored "$WORK/m-size" && no_temp_files "$WORK/m-size"'
rc=$(mirror --from "$URL" --catalog --to "$WORK/m-nocat")
check_all "a registry without /v2/_catalog: --catalog exits 1, said so" '[ "$rc" = 1 ] && one_line_error "_catalog: .*/v2/_catalog: HTTP 404"'
check "a registry without /v2/_catalog: the summary counts the failure it lists" summary_counts_failures

# On a terminal the progress line is redrawn in place, then replaced by the summary.
if command -v script >/dev/null; then
	timeout 120 script -qec "$BIN --from $REFS_URL --repo test/img --to $WORK/m-tty --rps 20" /dev/null >"$WORK/tty.txt" 2>&1 || true
	tty_progress_ok() { # a line drawn with \r ... ESC[K, then the summary on the last line
		grep -q $'\r''blobs [0-9]*/[0-9]* .*'$'\033''\[K' "$WORK/tty.txt" &&
			tail -1 "$WORK/tty.txt" | grep -q "blobs $(count_blobs "$WORK/expected")/.*($(count_blobs "$WORK/expected") copied, 0 present, 0 failed)"
	}
	check "on a terminal: progress redrawn in place, summary last" tty_progress_ok
fi

# S3 staging that cannot be made.
rc=$(s3 --to s3://bucket/st --state-dir "$WORK/a-file/state")
check_all "S3 staging below a regular file: exit 2, path named" '[ "$rc" = 2 ] && one_line_error "cannot create $WORK/a-file/state"'
# S3 uploads stream from memory (one part at a time), so no local staging
# directory is needed and TMPDIR does not matter.
rc=$(TMPDIR="$WORK/no-such-dir" s3 --to s3://bucket/st --ref v1)
check_all "S3 with an unusable TMPDIR: no staging needed, exit 0" '[ "$rc" = 0 ] && blobs_ok "$WORK/s3b/bucket/st" "$WORK/expected-v1"'

# Records that cannot be written (a state dir left behind by another user):
# the blobs are copied, the failure is named, the next run can still resume.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then # needs root to switch to nobody
	D10="$WORK/m-norecord"
	mkdir -p "$D10/.archeio-mirror/manifests"
	chown -R 65534:65534 "$D10" && chown 0:0 "$D10/.archeio-mirror/manifests"
	chmod 0711 "$WORK"
	rc=0
	GCOV_PREFIX="$WORK/ro-gcov" timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$BIN" --from "$REFS_URL" --repo test/img --ref v1 --to "$D10" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
	chmod 0700 "$WORK"
	check_all "state records not writable: exit 1, the record named, blobs still stored" \
		'[ "$rc" = 1 ] && one_line_error "test/img:v1: cannot create $D10/.archeio-mirror/manifests/.*Permission denied" && blobs_ok "$D10" "$WORK/expected-v1"'
	check "state records not writable: the summary counts the failures it lists" summary_counts_failures
fi

# AWS_SESSION_TOKEN: signed when set, ignored when empty.
rc=$(AWS_SESSION_TOKEN=session-XYZ s3 --to s3://bucket/session --ref v1)
check_all "S3 with a session token: sent signed, accepted" '[ "$rc" = 0 ] && blobs_ok "$WORK/s3b/bucket/session" "$WORK/expected-v1" &&
	grep -q "^SESSION session-XYZ signed=True" "$WORK/s3b.log" && ! grep -q "signed=False" "$WORK/s3b.log"'
: >"$WORK/s3b.log"
rc=$(AWS_SESSION_TOKEN='' s3 --to s3://bucket/nosession --ref v1)
check_all "S3 with an empty AWS_SESSION_TOKEN: treated as unset" '[ "$rc" = 0 ] && blobs_ok "$WORK/s3b/bucket/nosession" "$WORK/expected-v1" && ! grep -q "REJECT\|SESSION" "$WORK/s3b.log"'

echo "test_mirror_tool: $failures failed checks"
[ "$failures" -eq 0 ]
