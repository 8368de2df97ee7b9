#!/usr/bin/env bash
# Installs the Debian packages archeio builds and tests with (idempotent), and
# mounts bpffs when it is missing. Needs root (or sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
PKGS=(make gcc clang llvm libbpf-dev libxdp-dev bpftool xdp-tools libevent-dev libcmocka-dev
	libjansson-dev libcurl4-openssl-dev libssl-dev libelf-dev zlib1g-dev pkg-config
	iproute2 curl openssl jq gcovr sslscan nghttp2-client docker-registry skopeo containerd nginx wrk python3 pmccabe apache2-utils)
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
	$SUDO mount -t bpf bpf /sys/fs/bpf || echo "install-deps: could not mount bpffs at /sys/fs/bpf" >&2
fi
