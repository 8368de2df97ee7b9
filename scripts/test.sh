#!/usr/bin/env bash
# Runs every test: installs what they need (Debian packages, bpffs), builds,
# then the cmocka unit tests and the integration tests (real nginx mirrors,
# docker-registry, skopeo/ctr clients, XDP on veth in network namespaces).
# Needs root for the BPF/netns tests; without root they skip (and fail under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -j"$(nproc)" all
make format-check
make check-unit
make check-integration
