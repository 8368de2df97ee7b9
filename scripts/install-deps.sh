#!/usr/bin/env bash
# Installs the Debian packages archeio builds and tests with (idempotent), and
# mounts bpffs when it is missing. Needs root (or sudo).
# podman, buildah and mmdebstrap build and run the container image (`make image`,
# tests/integration/test_image.sh); with --no-install-recommends they add only
# conmon, uidmap and libsubid to what skopeo and containerd already bring (runc,
# the CNI plugins, containers-common). python3-yaml parses the Kubernetes manifests.
# haproxy is the L4 load balancer in front of archeio in tests/integration/test_proxy_protocol.sh.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
PKGS=(make gcc clang llvm libbpf-dev libxdp-dev bpftool xdp-tools libevent-dev libcmocka-dev
	libjansson-dev libcurl4-openssl-dev libssl-dev libelf-dev zlib1g-dev pkg-config
	iproute2 curl openssl jq gcovr sslscan nghttp2-client docker-registry skopeo containerd nginx wrk python3 pmccabe
	podman buildah mmdebstrap uidmap python3-yaml python3-botocore nodejs prometheus apache2-utils
	haproxy systemd man-db groff-base)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# s3rver, a third-party S3 implementation the mirror tests copy into, from
# the npm registry into /opt/s3rver (npm ships with nodesource's nodejs;
# Debian's nodejs needs its npm package).
if ! command -v npm >/dev/null; then
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
if [ ! -x /opt/s3rver/node_modules/.bin/s3rver ]; then
	echo "install-deps: installing s3rver 3.7 into /opt/s3rver"
	$SUDO npm install --silent --prefix /opt/s3rver s3rver@3.7 >/dev/null
fi
if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
	$SUDO mount -t bpf bpf /sys/fs/bpf || echo "install-deps: could not mount bpffs at /sys/fs/bpf" >&2
fi
