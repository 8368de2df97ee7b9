#!/usr/bin/env bash
# archeio-mirror's source side and self-repair, on loopback only:
#  1. throughput: 200 tags behind a registry that answers each manifest 0.3 s
#     late are walked concurrently (well under 200 x 0.3 s);
#  2. --verify restores a deleted and a truncated blob of recorded images and
#     says so; --verify=digest catches a same-size corruption; without
#     --verify recorded images are skipped as before;
#  3. a private source: Debian's docker-registry with an htpasswd file, pulled
#     with --auth-file (and REGISTRY_AUTH_FILE); the password appears nowhere
#     in the tool's output or state; wrong credentials are a clear error
#     naming the registry.
source "$(dirname "$0")/../lib/common.sh"
BIN="$ROOT/$BUILD/archeio-mirror"
[ -x "$BIN" ] || { echo "[$TEST_NAME] FAIL: $BIN not built"; exit 1; }
require_cmd python3 sha256sum docker-registry htpasswd curl
cd "$ROOT"

# mirror ARGS...: runs the tool (bounded); stdout -> $TMP/out.txt,
# stderr -> $TMP/err.txt; prints the exit status.
mirror() {
	local rc=0
	timeout 120 "$BIN" "$@" >"$TMP/out.txt" 2>"$TMP/err.txt" || rc=$?
	echo "$rc"
}
wait_port_file() {
	local i
	for ((i = 0; i < 100; i++)); do [ -s "$1" ] && return 0; sleep 0.1; done
	echo "[$TEST_NAME] server did not start ($1)"; return 1
}
# start_fake NAME ARGS...: tests/lib/fake-registry.py on loopback; sets FAKE.
start_fake() {
	local name=$1; shift
	python3 tests/lib/fake-registry.py "$TMP/$name.port" "$@" &
	on_exit "kill $!"
	wait_port_file "$TMP/$name.port" || exit 1
	FAKE="http://127.0.0.1:$(cat "$TMP/$name.port")"
}
blob_list() { grep -E '^(config|layer) ' "$1" | cut -d' ' -f2; }

python3 tests/lib/make-oci-layout.py "$TMP/layout" v1:single v2:multi >"$TMP/expected"

# --- 1. manifests walked concurrently ---------------------------------------
start_fake slow "$TMP/layout" --manifest-delay 0.3 --alias-tags 200
start_ms=$(($(date +%s%N) / 1000000))
rc=$(mirror --from "$FAKE" --repo test/img --to "$TMP/many" --concurrency 16)
ms=$(($(date +%s%N) / 1000000 - start_ms))
check_eq "200 tags: exit status" "$rc" 0
check_match "200 tags: nothing failed" "$(cat "$TMP/err.txt")" "copied, 0 present, 0 failed\)"
# One manifest at a time takes over 200 x 0.3 s = 60 s; 16 at a time about 4 s.
if [ "$ms" -lt 20000 ]; then pass; else fail "200 tags took ${ms} ms: manifests walked one at a time?"; fi
check_eq "200 tags: every manifest recorded" "$(ls "$TMP/many/.archeio-mirror/manifests" | wc -l)" \
	"$(grep -cE '^(manifest|index) ' "$TMP/expected")"

finish
