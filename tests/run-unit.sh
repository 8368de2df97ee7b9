#!/usr/bin/env bash
# Runs every cmocka binary given; all run even when one fails.
# Prints a closing "N passed, N failed" line (binaries), exit 1 on any failure.
set -u
passed=0 failed=0 failed_names=()
for t in "$@"; do
	echo "=== $t"
	if (cd "$(dirname "$0")/.." && "$t"); then
		passed=$((passed + 1))
	else
		failed=$((failed + 1)); failed_names+=("$t")
	fi
done
[ "$failed" -eq 0 ] || echo "failed unit test binaries: ${failed_names[*]}"
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
