#!/usr/bin/env bash
# Builds archeio's container image from deploy/image/Containerfile with podman
# (or buildah when podman is missing): the build context is
# BUILD/image/context, holding the root file system that scripts/image-rootfs.sh
# made, the stripped binaries and the ranges refresher.
#
#   scripts/image-build.sh BUILD IMAGE      (what `make image` runs)
#   IMAGE_TOOL=buildah make image           (buildah even where podman is installed)
#
# FROM scratch: nothing is pulled. The version label is `git describe`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 BUILD IMAGE" >&2; exit 2; }
build=$1
image=$2
ctx="$build/image/context"

rm -rf "$ctx"
mkdir -p "$ctx"
# A hard link, not a copy, of the ~120 MB tarball when the file system allows it.
ln -f "$build/image/rootfs.tar" "$ctx/rootfs.tar" 2>/dev/null || cp "$build/image/rootfs.tar" "$ctx/rootfs.tar"
for bin in archeio archeio-mirror; do
	# The BPF object is embedded in archeio's data, which strip leaves alone.
	strip -o "$ctx/$bin" "$build/$bin" 2>/dev/null || cp "$build/$bin" "$ctx/$bin"
done
install -m 0755 scripts/fetch-ranges.sh "$ctx/archeio-fetch-ranges"

version=$(git describe --tags --always --dirty 2>/dev/null || echo unknown)
# IMAGE_TOOL=podman|buildah chooses; by default podman, else buildah.
tool=${IMAGE_TOOL:-}
if [ -z "$tool" ]; then
	if command -v podman >/dev/null; then tool=podman; elif command -v buildah >/dev/null; then tool=buildah; fi
fi
case "$tool" in
podman) build=(podman build) ;;
buildah) build=(buildah bud) ;;
*)
	echo "image-build: neither podman nor buildah is installed (scripts/install-deps.sh)" >&2
	exit 1
	;;
esac
command -v "$tool" >/dev/null || { echo "image-build: $tool is not installed" >&2; exit 1; }
# No intermediate images (--layers=false): each build leaves one image, and
# the one it replaces under the same name is removed, so repeated builds do not
# fill the container storage. Adding the cached tarball takes a few seconds.
old_id=$("$tool" images --quiet --no-trunc "$image" 2>/dev/null | head -n 1 || true)
"${build[@]}" --layers=false --file deploy/image/Containerfile --build-arg "VERSION=$version" \
	--tag "$image" "$ctx"
new_id=$("$tool" images --quiet --no-trunc "$image" | head -n 1)
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
	"$tool" rmi "$old_id" >/dev/null 2>&1 || true # still tagged elsewhere or in use: keep it
fi
echo "image-build: $image ($version)"
