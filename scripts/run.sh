#!/usr/bin/env bash
# Sets up and runs the redirector: installs packages, builds both binaries
# (build/archeio and build/archeio-mirror), refreshes the provider ranges when
# the providers are reachable (otherwise starts with the ranges it has, and
# says so), then runs `archeio serve` in the foreground.
# Extra arguments go to `archeio serve` (e.g. --listen :9090 --xdp-iface eth0).
# RANGES_DIR (default ./ranges) holds the ranges between runs.
#
#   scripts/run.sh [SERVE FLAGS...]
#   scripts/run.sh --build-only    only the build step: no packages, no ranges, no server
set -euo pipefail
cd "$(dirname "$0")/.."

# Both binaries: README.md's next steps use build/archeio-mirror as well.
build() {
	make -j"$(nproc)" build/archeio build/archeio-mirror >/dev/null
	echo "run: built build/archeio and build/archeio-mirror"
}

if [ "${1:-}" = --build-only ]; then
	[ $# -eq 1 ] || { echo "usage: scripts/run.sh --build-only" >&2; exit 2; }
	build
	exit 0
fi

scripts/install-deps.sh
build

RANGES_DIR="${RANGES_DIR:-ranges}"
mkdir -p "$RANGES_DIR"
if scripts/fetch-ranges.sh "$RANGES_DIR"; then
	echo "run: provider ranges refreshed in $RANGES_DIR"
elif [ -n "$(ls -A "$RANGES_DIR" 2>/dev/null)" ]; then
	echo "run: could not refresh ranges; starting with the ones already in $RANGES_DIR" >&2
elif [ -d ../shared/data ]; then
	echo "run: could not refresh ranges; starting with the snapshots in ../shared/data" >&2
	cp ../shared/data/aws-ip-ranges.json ../shared/data/gcp-cloud.json \
		../shared/data/azure-service-tags.json "$RANGES_DIR/"
else
	echo "run: could not refresh ranges and have none: every client is 'unknown' (default mirror)" >&2
fi
exec build/archeio serve --ranges "$RANGES_DIR" "$@"
