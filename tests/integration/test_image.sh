#!/usr/bin/env bash
# The container image (`make image`): built from the Debian base that the
# build makes itself with mmdebstrap (no registry is pulled from), then run
# with podman as an operator would.
#
#   1. What is in it: a numeric non-root user, archeio serve as the entrypoint,
#      the runtime libraries and no compiler.
#   2. Userspace mode as deploy/kubernetes/loadbalancer/deployment.yaml runs
#      it, on the host's network, read-only root: the init container's command
#      fills the ranges directory from small provider files on a local nginx;
#      archeio (mirror rules and an operator ranges file mounted in, upstream
#      and mirror on 127.0.0.1) answers requests from 127.0.0.1, a trusted
#      proxy, with X-Forwarded-For: the manifest goes upstream, the blob to the
#      client's region's mirror (checked there from inside the container). A
#      SIGHUP rereads a changed file as the non-root user; the sidecar's
#      refresher script, in a container sharing archeio's pid namespace,
#      fetches new provider data and signals archeio; SIGTERM ends it with 0.
#   3. XDP mode as deploy/kubernetes/xdp/daemonset.yaml runs it: uid 0 with
#      exactly the capabilities and seccomp setting it names (all others
#      dropped), host bpffs mounted; attached to a veth in a namespace, clients
#      in their own namespaces are tagged by the program. Without any one of
#      those capabilities archeio must refuse to start.
#
# podman on these machines cannot set rlimits by default (runc: "error setting
# rlimits for ready process ... operation not permitted"), so every run gives
# --ulimit nofile and nproc explicitly.
source "$(dirname "$0")/../lib/common.sh"
require_root
require_cmd podman mmdebstrap curl nginx ip nsenter /usr/bin/python3
source "$ROOT/tests/lib/netns.sh"

IMAGE="${ARCHEIO_IMAGE:-localhost/archeio:test}"
NAME="archeio-test-$$"
RUN=(podman run --ulimit nofile=4096:4096 --ulimit nproc=4096:4096)

# The image holds production binaries. In the sanitizer run (make
# check-sanitize) $BUILD's binaries need libasan, which an image must not
# carry: the image is then built from the production build, and the
# sanitized binaries are exercised by every other integration test.
IMAGE_BUILD=$BUILD
if [ -n "${SANITIZER_RUN:-}" ]; then
	IMAGE_BUILD=build
	log "sanitizer run: the image is built from $IMAGE_BUILD/ (production binaries), not $BUILD/"
	make -C "$ROOT" BUILD="$IMAGE_BUILD" all >"$TMP/prod-build.log" 2>&1 || { tail -20 "$TMP/prod-build.log"; fail "production build"; }
fi
log "make image (mmdebstrap base cached in $IMAGE_BUILD/image/)"
t0=$(date +%s)
if ! make -C "$ROOT" BUILD="$IMAGE_BUILD" IMAGE="$IMAGE" image >"$TMP/image-build.log" 2>&1; then
	tail -40 "$TMP/image-build.log"
	fail "make image"
	finish
fi
log "image built in $(($(date +%s) - t0)) s"

log "1. contents"
inspect() { podman image inspect --format "$1" "$IMAGE"; }
user=$(inspect '{{.Config.User}}')
check_match "image user is numeric" "$user" '^[0-9]+(:[0-9]+)?$'
check_match "image user is not root" "${user%%:*}" '^[1-9][0-9]*$'
check_eq "entrypoint" "$(inspect '{{json .Config.Entrypoint}}')" '["/usr/local/bin/archeio","serve"]'
in_image() { "${RUN[@]}" --rm --network none --entrypoint "$1" "$IMAGE" "${@:2}"; }
check_match "id -u in the container" "$(in_image id -u)" '^[1-9][0-9]*$'
check_eq "no compiler, assembler or linker on PATH" \
	"$(in_image sh -c 'for c in cc gcc c99 clang tcc as ld make; do command -v $c; done')" ""
check_eq "no compiler packages" "$(in_image dpkg-query -W -f '${Package}\n' |
	grep -E '^((gcc|g\+\+|cpp|clang|llvm)(-[0-9]+)?|binutils.*|libc6?-dev|make|tcc)$' || true)" ""
for p in $(grep -v -E '^[[:space:]]*(#|$)' "$ROOT/deploy/image/packages"); do
	check_eq "package $p installed" "$(in_image dpkg-query -W -f '${Status}' "$p")" "install ok installed"
done
check_eq "no apt in the image" "$(in_image sh -c 'command -v apt-get || true')" ""
for b in archeio archeio-mirror; do
	check_eq "every library of $b resolves" "$(in_image ldd "/usr/local/bin/$b" | grep -c 'not found')" "0"
done
check_match "archeio runs" "$(in_image archeio --help 2>&1 | head -n 1)" "archeio"
check_match "archeio-mirror runs" "$(in_image archeio-mirror --help 2>&1)" "--from"
check_match "archeio-fetch-ranges runs" "$(in_image archeio-fetch-ranges 2>&1)" "usage: fetch-ranges DIR"

log "2. userspace mode as the Deployment runs it, trusted proxy on 127.0.0.1"
MPORT=$(free_port)
PORT=$(free_port)
MIRROR="http://127.0.0.1:$MPORT"
UPSTREAM="http://127.0.0.1:$(free_port)"
DIGEST="sha256:$(printf 'e%.0s' {1..64})"
MISSING="sha256:$(printf 'f%.0s' {1..64})"
for d in use1 cdn; do
	mkdir -p "$TMP/www/$d/containers/images"
	echo blob >"$TMP/www/$d/containers/images/$DIGEST"
done
# The providers' files in their formats, small, served by the same nginx for
# archeio-fetch-ranges. Documentation addresses as clients: they only ever
# appear in X-Forwarded-For headers.
provider_files() { # AWS_REGION_OF_192.0.2.128/25 (empty: not listed)
	local extra=""
	[ -z "$1" ] || extra=",{\"ip_prefix\":\"192.0.2.128/25\",\"region\":\"$1\",\"service\":\"AMAZON\"}"
	mkdir -p "$TMP/www/providers"
	printf '{"createDate":"2026-11-01-00-00-00","prefixes":[{"ip_prefix":"192.0.2.0/25","region":"eu-west-1","service":"AMAZON"}%s],"ipv6_prefixes":[]}\n' \
		"$extra" >"$TMP/www/providers/aws.json"
	printf '{"creationTime":"2026-11-01T00:00:00","prefixes":[{"ipv4Prefix":"198.51.100.0/24","service":"Google Cloud","scope":"us-central1"}]}\n' \
		>"$TMP/www/providers/gcp.json"
	printf '{"changeNumber":1,"cloud":"Public","values":[{"name":"AzureCloud.westeurope","properties":{"region":"westeurope","addressPrefixes":["100.64.0.0/24"]}}]}\n' \
		>"$TMP/www/providers/azure.json"
}
provider_files ""
start_nginx mirror "$TMP/www" "$MPORT" || exit 1
FETCH_ENV=(-e "ARCHEIO_AWS_RANGES_URL=$MIRROR/providers/aws.json" -e "ARCHEIO_GCP_RANGES_URL=$MIRROR/providers/gcp.json"
	-e "ARCHEIO_AZURE_RANGES_URL=$MIRROR/providers/azure.json")
mkdir -p "$TMP/conf/ranges" "$TMP/vol"
printf '203.0.113.0/24 aws us-east-1\n' >"$TMP/conf/ranges/operator.txt"
printf 'aws:us-east-1 %s/use1\ngcp upstream\n* %s/cdn\n' "$MIRROR" "$MIRROR" >"$TMP/conf/mirrors"
chmod -R a+rX "$TMP/conf"
chown "${user%%:*}" "$TMP/vol" # the emptyDir, writable by the pod's user (fsGroup)

# The init container's command and the sidecar's script, from the manifest.
/usr/bin/python3 - "$ROOT/deploy/kubernetes/loadbalancer/deployment.yaml" "$TMP" <<'PY'
import shlex, sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc.get("kind") == "Deployment":
        pod = doc["spec"]["template"]["spec"]
        init = next(c for c in pod["initContainers"] if c["name"] == "fetch-ranges")
        open(sys.argv[2] + "/init-command", "w").write(shlex.join(init["command"]))
        side = next(c for c in pod["containers"] if c["name"] == "refresh-ranges")
        assert side["command"][:2] == ["/bin/sh", "-c"]
        open(sys.argv[2] + "/refresh-script", "w").write(side["command"][2])
PY
eval "INIT_COMMAND=($(cat "$TMP/init-command"))"
# readOnlyRootFilesystem: podman's --read-only, without the tmpfs it adds by
# default; the manifest's /tmp emptyDir is a tmpfs here.
RO=(--read-only --read-only-tmpfs=false)
if "${RUN[@]}" --rm --network host "${RO[@]}" --tmpfs /tmp -v "$TMP/vol:/var/lib/archeio/ranges" "${FETCH_ENV[@]}" \
	--entrypoint "${INIT_COMMAND[0]}" "$IMAGE" "${INIT_COMMAND[@]:1}" >"$TMP/init.log" 2>&1; then
	pass
else
	fail "the init container's archeio-fetch-ranges: $(cat "$TMP/init.log")"
fi
check_eq "init container filled the ranges volume" "$(ls "$TMP/vol" | sort | tr '\n' ' ')" \
	"aws-ip-ranges.json azure-service-tags.json gcp-cloud.json "

"${RUN[@]}" -d --name "$NAME" --network host "${RO[@]}" -v "$TMP/conf:/etc/archeio:ro" \
	-v "$TMP/vol:/var/lib/archeio/ranges:ro" "$IMAGE" \
	--listen "127.0.0.1:$PORT" --ranges /var/lib/archeio/ranges --ranges /etc/archeio/ranges \
	--mirrors /etc/archeio/mirrors --upstream "$UPSTREAM" --upstream-path k8s-artifacts-prod/images \
	--default-mirror "$MIRROR/cdn" --trusted-proxy 127.0.0.1/32 --xff-hops 1 --workers 1 --access-log >/dev/null
on_exit "podman rm -f $NAME"
container_log() { podman logs "$1" 2>&1; }
wait_container_log() { # NAME PATTERN SECONDS
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		container_log "$1" | grep -q -- "$2" && return 0
		sleep 0.1
	done
	container_log "$1"
	return 1
}
wait_container_log "$NAME" "listening on" 20 || { fail "archeio in the container did not start"; finish; }
check_eq "process runs as the image's user" \
	"$(awk '/^Uid:/ {print $2}' "/proc/$(podman inspect -f '{{.State.Pid}}' "$NAME")/status")" "${user%%:*}"

BASE="http://127.0.0.1:$PORT"
UP="$UPSTREAM/v2/k8s-artifacts-prod/images"
xff() { status_location "$BASE$1" -H "X-Forwarded-For: $2"; }
check_eq "manifest -> upstream" "$(status_location "$BASE/v2/pause/manifests/3.9")" "307 $UP/pause/manifests/3.9"
check_eq "blob, aws us-east-1 client, on its mirror" "$(xff "/v2/pause/blobs/$DIGEST" 203.0.113.7)" \
	"307 $MIRROR/use1/containers/images/$DIGEST"
check_match "the mirror check came from the container" \
	"$(cat "$TMP/mirror.access.log")" "\"HEAD /use1/containers/images/$DIGEST HTTP/1.1\" 200"
check_eq "blob missing on the mirror -> upstream" "$(xff "/v2/pause/blobs/$MISSING" 203.0.113.7)" \
	"307 $UP/pause/blobs/$MISSING"
check_eq "gcp client (fetched GCP file) -> upstream" "$(xff "/v2/pause/blobs/$DIGEST" 198.51.100.7)" \
	"307 $UP/pause/blobs/$DIGEST"
check_eq "unlisted client -> default mirror" "$(xff "/v2/pause/blobs/$DIGEST" 192.0.2.200)" \
	"307 $MIRROR/cdn/containers/images/$DIGEST"
check_eq "trusted peer without X-Forwarded-For" "$(status_location "$BASE/v2/pause/blobs/$DIGEST")" "400 -"

log "SIGHUP reload as the non-root user"
printf '192.0.2.192/26 aws us-east-1\n' >"$TMP/conf/ranges/zz-more.txt"
chmod a+r "$TMP/conf/ranges/zz-more.txt"
podman kill --signal HUP "$NAME" >/dev/null
wait_container_log "$NAME" "reloaded prefixes=5 " 10 || fail "the reload did not read the new file"
check_eq "after reload: the new range's mirror" "$(xff "/v2/pause/blobs/$DIGEST" 192.0.2.200)" \
	"307 $MIRROR/use1/containers/images/$DIGEST"
rm -f "$TMP/conf/ranges/zz-more.txt"

log "the Deployment's refresher sidecar: new provider data, SIGHUP through the shared pid namespace"
provider_files us-east-1
reloads_before=$(container_log "$NAME" | grep -c 'reloaded prefixes=')
"${RUN[@]}" -d --name "$NAME-refresh" --pid "container:$NAME" --network host "${RO[@]}" --tmpfs /tmp \
	-v "$TMP/vol:/var/lib/archeio/ranges" "${FETCH_ENV[@]}" -e REFRESH_SECONDS=1 \
	--entrypoint /bin/sh "$IMAGE" -c "$(cat "$TMP/refresh-script")" >/dev/null
on_exit "podman rm -f $NAME-refresh"
for ((i = 0; i < 200; i++)); do
	[ "$(container_log "$NAME" | grep -c 'reloaded prefixes=')" -gt "$reloads_before" ] && break
	sleep 0.1
done
check_match "the sidecar's refresh was reloaded" "$(container_log "$NAME" | grep 'reloaded prefixes=' | tail -n 1)" \
	'reloaded prefixes=5 .*aws=3/0'
check_match "the sidecar said so" "$(podman logs "$NAME-refresh" 2>&1)" 'sent SIGHUP to [0-9]+'

podman rm -f "$NAME-refresh" >/dev/null 2>&1
check_eq "after the sidecar's refresh: the provider's new range" "$(xff "/v2/pause/blobs/$DIGEST" 192.0.2.200)" \
	"307 $MIRROR/use1/containers/images/$DIGEST"
check_eq "refreshed files belong to the pod's user" "$(stat -c %u "$TMP/vol/aws-ip-ranges.json")" "${user%%:*}"

log "SIGTERM"
podman stop -t 10 "$NAME" >/dev/null
check_eq "exit status after SIGTERM" "$(podman inspect -f '{{.State.ExitCode}}' "$NAME")" "0"

log "3. XDP mode with the DaemonSet's capabilities and seccomp setting"
# CAPS (comma-separated, CAP_ prefixed) and SECCOMP (the archeio container's
# seccompProfile type) from the manifest, so the test runs what it deploys.
eval "$(/usr/bin/python3 - "$ROOT/deploy/kubernetes/xdp/daemonset.yaml" <<'PY'
import sys, yaml
for doc in yaml.safe_load_all(open(sys.argv[1])):
    if doc and doc.get("kind") == "DaemonSet":
        pod = doc["spec"]["template"]["spec"]
        c = next(c for c in pod["containers"] if c["name"] == "archeio")
        sc = c["securityContext"]
        print("CAPS=" + ",".join("CAP_" + x for x in sc["capabilities"]["add"]))
        seccomp = {**pod.get("securityContext", {}), **sc}.get("seccompProfile", {}).get("type", "")
        print("SECCOMP=" + seccomp)
PY
)"
check_match "capabilities read from the DaemonSet" "$CAPS" "CAP_BPF"
SECCOMP_OPT=()
[ "$SECCOMP" = Unconfined ] && SECCOMP_OPT=(--security-opt seccomp=unconfined)
mount | grep -q ' /sys/fs/bpf type bpf' || { fail "bpffs not mounted at /sys/fs/bpf"; finish; }
BPFFS="/sys/fs/bpf/archeio-image-$$"
on_exit "rm -rf $BPFFS"
netns_setup_core
netns_add_host aws 203.0.113.7
netns_add_host unl 198.51.100.7
MIRROR_IP=198.18.1.10
netns_add_host mirror "$MIRROR_IP"
start_nginx xdpmirror "$TMP/www" 8081 "$MIRROR_IP" "${NS_PREFIX}mirror"
printf 'aws:us-east-1 http://%s:8081/use1\n* http://%s:8081/cdn\n' "$MIRROR_IP" "$MIRROR_IP" >"$TMP/conf/mirrors"
rm -f "$TMP/conf/ranges/zz-more.txt"

# run_xdp NAME CAPS: archeio as the DaemonSet runs it, detached.
run_xdp() {
	"${RUN[@]}" -d --name "$1" --network "ns:/run/netns/$SERVER_NS" --user 0:0 \
		--cap-drop all --cap-add "$2" "${SECCOMP_OPT[@]}" -v /sys/fs/bpf:/sys/fs/bpf \
		-v "$TMP/conf:/etc/archeio:ro" "$IMAGE" \
		--listen :80 --xdp-iface "$SERVER_IF" --xdp-mode skb --bpffs "$BPFFS" \
		--ranges /etc/archeio/ranges --mirrors /etc/archeio/mirrors --upstream "http://198.18.1.20:5000" \
		--upstream-path "" --workers 1 >/dev/null
	on_exit "podman rm -f $1"
}
run_xdp "$NAME-xdp" "$CAPS"
if wait_container_log "$NAME-xdp" "listening on" 30; then
	check_match "XDP attached" "$(container_log "$NAME-xdp" | grep 'XDP: tagging')" "mode skb"
	ns_exec "${NS_PREFIX}mirror" bash -c "for i in \$(seq 1 100); do (exec 3<>/dev/tcp/$MIRROR_IP/8081) 2>/dev/null && exit 0; sleep 0.05; done; exit 1" ||
		fail "mirror nginx did not start"
	fetch() { ns_exec "${NS_PREFIX}$1" curl -s -o /dev/null --max-time 5 -w '%{http_code} %header{location}' "$2"; }
	check_eq "aws client over XDP -> its mirror" "$(fetch aws "http://$SERVER_IP/v2/pause/blobs/$DIGEST")" \
		"307 http://$MIRROR_IP:8081/use1/containers/images/$DIGEST"
	check_eq "unlisted client over XDP -> default" "$(fetch unl "http://$SERVER_IP/v2/pause/blobs/$DIGEST")" \
		"307 http://$MIRROR_IP:8081/cdn/containers/images/$DIGEST"
	status=$(podman exec "$NAME-xdp" archeio xdp status --bpffs "$BPFFS" 2>&1)
	check_match "xdp status in the container: tagged >= 1" "$(echo "$status" | awk '$1 == "tagged" {print $2}')" '^[1-9][0-9]*$'
	check_match "xdp status in the container: untagged >= 1" "$(echo "$status" | awk '$1 == "untagged" {print $2}')" '^[1-9][0-9]*$'
	podman stop -t 10 "$NAME-xdp" >/dev/null
	check_eq "XDP container exit status" "$(podman inspect -f '{{.State.ExitCode}}' "$NAME-xdp")" "0"
	check_eq "pins removed on exit" "$(ls -A "$BPFFS" 2>/dev/null)" ""
else
	fail "archeio with the DaemonSet's capabilities did not start"
fi

log "each of the DaemonSet's capabilities is needed"
IFS=, read -r -a cap_list <<<"$CAPS"
for cap in "${cap_list[@]}"; do
	fewer=$(printf '%s\n' "${cap_list[@]}" | grep -v -x "$cap" | paste -sd, -)
	run_xdp "$NAME-no-$cap" "$fewer"
	rc=$(timeout 20 podman wait "$NAME-no-$cap" 2>/dev/null || echo "still running")
	check_match "without $cap archeio refuses to start" "$rc" '^[1-9][0-9]*$'
	check_match "without $cap: the refusal names what failed" "$(container_log "$NAME-no-$cap" | grep ' error ')" \
		'XDP: attaching XDP to .* was refused|cannot listen on \*:80: Permission denied'
	podman rm -f "$NAME-no-$cap" >/dev/null 2>&1
done
log "whole test: $(($(date +%s) - t0)) s"
finish
