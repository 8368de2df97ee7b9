#!/usr/bin/env bash
# Runs every tests/integration/*.sh. Exit status 77 from a test means "skipped"
# (it needs root/BPF and could not get it). A skip fails the run under CI
# (CI=true) or as root: there nothing may be skipped.
set -u
cd "$(dirname "$0")/.."
export BUILD="${BUILD:-build}"
passed=0 failed=0 skipped=0 bad=()
for t in tests/integration/*.sh; do
	[ -e "$t" ] || continue
	echo "=== $t"
	bash "$t"
	rc=$?
	if [ "$rc" -eq 0 ]; then passed=$((passed + 1))
	elif [ "$rc" -eq 77 ]; then
		skipped=$((skipped + 1))
		if [ "${CI:-}" = true ] || [ "$(id -u)" -eq 0 ]; then
			echo "FAIL: $t skipped, but CI/root must run it"; bad+=("$t(skipped)")
		fi
	else failed=$((failed + 1)); bad+=("$t"); fi
done
[ ${#bad[@]} -eq 0 ] || echo "failed integration tests: ${bad[*]}"
echo "integration: $passed passed, $failed failed, $skipped skipped"
[ ${#bad[@]} -eq 0 ]
