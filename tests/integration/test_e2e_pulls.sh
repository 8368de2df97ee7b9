#!/usr/bin/env bash
# Real pulls end to end (issue 4): real clients (skopeo, containerd's ctr) in
# network namespaces with AWS us-east-1, AWS eu-west-1, GCP, Azure and
# unlisted source addresses pull through archeio (XDP attached in native mode)
# from a real upstream (Debian's docker-registry, filled by skopeo) and real
# mirrors (nginx, filled by archeio-mirror, one of them missing some blobs).
# Checked: every digest each client received, and, from the mirrors' and the
# registry's access logs filtered on the client's own address and user agent,
# where every blob came from. Then a mirror that is down and one that is slow:
# pulls still succeed, from upstream, in bounded time. Layout: docs/e2e.md.
#
# Everything is HTTPS with verification against a CA the test makes: upstream,
# mirrors and archeio itself; clients trust the CA as an operator configures
# them (skopeo --src-cert-dir, ctr --tlscacert), archeio's mirror checks with
# --ca-file. E2E_ARCHEIO_TLS=0 (for an archeio without --tls-cert) keeps only
# archeio plain HTTP on :8080: skopeo then needs --src-tls-verify=false, which
# turns verification off for its whole transport (the redirects too), and ctr
# --plain-http, after which ctr still verifies the (HTTPS) redirect targets.
source "$(dirname "$0")/../lib/common.sh"
require_root
require_cmd curl nginx openssl python3 bpftool nsenter ip skopeo docker-registry containerd ctr sha256sum timeout
source "$ROOT/tests/lib/netns.sh"
source "$ROOT/tests/lib/make-certs.sh"
ARCHEIO_TLS=${E2E_ARCHEIO_TLS:-1}
case $ARCHEIO_TLS in
0 | 1) ;;
*) echo "[$TEST_NAME] FAIL: E2E_ARCHEIO_TLS must be 0 or 1, not '$ARCHEIO_TLS'"; exit 1 ;;
esac
MIRROR_TOOL="$ROOT/$BUILD/archeio-mirror"
[ -x "$ARCHEIO" ] && [ -x "$MIRROR_TOOL" ] || { echo "[$TEST_NAME] FAIL: build $ARCHEIO and $MIRROR_TOOL first (make)"; exit 1; }
mount | grep -q ' /sys/fs/bpf type bpf' || { echo "[$TEST_NAME] FAIL: bpffs not mounted at /sys/fs/bpf"; exit 1; }
START_S=$(date +%s)

eval "$(python3 "$ROOT/tests/lib/pick_addresses.py" "$SHARED_DATA")"
BPFFS="/sys/fs/bpf/archeio-e2e-$$"
on_exit "rm -rf $BPFFS"

# --- topology ----------------------------------------------------------------
UP_IP=198.18.1.20 USE1_IP=198.18.1.11 EUW1_IP=198.18.1.12 CDN_IP=198.18.1.13 SLOW_IP=198.18.1.14
declare -A MIRROR_IP=([use1]=$USE1_IP [euw1]=$EUW1_IP [cdn]=$CDN_IP [slow]=$SLOW_IP)
# Where clients pull from (archeio's --listen), and every listener archeio has.
if [ "$ARCHEIO_TLS" = 1 ]; then
	SERVER="$SERVER_IP:8443"
	ARCHEIO_URLS=("https://$SERVER_IP:8443" "http://$SERVER_IP:8080")
else
	SERVER="$SERVER_IP:8080"
	ARCHEIO_URLS=("http://$SERVER_IP:8080")
fi
log "archeio over $([ "$ARCHEIO_TLS" = 1 ] && echo HTTPS || echo "plain HTTP (E2E_ARCHEIO_TLS=0)"): clients pull from $SERVER"
netns_setup_core
netns_add_host up "$UP_IP"
netns_add_host m-use1 "$USE1_IP"
netns_add_host m-euw1 "$EUW1_IP"
netns_add_host m-cdn "$CDN_IP"
netns_add_host m-slow "$SLOW_IP"
# Clients: name -> address, and which log each blob must come from.
CLIENTS=(use1 euw1 gcp azure unlisted)
declare -A CLIENT_IP=([use1]=$AWS_USE1 [euw1]=$AWS_EUW1 [gcp]=$GCP [azure]=$AZURE [unlisted]=$UNLISTED)
declare -A CLIENT_REGION=([use1]=$AWS_USE1_REGION [euw1]=$AWS_EUW1_REGION [gcp]=$GCP_REGION [azure]=$AZURE_REGION [unlisted]=-)
for c in "${CLIENTS[@]}"; do netns_add_host "c-$c" "${CLIENT_IP[$c]}"; done

# --- certificates: one test CA, trusted only where the test says so ----------
PKI="$TMP/pki"
CA="$PKI/ca.crt"
make_ca "$PKI" || exit 1
make_cert "$PKI" registry "DNS:registry.e2e.test,IP:$SERVER_IP" || exit 1
make_cert "$PKI" upstream "IP:$UP_IP" || exit 1
for m in use1 euw1 cdn slow; do make_cert "$PKI" "m-$m" "IP:${MIRROR_IP[$m]}" || exit 1; done
# The clients' trust, as an operator configures it: skopeo reads a certs.d-style
# directory (ca.crt in it; --src-cert-dir), ctr a CA file (--tlscacert). Both
# use it for their whole HTTP client, so for the redirect targets too.
CLIENT_CERTS="$TMP/client-certs"
mkdir -p "$CLIENT_CERTS"
cp "$CA" "$CLIENT_CERTS/ca.crt"
# A client that trusts archeio's certificate alone (pinned: Go accepts a leaf
# in its root pool) and not the CA: it reaches archeio but must refuse every
# redirect target. Shows that the clients verify the hosts they are sent to.
PINNED_CERTS="$TMP/pinned-certs"
mkdir -p "$PINNED_CERTS"
cp "$PKI/registry.leaf.crt" "$PINNED_CERTS/ca.crt"
# ns_curl NS ARGS...: curl from a namespace, bounded.
ns_curl() { local ns=$1; shift; ns_exec "${NS_PREFIX}$ns" curl -sS --max-time 5 "$@"; }

# ns_wait_port NS HOST PORT SECONDS: bounded wait for a listener seen from NS.
ns_wait_port() {
	ns_exec "${NS_PREFIX}$1" bash -c "for i in \$(seq 1 $(($4 * 20))); do (exec 3<>/dev/tcp/$2/$3) 2>/dev/null && exit 0; sleep 0.05; done; exit 1" ||
		{ echo "[$TEST_NAME] $2:$3 did not open within $4 s (netns $1)"; return 1; }
}

# --- upstream: docker-registry, filled with generated images by skopeo -------
# Two registry processes on one storage directory: HTTPS on :5000, the only one
# clients are sent to (its access log is checked), and plain HTTP on :5001 for
# filling only (skopeo's push, archeio-mirror's copies: it has no CA option),
# stopped once the mirrors are filled.
python3 "$ROOT/tests/lib/make-oci-layout.py" "$TMP/layout" v1:single v2:multi >"$TMP/expected"
write_registry_config() { # FILE PORT [CERT_NAME]
	cat >"$1" <<YML
version: 0.1
log: {level: info, formatter: text, accesslog: {disabled: false}}
storage:
  filesystem: {rootdirectory: $TMP/registry-data}
http:
  addr: 0.0.0.0:$2
  secret: archeio-e2e-$$
YML
	if [ -n "${3:-}" ]; then printf '  tls: {certificate: %s, key: %s}\n' "$PKI/$3.crt" "$PKI/$3.key" >>"$1"; fi
}
# start_registry CONFIG LOG PORT: sets REG_PID. Appending, so the log can be
# read while the registry writes.
start_registry() {
	nsenter --net="/run/netns/${NS_PREFIX}up" docker-registry serve "$1" >>"$2" 2>&1 &
	REG_PID=$!
	on_exit "kill $REG_PID; wait $REG_PID"
	ns_wait_port up "$UP_IP" "$3" 20 || { cat "$2"; exit 1; }
}
UP_LOG="$TMP/upstream.access.log"
FILL_LOG="$TMP/upstream-fill.log"
write_registry_config "$TMP/registry.yml" 5000 upstream
write_registry_config "$TMP/registry-fill.yml" 5001
start_registry "$TMP/registry.yml" "$UP_LOG" 5000
start_registry "$TMP/registry-fill.yml" "$FILL_LOG" 5001
FILL_PID=$REG_PID
printf '{"default":[{"type":"insecureAcceptAnything"}]}' >"$TMP/policy.json"
# skopeo_in NS ARGS...: skopeo in NS and in a private mount namespace whose
# tmpfs hides the host's /var/lib/containers, so root's blob-info cache
# (/var/lib/containers/cache) neither leaks into nor survives this test.
skopeo_in() {
	local ns=$1 over=/var/lib/containers
	shift
	[ -d "$over" ] || over=/var/lib
	nsenter --net="/run/netns/$ns" unshare --mount --propagation private bash -c \
		'mount -t tmpfs e2e "$1" && shift && exec timeout 60 skopeo "$@"' _ "$over" --policy "$TMP/policy.json" "$@"
}
push() { # push TAG REPO (to the filling registry)
	skopeo_in "${NS_PREFIX}up" copy --all --quiet --dest-tls-verify=false \
		"oci:$TMP/layout:$1" "docker://127.0.0.1:5001/$2:$1"
}
push v1 e2e/single || { echo "[$TEST_NAME] FAIL: push e2e/single"; exit 1; }
push v2 e2e/multi || { echo "[$TEST_NAME] FAIL: push e2e/multi"; exit 1; }
# The HTTPS registry serves what was pushed, verified from a client namespace.
check_match "HTTPS upstream serves the pushed tags (verified)" \
	"$(ns_curl c-unlisted --cacert "$CA" "https://$UP_IP:5000/v2/e2e/single/tags/list" 2>&1)" '"tags":\["v1"\]'
check_match "HTTPS upstream is not trusted without the test CA" \
	"$(ns_curl c-unlisted -o /dev/null "https://$UP_IP:5000/v2/" 2>&1)" "certificate"

# What each pull must deliver. The generator prints, per image, its layers, its
# config, then its manifest; an index follows its children.
SINGLE_MANIFEST=$(awk '$1 == "manifest" {print $2; exit}' "$TMP/expected")
MULTI_INDEX=$(awk '$1 == "index" {print $2}' "$TMP/expected")
awk '{print $2} $1 == "manifest" {exit}' "$TMP/expected" | sort >"$TMP/want-single"
awk 'seen {print $2} $1 == "manifest" {seen = 1}' "$TMP/expected" | sort >"$TMP/want-multi"
awk '$1 == "config" || $1 == "layer" {print $2}' "$TMP/expected" | sort >"$TMP/all-blobs"
# The eu-west-1 mirror lacks the first layer of every image.
awk 'first && $1 == "layer" {print $2} {first = ($1 == "manifest")} NR == 1 {print $2}' "$TMP/expected" | sort >"$TMP/euw1-missing"

# --- mirrors: nginx per region, filled by archeio-mirror from upstream -------
# HTTPS on 443, each with its own certificate (IP SAN).
declare -A MIRROR_BASE=(
	[use1]="https://$USE1_IP/prod-registry-k8s-io-us-east-1"
	[euw1]="https://$EUW1_IP/prod-registry-k8s-io-eu-west-1"
	[cdn]="https://$CDN_IP/cdn"
)
for m in use1 euw1 cdn; do
	dir="$TMP/www-$m/${MIRROR_BASE[$m]##*/}"
	# The mirror host pulls from upstream itself, as a real one would.
	ns_exec "${NS_PREFIX}m-$m" timeout 60 "$MIRROR_TOOL" --from "http://$UP_IP:5001" --repo e2e/single \
		--repo e2e/multi --to "$dir" >"$TMP/mirror-$m.out" 2>&1 ||
		{ cat "$TMP/mirror-$m.out"; echo "[$TEST_NAME] FAIL: archeio-mirror for $m"; exit 1; }
	check_eq "mirror $m holds every blob" "$(ls "$dir/containers/images" | sort | comm -3 - "$TMP/all-blobs" | wc -l)" 0
	[ "$m" = euw1 ] && while read -r d; do rm "$dir/containers/images/$d"; done <"$TMP/euw1-missing"
	start_nginx "$m" "$TMP/www-$m" 443 "${MIRROR_IP[$m]}" "${NS_PREFIX}m-$m" "$PKI/m-$m.crt" "$PKI/m-$m.key"
	ns_wait_port "m-$m" "${MIRROR_IP[$m]}" 443 20 || { cat "$TMP/nginx-$m/error.log"; exit 1; }
done
log "eu-west-1 mirror lacks $(wc -l <"$TMP/euw1-missing") of $(wc -l <"$TMP/all-blobs") blobs"
# Filling is over: nothing may use the plain registry from here on.
kill "$FILL_PID"
wait "$FILL_PID" 2>/dev/null
# The mirrors as archeio's checks will see them: HTTPS, verified with the test CA.
PRESENT_BLOB=$(comm -23 "$TMP/all-blobs" "$TMP/euw1-missing" | head -n 1)
for m in use1 euw1 cdn; do
	check_eq "mirror $m answers HTTPS HEAD from archeio's namespace (verified)" \
		"$(ns_exec "$SERVER_NS" curl -sS --max-time 5 --cacert "$CA" -o /dev/null -w '%{http_code}' -I \
			"${MIRROR_BASE[$m]}/containers/images/$PRESENT_BLOB" 2>&1)" 200
done

# A slow mirror: answers every request only after 3 s (archeio gives up after
# 500 ms). HTTPS with its own certificate, so archeio's check really connects.
cat >"$TMP/slow.py" <<'PY'
import http.server, ssl, sys, time
class Slow(http.server.BaseHTTPRequestHandler):
    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):
            pass
    def answer(self):
        with open(sys.argv[2], "a") as f:
            f.write(f"{self.client_address[0]} {self.command} {self.path}\n")
        time.sleep(3)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_GET = do_HEAD = answer
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer((sys.argv[1], 443), Slow)
server.daemon_threads = True
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(sys.argv[3], sys.argv[4])
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
touch "$TMP/slow.access.log"
nsenter --net="/run/netns/${NS_PREFIX}m-slow" python3 "$TMP/slow.py" "$SLOW_IP" "$TMP/slow.access.log" \
	"$PKI/m-slow.crt" "$PKI/m-slow.key" >"$TMP/slow.out" 2>&1 &
SLOW_PID=$!
on_exit "kill $SLOW_PID; wait $SLOW_PID"
ns_wait_port m-slow "$SLOW_IP" 443 20 || { cat "$TMP/slow.out"; exit 1; }

# --- archeio with XDP --------------------------------------------------------
# registry.k8s.io's format; the buckets and the CDN are the namespaces above.
write_rules() { # write_rules US_EAST_1_BASE EU_WEST_1_BASE
	cat >"$TMP/mirrors" <<RULES
# CLOUD[:REGION]  upstream | BASE_URL
gcp	upstream
aws:us-east-1	$1
aws:eu-west-1	$2
*	${MIRROR_BASE[cdn]}
RULES
}
write_rules "${MIRROR_BASE[use1]}" "${MIRROR_BASE[euw1]}"
# "present" answers keep the default TTL (1 h): the "mirror down" phase relies on
# the health probe (every 500 ms here) to notice the stop and forget them.
if [ "$ARCHEIO_TLS" = 1 ]; then
	LISTEN=(--listen :8443 --tls-cert "$PKI/registry.crt" --tls-key "$PKI/registry.key" --plain-listen :8080)
else
	LISTEN=(--listen :8080)
fi
nsenter --net="/run/netns/$SERVER_NS" "$ARCHEIO" serve "${LISTEN[@]}" --xdp-iface "$SERVER_IF" --xdp-mode native \
	--bpffs "$BPFFS" --ranges "$SHARED_DATA/aws-ip-ranges.json" --ranges "$SHARED_DATA/gcp-cloud.json" \
	--ranges "$SHARED_DATA/azure-service-tags.json" --mirrors "$TMP/mirrors" --upstream "https://$UP_IP:5000" \
	--upstream-path "" --ca-file "$CA" --workers 2 --access-log --mirror-timeout-ms 500 \
	--mirror-probe-interval-ms 500 >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
on_exit "kill $SERVER_PID; wait $SERVER_PID"
for ((i = 0; i < 600; i++)); do # 30 s, or until archeio exits (a flag it does not know)
	grep -q "listening on" "$TMP/server.log" && break
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.05
done
grep -q "listening on" "$TMP/server.log" ||
	{ echo "[$TEST_NAME] FAIL: archeio did not start (${LISTEN[*]}); its log:"; cat "$TMP/server.log"; exit 1; }
check_match "XDP attached in native mode" "$(grep 'XDP: tagging' "$TMP/server.log")" "mode native"
# Every listener answers /v2/ to a client (HTTPS verified with the test CA)
# before anyone pulls; if not, stop here with the server's log.
for url in "${ARCHEIO_URLS[@]}"; do
	code=
	for ((i = 0; i < 50; i++)); do
		code=$(ns_curl c-unlisted --cacert "$CA" -o /dev/null -w '%{http_code}' "$url/v2/" 2>"$TMP/curl.err") && [ "$code" = 200 ] && break
		sleep 0.2
	done
	if [ "$code" != 200 ]; then
		echo "[$TEST_NAME] FAIL: $url/v2/ from a client namespace: '$code' $(cat "$TMP/curl.err"); archeio's log:"
		cat "$TMP/server.log"
		exit 1
	fi
	pass
done
if [ "$ARCHEIO_TLS" = 1 ]; then
	check_eq "archeio's certificate names registry.e2e.test" "$(ns_curl c-unlisted --cacert "$CA" -o /dev/null -w '%{http_code}' \
		--resolve "registry.e2e.test:8443:$SERVER_IP" https://registry.e2e.test:8443/v2/ 2>&1)" 200
	check_match "archeio is not trusted without the test CA" \
		"$(ns_curl c-unlisted -o /dev/null "https://$SERVER/v2/" 2>&1)" "certificate"
fi

# --- containerd: one private daemon; ctr runs in each client's namespace -----
CD="$TMP/containerd"
mkdir -p "$CD"
SOCK="$CD/containerd.sock"
# Content is isolated per containerd namespace (one per client and phase), so
# every client really downloads every blob.
cat >"$CD/config.toml" <<TOML
version = 2
root = "$CD/root"
state = "$CD/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins."io.containerd.metadata.v1.bolt"]
  content_sharing_policy = "isolated"
TOML
containerd --config "$CD/config.toml" >"$TMP/containerd.log" 2>&1 &
CD_PID=$!
on_exit "kill $CD_PID; wait $CD_PID"
for ((i = 0; i < 200; i++)); do ctr --address "$SOCK" version >/dev/null 2>&1 && break; sleep 0.05; done
ctr --address "$SOCK" version >/dev/null 2>&1 || { cat "$TMP/containerd.log"; echo "[$TEST_NAME] FAIL: containerd did not start"; exit 1; }

# --- pulling and checking ----------------------------------------------------
# The clients trust the directory PULL_CERTS (default CLIENT_CERTS) names.
# skopeo_pull CLIENT SRC_REF LAYOUT [--all]: copy into a fresh OCI layout.
skopeo_pull() {
	local c=$1 ref=$2 dir=$3 tls=(--src-cert-dir "${PULL_CERTS:-$CLIENT_CERTS}")
	shift 3
	# Plain-HTTP archeio: this also stops skopeo verifying the redirect targets.
	if [ "$ARCHEIO_TLS" = 0 ]; then tls+=(--src-tls-verify=false); fi
	skopeo_in "${NS_PREFIX}c-$c" copy --quiet "$@" "${tls[@]}" "docker://$SERVER/$ref" "oci:$dir" >"$TMP/pull.out" 2>&1 ||
		{ cat "$TMP/pull.out"; return 1; }
}
# ctr_pull CLIENT CTR_NAMESPACE REF [--all-platforms]
ctr_pull() {
	local c=$1 cns=$2 ref=$3 tls=(--tlscacert "${PULL_CERTS:-$CLIENT_CERTS}/ca.crt")
	shift 3
	# Plain-HTTP archeio: the redirect targets are still verified.
	if [ "$ARCHEIO_TLS" = 0 ]; then tls+=(--plain-http); fi
	ns_exec "${NS_PREFIX}c-$c" timeout 60 ctr --address "$SOCK" -n "$cns" content fetch "${tls[@]}" "$@" \
		"$SERVER/$ref" >"$TMP/pull.out" 2>&1 || { cat "$TMP/pull.out"; return 1; }
}
# Every blob re-hashed; prints the digests found, sorted, "corrupt:" marking a
# blob whose bytes do not match its name.
layout_digests() {
	local f
	for f in "$1"/blobs/sha256/*; do
		[ "$(sha256sum <"$f" | cut -d' ' -f1)" = "${f##*/}" ] || echo -n "corrupt:"
		echo "sha256:${f##*/}"
	done | sort
}
ctr_digests() {
	local cns=$1 d
	for d in $(ctr --address "$SOCK" -n "$cns" content ls -q); do
		[ "sha256:$(ctr --address "$SOCK" -n "$cns" content get "$d" | sha256sum | cut -d' ' -f1)" = "$d" ] ||
			echo -n "corrupt:"
		echo "$d"
	done | sort
}

# Log lines from one point on: LOG_MARK[name] = lines already there.
declare -A LOG_FILE=([use1]="$TMP/use1.access.log" [euw1]="$TMP/euw1.access.log" [cdn]="$TMP/cdn.access.log" [upstream]="$UP_LOG")
declare -A LOG_MARK
mark_logs() { local l; for l in "${!LOG_FILE[@]}"; do LOG_MARK[$l]=$(wc -l <"${LOG_FILE[$l]}"); done; }
new_lines() { tail -n "+$((LOG_MARK[$1] + 1))" "${LOG_FILE[$1]}"; }
# blob_sources IP: "LOG TOOL DIGEST" for every successful blob GET by IP since
# the mark, TOOL being the user agent's product (skopeo, containerd). nginx and
# docker-registry both write the combined format:
#   IP - - [time] "GET PATH HTTP/1.1" STATUS SIZE "REFERER" "USER-AGENT"
blob_sources() {
	local l
	for l in "${!LOG_FILE[@]}"; do
		new_lines "$l" | awk -v ip="$1" -v l="$l" '
			$1 == ip && $6 == "\"GET" && $9 == "200" && $7 ~ /\/(blobs|containers\/images)\/sha256:[0-9a-f]+$/ {
				n = split($7, p, "/")
				match($0, /"[^"]*"$/)
				split(substr($0, RSTART + 1, RLENGTH - 2), ua, "/")
				print l, ua[1], p[n]
			}'
	done | sort -u
}
# want_sources HOME: the table blob_sources must print for a client whose
# blobs come from HOME (use1, euw1, cdn, upstream) with both tools; the
# eu-west-1 mirror sends the blobs it lacks upstream.
want_sources() {
	local d from tool
	while read -r d; do
		from=$1
		[ "$from" = euw1 ] && grep -qx "$d" "$TMP/euw1-missing" && from=upstream
		for tool in skopeo containerd; do echo "$from $tool $d"; done
	done <"$TMP/all-blobs" | sort -u
}
# pulls_from CLIENT HOME TAG: the four pulls (skopeo and ctr; the single image
# by tag, the index by digest with all platforms), every digest checked, and
# every blob's source from the logs. Adds the pulls' time to PULL_MS.
PULL_MS=0
pulls_from() {
	local c=$1 home=$2 out="$TMP/pulls/$1-$3" cns="$1-$3" t0 got
	mkdir -p "$out"
	mark_logs
	t0=$(date +%s%N)
	skopeo_pull "$c" "e2e/single:v1" "$out/single" && pass || fail "$c: skopeo copy e2e/single:v1"
	skopeo_pull "$c" "e2e/multi@$MULTI_INDEX" "$out/multi" --all && pass || fail "$c: skopeo copy --all e2e/multi@digest"
	ctr_pull "$c" "$cns" "e2e/single:v1" && pass || fail "$c: ctr content fetch e2e/single:v1"
	ctr_pull "$c" "$cns" "e2e/multi@$MULTI_INDEX" --all-platforms && pass || fail "$c: ctr content fetch --all-platforms e2e/multi@digest"
	PULL_MS=$((PULL_MS + ($(date +%s%N) - t0) / 1000000))
	check_eq "$c: skopeo e2e/single:v1 digests" "$(layout_digests "$out/single" | tr '\n' ' ')" "$(tr '\n' ' ' <"$TMP/want-single")"
	check_match "$c: skopeo layout names the manifest" "$(cat "$out/single/index.json")" "$SINGLE_MANIFEST"
	check_eq "$c: skopeo e2e/multi@digest digests" "$(layout_digests "$out/multi" | tr '\n' ' ')" "$(tr '\n' ' ' <"$TMP/want-multi")"
	check_match "$c: skopeo layout names the index" "$(cat "$out/multi/index.json")" "$MULTI_INDEX"
	check_eq "$c: ctr content digests" "$(ctr_digests "$cns" | tr '\n' ' ')" "$(sort -u "$TMP/want-single" "$TMP/want-multi" | tr '\n' ' ')"
	got=$(blob_sources "${CLIENT_IP[$c]}")
	if [ "$got" == "$(want_sources "$home")" ]; then pass; else
		fail "$c: blob sources (log tool digest), < got, > want:"
		diff <(echo "$got") <(want_sources "$home") | grep '^[<>]' | sed 's/^/    /'
	fi
	check_match "$c: manifests came from upstream" "$(new_lines upstream | grep -c "^${CLIENT_IP[$c]} .*\"GET /v2/e2e/multi/manifests/$MULTI_INDEX ")" "^[1-9]"
}

# Clients verify the hosts they are redirected to: trusting archeio's
# certificate alone, a pull reaches archeio and must then fail on the
# upstream's certificate (the manifest's redirect target). skopeo with a
# plain-HTTP archeio verifies nothing (--src-tls-verify=false), so not then.
log "clients trusting archeio's certificate only must refuse the redirect targets"
if PULL_CERTS=$PINNED_CERTS ctr_pull unlisted pinned "e2e/single:v1" >/dev/null; then
	fail "ctr trusting only archeio's certificate pulled through redirects to other hosts"
else
	check_match "ctr refuses an untrusted redirect target" "$(cat "$TMP/pull.out")" "x509: certificate signed by unknown authority"
	check_match "ctr got as far as the redirect to upstream" "$(cat "$TMP/pull.out")" "https://$UP_IP:5000/"
fi
if [ "$ARCHEIO_TLS" = 1 ]; then
	mkdir -p "$TMP/pulls"
	if PULL_CERTS=$PINNED_CERTS skopeo_pull unlisted "e2e/single:v1" "$TMP/pulls/pinned" >/dev/null; then
		fail "skopeo trusting only archeio's certificate pulled through redirects to other hosts"
	else
		check_match "skopeo refuses an untrusted redirect target" "$(cat "$TMP/pull.out")" "x509: certificate signed by unknown authority"
		check_match "skopeo got as far as the redirect to upstream" "$(cat "$TMP/pull.out")" "$UP_IP:5000"
	fi
fi

log "pulls: every client, skopeo and ctr, by tag and by digest"
declare -A HOME_OF=([use1]=use1 [euw1]=euw1 [gcp]=upstream [azure]=cdn [unlisted]=cdn)
for c in "${CLIENTS[@]}"; do
	pulls_from "$c" "${HOME_OF[$c]}" main
	log "$c (${CLIENT_IP[$c]}): blobs from ${HOME_OF[$c]}"
	region=${CLIENT_REGION[$c]}
	check_match "$c: archeio saw ${CLIENT_IP[$c]} as ${region}" \
		"$(grep -m1 "client=${CLIENT_IP[$c]} .*path=/v2/e2e/single/blobs/" "$TMP/server.log")" \
		"region=${region#*:}( |$)"
done
for m in use1 euw1 cdn; do
	check_eq "no GCP client GET on mirror $m" "$(awk -v ip="$GCP" '$1 == ip && $6 == "\"GET"' "${LOG_FILE[$m]}" | wc -l)" 0
done

# Every listener tags by region (XDP): the us-east-1 client asking for a blob
# its mirror holds (mirrors are keyed by digest alone) is sent there, whichever
# listener it uses.
for url in "${ARCHEIO_URLS[@]}"; do
	check_eq "use1 via $url: a blob goes to the us-east-1 mirror" \
		"$(ns_curl c-use1 --cacert "$CA" -o /dev/null -w '%{http_code} %{redirect_url}' "$url/v2/e2e/single/blobs/$PRESENT_BLOB" 2>&1)" \
		"307 ${MIRROR_BASE[use1]}/containers/images/$PRESENT_BLOB"
done

status=$(ns_exec "$SERVER_NS" "$ARCHEIO" xdp status --bpffs "$BPFFS")
val() { echo "$status" | awk -v k="$1" '$1 == k {print $2}'; }
check_eq "xdp status: mode" "$(val mode)" native
check_match "xdp status: connections tagged (4 provider clients)" "$(val tagged)" "^([4-9]|[1-9][0-9]+)$"
check_match "xdp status: connections untagged (unlisted client)" "$(val untagged)" "^[1-9][0-9]*$"

# --- a mirror down, a mirror slow -------------------------------------------
log "eu-west-1 mirror down, us-east-1 rule pointing at a slow mirror"
kill "$(cat "$TMP/nginx-euw1/nginx.pid")"
down=no
for ((i = 0; i < 100; i++)); do
	ns_exec "${NS_PREFIX}m-euw1" bash -c "(exec 3<>/dev/tcp/$EUW1_IP/443)" 2>/dev/null || { down=yes; break; }
	sleep 0.05
done
check_eq "eu-west-1 mirror stopped" "$down" yes
write_rules "https://$SLOW_IP/slow-bucket" "${MIRROR_BASE[euw1]}"
reloads=$(grep -c "reloaded" "$TMP/server.log")
kill -HUP "$SERVER_PID"
for ((i = 0; i < 200; i++)); do [ "$(grep -c "reloaded" "$TMP/server.log")" -gt "$reloads" ] && break; sleep 0.05; done
check_eq "rules reloaded" "$(grep -c "reloaded" "$TMP/server.log")" "$((reloads + 1))"
sleep 1.5 # a probe (500 ms) finds the eu-west-1 mirror down; its answers are forgotten
PULL_MS=0
pulls_from use1 upstream degraded
pulls_from euw1 upstream degraded
elapsed_ms=$PULL_MS
log "8 pulls with a slow and a down mirror took ${elapsed_ms} ms"
[ "$elapsed_ms" -lt 30000 ] && pass || fail "pulls with a slow and a down mirror took ${elapsed_ms} ms (want < 30 s)"
check_match "the slow mirror was asked (HEAD from archeio)" "$(grep -c "^$SERVER_IP HEAD /slow-bucket/containers/images/" "$TMP/slow.access.log")" "^[1-9]"
check_eq "the slow mirror served no GET" "$(grep -c " GET " "$TMP/slow.access.log")" 0

log "$(($(date +%s) - START_S)) s"
finish
