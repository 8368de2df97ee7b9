#!/usr/bin/env bash
# Makes the root file system of archeio's container image: Debian 12
# (bookworm), mmdebstrap's smallest variant that is still a Debian system
# (`essential`: only the Essential:yes packages, not even apt), plus the runtime
# packages listed in deploy/image/packages, written as a tarball to OUT.
#
#   scripts/image-rootfs.sh OUT.tar
#
# Packages come from the Debian mirrors apt uses by default (mmdebstrap adds
# bookworm-updates and bookworm-security itself); no container registry is
# involved. `make image` keeps OUT in build/image/ and makes it again only when
# this script or the package list changes; delete it to pick up Debian's
# security updates. Needs root (mmdebstrap's root mode) and takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: $0 OUT.tar" >&2; exit 2; }
out=$1
command -v mmdebstrap >/dev/null || { echo "image-rootfs: mmdebstrap is not installed (scripts/install-deps.sh)" >&2; exit 1; }

packages=$(grep -v -E '^[[:space:]]*(#|$)' deploy/image/packages | paste -sd, -)

# The image's user: uid/gid 65532, no login shell, no home. The ranges
# directory is its own so the refresher can write there as the same user.
add_user='echo "archeio:x:65532:65532:archeio:/nonexistent:/usr/sbin/nologin" >>"$1/etc/passwd"
echo "archeio:x:65532:" >>"$1/etc/group"
mkdir -p "$1/var/lib/archeio/ranges" "$1/etc/archeio"
chown -R 65532:65532 "$1/var/lib/archeio"'
# Nothing the server reads: manuals, documentation (the copyright files stay),
# translations, and the files dpkg and debconf keep for rollback.
trim='rm -f "$1"/var/cache/debconf/*-old "$1"/var/lib/dpkg/*-old "$1"/var/log/*.log "$1"/var/log/apt/*'

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.tar"
trap 'rm -f "$tmp"' EXIT
# merged-usr hook: the /usr merge by symlinks, instead of installing usrmerge
# (which would pull in perl).
mmdebstrap --variant=essential --include="$packages" \
	--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--customize-hook="$add_user" --customize-hook="$trim" \
	bookworm "$tmp"
mv -f "$tmp" "$out"
