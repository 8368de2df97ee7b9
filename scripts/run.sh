#!/usr/bin/env bash
# Sets up and runs the redirector: installs packages, builds, refreshes the
# provider ranges when the providers are reachable (otherwise starts with the
# ranges it has, and says so), then runs `archeio serve` in the foreground.
# Extra arguments go to `archeio serve` (e.g. --listen :9090 --xdp-iface eth0).
# RANGES_DIR (default ./ranges) holds the ranges between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -j"$(nproc)" build/archeio >/dev/null

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
