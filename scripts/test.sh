#!/usr/bin/env bash
# Runs every test: installs what they need (Debian packages, bpffs), builds,
# then the cmocka unit tests and the integration tests (real nginx mirrors,
# docker-registry, skopeo/ctr clients, XDP on veth in network namespaces), the
# same suites under ASan+UBSan (make check-sanitize) and every fuzzer briefly.
# Needs root for the BPF/netns tests; without root they skip (and fail under CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
make -j"$(nproc)" all
make format-check
make check-unit
make check-integration
# The same suites against an ASan+UBSan build, then every fuzzer briefly.
make check-sanitize
make fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
