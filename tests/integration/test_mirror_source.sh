#!/usr/bin/env bash
# archeio-mirror's source side and self-repair, on loopback only:
#  1. throughput: 200 tags behind a registry that answers each manifest 0.3 s
#     late are walked concurrently (well under 200 x 0.3 s);
#  2. --verify restores a deleted and a truncated blob of recorded images and
#     says so; --verify=digest catches a same-size corruption; without
#     --verify recorded images are skipped as before; with several --to, each
#     destination is checked and repaired from one source read;
#  3. a private source: Debian's docker-registry with an htpasswd file, pulled
#     with --auth-file (and REGISTRY_AUTH_FILE); the password appears nowhere
#     in the tool's output or state; wrong credentials are a clear error
#     naming the registry.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/make-certs.sh"
BIN="$ROOT/$BUILD/archeio-mirror"
[ -x "$BIN" ] || { echo "[$TEST_NAME] FAIL: $BIN not built"; exit 1; }
require_cmd python3 sha256sum docker-registry skopeo htpasswd openssl curl
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

# --- 2. --verify: self-repair -----------------------------------------------
blobs_intact() { # blobs_intact DIR: every config and layer of $TMP/expected, with its digest
	local d
	for d in $(blob_list "$TMP/expected"); do
		[ "sha256:$(sha256sum <"$1/containers/images/$d" 2>/dev/null | cut -d' ' -f1)" = "$d" ] || return 1
	done
}
start_fake plain "$TMP/layout"
DEST="$TMP/dir"
rc=$(mirror --from "$FAKE" --repo test/img --to "$DEST")
check_eq "verify: first copy" "$rc" 0
gone=$(blob_list "$TMP/expected" | sed -n 1p)
short=$(blob_list "$TMP/expected" | sed -n 2p)
flipped=$(blob_list "$TMP/expected" | sed -n 3p)
rm "$DEST/containers/images/$gone"
truncate -s 10 "$DEST/containers/images/$short"
rc=$(mirror --from "$FAKE" --repo test/img --to "$DEST")
check_eq "without --verify: exit status" "$rc" 0
check_match "without --verify: recorded images skipped as before" "$(cat "$TMP/err.txt")" "0 copied, 0 present, 0 failed.* 2 images already recorded"
check_eq "without --verify: the deleted blob stays missing" "$(test -e "$DEST/containers/images/$gone" && echo present)" ""
rc=$(mirror --from "$FAKE" --repo test/img --to "$DEST" --verify --dry-run)
check_eq "verify --dry-run: exit status" "$rc" 0
check_match "verify --dry-run: names what it would repair" "$(cat "$TMP/err.txt")" "would repair test/img@$gone \(missing\)"
check_eq "verify --dry-run: repairs nothing" "$(test -e "$DEST/containers/images/$gone" && echo present)" ""
rc=$(mirror --from "$FAKE" --repo test/img --to "$DEST" --verify)
check_eq "verify: exit status" "$rc" 0
check_match "verify: reports the missing blob" "$(cat "$TMP/err.txt")" "repaired test/img@$gone \(missing\) at $DEST/containers/images/$gone"
check_match "verify: reports the truncated blob" "$(cat "$TMP/err.txt")" "repaired test/img@$short \(wrong size\)"
check_match "verify: summary counts the repairs" "$(cat "$TMP/err.txt")" "2 copied, [0-9]+ present, 0 failed, 2 repaired"
if blobs_intact "$DEST"; then pass; else fail "verify: blobs not restored"; fi
# A same-size corruption: only --verify=digest sees it.
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[0]^=0xff; open(p,"wb").write(b)' \
	"$DEST/containers/images/$flipped"
rc=$(mirror --from "$FAKE" --repo test/img --to "$DEST" --verify)
check_match "verify (size): a same-size corruption passes" "$(cat "$TMP/err.txt")" "\(0 copied, "
rc=$(mirror --from "$FAKE" --repo test/img --to "$DEST" --verify=digest)
check_eq "verify=digest: exit status" "$rc" 0
check_match "verify=digest: reports the corrupt blob" "$(cat "$TMP/err.txt")" "repaired test/img@$flipped \(corrupt\)"
if blobs_intact "$DEST"; then pass; else fail "verify=digest: blob not restored"; fi

# The same against S3 (the mock, which keeps the checksum a PUT carried).
python3 tests/lib/fake-s3.py "$TMP/s3.port" "$TMP/s3data" AKIDTEST secretTEST eu-test-1 --log "$TMP/s3.log" &
on_exit "kill $!"
wait_port_file "$TMP/s3.port" || exit 1
S3="http://127.0.0.1:$(cat "$TMP/s3.port")"
export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=secretTEST
s3m() { mirror --from "$FAKE" --repo test/img --to s3://bkt/m --s3-endpoint "$S3" --s3-region eu-test-1 --state-dir "$TMP/s3state" "$@"; }
rc=$(s3m)
check_eq "verify S3: first copy" "$rc" 0
OBJ="$TMP/s3data/bkt/m/containers/images"
rm "$OBJ/$gone"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[-1]^=0xff; open(p,"wb").write(b)' "$OBJ/$flipped"
rc=$(s3m --verify=digest)
check_eq "verify=digest S3: exit status" "$rc" 0
check_match "verify=digest S3: missing object restored" "$(cat "$TMP/err.txt")" "repaired test/img@$gone \(missing\)"
check_match "verify=digest S3: object without its checksum rewritten" "$(cat "$TMP/err.txt")" "repaired test/img@$flipped \(corrupt\)"
check_eq "verify=digest S3: HEADs asked for the checksum" "$(grep -c REJECT "$TMP/s3.log")" 0
if blobs_intact "$TMP/s3data/bkt/m"; then pass; else fail "verify S3: objects not restored"; fi
rc=$(s3m --verify=digest)
check_match "verify=digest S3: a second pass finds all intact" "$(cat "$TMP/err.txt")" "\(0 copied, "

# Fan-out: one --verify run checks every destination (a directory and the mock
# S3, damaged differently) and repairs each blob, read once from the source,
# in just the destinations that need it (S3 locations are URLs: ':' is %3A).
python3 tests/lib/fake-registry.py "$TMP/fan.port" "$TMP/layout" --log "$TMP/fan-reg.log" &
on_exit "kill $!"
wait_port_file "$TMP/fan.port" || exit 1
FAN_SRC="http://127.0.0.1:$(cat "$TMP/fan.port")"
FAN="$TMP/fan"
FAN_OBJ="$TMP/s3data/bkt/fan/containers/images"
fm() { mirror --from "$FAN_SRC" --repo test/img --to "$FAN" --to s3://bkt/fan --s3-endpoint "$S3" \
	--s3-region eu-test-1 --state-dir "$TMP/fanstate" "$@"; }
rc=$(fm)
check_eq "verify fan-out: first copy" "$rc" 0
rm "$FAN/containers/images/$gone"
truncate -s 10 "$FAN_OBJ/$short"
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[0]^=0xff; open(p,"wb").write(b)' "$FAN_OBJ/$flipped"
: >"$TMP/fan-reg.log"
rc=$(fm --verify=digest)
check_eq "verify fan-out: exit status" "$rc" 0
check_match "verify fan-out: the directory's missing blob" "$(cat "$TMP/err.txt")" \
	"repaired test/img@$gone \(missing\) at $FAN/containers/images/$gone"
check_match "verify fan-out: the bucket's truncated object" "$(cat "$TMP/err.txt")" \
	"repaired test/img@$short \(wrong size\) at $S3/bkt/fan/containers/images/sha256%3A${short#sha256:}"
check_match "verify fan-out: the bucket's corrupt object" "$(cat "$TMP/err.txt")" \
	"repaired test/img@$flipped \(corrupt\) at $S3/bkt/fan/containers/images/sha256%3A${flipped#sha256:}"
check_eq "verify fan-out: intact copies left alone (three repairs, no more)" \
	"$(grep -c '^repaired ' "$TMP/err.txt")" 3
check_match "verify fan-out: summary" "$(cat "$TMP/err.txt")" "3 copied, [0-9]+ present, 0 failed, 3 repaired"
check_match "verify fan-out: the directory's line" "$(cat "$TMP/err.txt")" "to $FAN: 1 copied, [0-9]+ present, 0 failed"
check_match "verify fan-out: the bucket's line" "$(cat "$TMP/err.txt")" "to s3://bkt/fan: 2 copied, [0-9]+ present, 0 failed"
for d in "$gone" "$short" "$flipped"; do
	check_eq "verify fan-out: $d read once from the source" "$(grep -c "GET /v2/test/img/blobs/$d" "$TMP/fan-reg.log")" 1
done
if blobs_intact "$FAN" && blobs_intact "$TMP/s3data/bkt/fan"; then pass; else fail "verify fan-out: not restored everywhere"; fi
rc=$(fm --verify=digest)
check_match "verify fan-out: a second pass finds all intact" "$(cat "$TMP/err.txt")" "\(0 copied, "
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

# --- 3. a private source: docker-registry with htpasswd, over TLS ---------------
PASSWORD='pw-Xq9-not-in-any-output'
htpasswd -Bbc "$TMP/htpasswd" alice "$PASSWORD" 2>/dev/null
make_ca "$TMP/pki" && make_cert "$TMP/pki" registry "IP:127.0.0.1" || exit 1
PRIV_PORT=$(free_port)
cat >"$TMP/private.yml" <<YML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $TMP/private-data}
http:
  addr: 127.0.0.1:$PRIV_PORT
  tls: {certificate: $TMP/pki/registry.crt, key: $TMP/pki/registry.key}
auth:
  htpasswd: {realm: private, path: $TMP/htpasswd}
YML
docker-registry serve "$TMP/private.yml" >"$TMP/private.log" 2>&1 &
on_exit "kill $!"
wait_for_port 127.0.0.1 "$PRIV_PORT" 20 || exit 1
printf '{"default":[{"type":"insecureAcceptAnything"}]}' >"$TMP/policy.json"
for tag in v1 v2; do
	timeout 120 skopeo --policy "$TMP/policy.json" copy --all --quiet \
		--dest-creds "alice:$PASSWORD" --dest-tls-verify=false \
		"oci:$TMP/layout:$tag" "docker://127.0.0.1:$PRIV_PORT/private/img:$tag" || fail "pushing $tag"
done
PRIV="https://127.0.0.1:$PRIV_PORT"
auth_b64=$(printf 'alice:%s' "$PASSWORD" | base64 -w0)
printf '{"auths":{"https://127.0.0.1:%s":{"auth":"%s"}}}\n' "$PRIV_PORT" "$auth_b64" >"$TMP/auth.json"
wrong_b64=$(printf 'alice:%s' "wrong-$PASSWORD" | base64 -w0)
printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}\n' "$PRIV_PORT" "$wrong_b64" >"$TMP/wrong.json"
all_output() { cat "$TMP/out.txt" "$TMP/err.txt"; find "$1" -type f -path '*.archeio-mirror*' -exec cat {} + 2>/dev/null; }

rc=$(mirror --from "$PRIV" --repo private/img --to "$TMP/priv" --retries 0)
check_eq "private, no CA: exit status" "$rc" 1
check_match "private, no CA: a TLS error" "$(cat "$TMP/err.txt")" "certificate|SSL"
rc=$(mirror --from "$PRIV" --repo private/img --to "$TMP/priv" --ca-file "$TMP/pki/ca.crt" --retries 0)
check_eq "private, anonymous: exit status" "$rc" 1
check_match "private, anonymous: asks for credentials, naming the registry" "$(cat "$TMP/err.txt")" \
	"registry 127.0.0.1:$PRIV_PORT asks for a username and password: give them in --auth-file"
before=$(wc -l <"$TMP/private.log")
rc=$(mirror --from "$PRIV" --repo private/img --to "$TMP/priv" --ca-file "$TMP/pki/ca.crt" \
	--auth-file "$TMP/auth.json" --concurrency 3)
check_eq "private, --auth-file: exit status" "$rc" 0
# Basic credentials learnt at /v2/ serve every repository: one 401 in the run.
check_eq "private, --auth-file: refused once, at /v2/" \
	"$(tail -n +$((before + 1)) "$TMP/private.log" | grep -c '" 401 ')" 1
if blobs_intact "$TMP/priv"; then pass; else fail "private, --auth-file: blobs missing or corrupt"; fi
check_eq "private, --auth-file: the password is in no output or state" \
	"$(all_output "$TMP/priv" | grep -c -e "$PASSWORD" -e "$auth_b64")" 0
rm -rf "$TMP/priv2"
rc=$(REGISTRY_AUTH_FILE="$TMP/auth.json" mirror --from "$PRIV" --repo private/img --to "$TMP/priv2" \
	--ca-file "$TMP/pki/ca.crt" --verify)
check_eq "private, REGISTRY_AUTH_FILE: exit status" "$rc" 0
if blobs_intact "$TMP/priv2"; then pass; else fail "private, REGISTRY_AUTH_FILE: blobs missing"; fi
rc=$(mirror --from "$PRIV" --repo private/img --to "$TMP/priv3" --ca-file "$TMP/pki/ca.crt" \
	--auth-file "$TMP/wrong.json" --retries 0)
check_eq "private, wrong password: exit status" "$rc" 1
check_match "private, wrong password: a clear error naming the registry" "$(cat "$TMP/err.txt")" \
	"registry 127.0.0.1:$PRIV_PORT refused the credentials from the auth file"
check_eq "private, wrong password: it is in no output" \
	"$(all_output "$TMP/priv3" | grep -c -e "$PASSWORD" -e "$wrong_b64")" 0
# A token service that wants credentials (Basic to /token, or docker's
# identitytoken as an OAuth2 refresh token).
start_fake tokens "$TMP/layout" --token-creds "bob:$PASSWORD" --refresh-token "refresh-$PASSWORD"
host=${FAKE#http://}
printf '{"auths":{"%s":{"username":"bob","password":"%s"}}}\n' "$host" "$PASSWORD" >"$TMP/bob.json"
printf '{"auths":{"http://%s":{"auth":"","identitytoken":"refresh-%s"}}}\n' "$host" "$PASSWORD" >"$TMP/idt.json"
rc=$(mirror --from "$FAKE" --repo test/img --to "$TMP/tok0" --retries 0)
check_eq "token service, anonymous: exit status" "$rc" 1
check_match "token service, anonymous: refused, naming the registry" "$(cat "$TMP/err.txt")" \
	"registry $host: token endpoint $FAKE/token refused the anonymous request \(HTTP 401\)"
rc=$(mirror --from "$FAKE" --repo test/img --to "$TMP/tok1" --auth-file "$TMP/bob.json")
check_eq "token service, username/password: exit status" "$rc" 0
if blobs_intact "$TMP/tok1"; then pass; else fail "token service, username/password: blobs missing"; fi
check_eq "token service, username/password: not in any output" "$(all_output "$TMP/tok1" | grep -c -e "$PASSWORD")" 0
rc=$(mirror --from "$FAKE" --repo test/img --to "$TMP/tok2" --auth-file "$TMP/idt.json")
check_eq "token service, identitytoken: exit status" "$rc" 0
if blobs_intact "$TMP/tok2"; then pass; else fail "token service, identitytoken: blobs missing"; fi
check_eq "token service, identitytoken: not in any output" "$(all_output "$TMP/tok2" | grep -c -e "$PASSWORD")" 0

echo '{"auths": [' >"$TMP/broken.json"
rc=$(mirror --from "$PRIV" --repo private/img --to "$TMP/priv4" --auth-file "$TMP/broken.json")
check_eq "broken auth file: usage error" "$rc" 2
check_match "broken auth file: named" "$(cat "$TMP/err.txt")" "auth file $TMP/broken.json: not an auth file"

finish
