#!/usr/bin/env bash
# The benchmark compares like with like: archeio and the nginx configuration
# of bench/nginx_geo.py answer every scenario of bench/run.sh (/v2/, manifest,
# GCP, AWS in three regions and unlisted clients with a two-entry
# X-Forwarded-For) with the same status and Location. Runs only the check
# (CHECK_ONLY=1), no timing. Loopback only.
source "$(dirname "$0")/../lib/common.sh"
require_cmd nginx curl python3
cd "$ROOT" || exit 1
out=$(CHECK_ONLY=1 NO_MAKE=1 BUILD="$BUILD" bash bench/run.sh 2>&1)
rc=$?
check_eq "bench/run.sh fairness check exit status" "$rc" 0
check_eq "scenarios answered the same" "$(grep -c '^same answer:' <<<"$out")" 7
check_eq "scenarios answered differently" "$(grep -c '^DIFFERENT' <<<"$out")" 0
[ "$FAILURES" -eq 0 ] || echo "$out"
finish
