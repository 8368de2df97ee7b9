#!/usr/bin/env bash
# Load time of a ranges file that names many distinct regions (an operator
# file with one region per site): a generated text file of REGIONS lines
# (default 65,537), one /32 and one region each, timed through
# `archeio lookup --ranges FILE` (parse, intern every region, build the
# table, one lookup). Interning used to scan the region table linearly, so
# this grew with the square of the region count (issue 10).
# Usage: bench/region_load.sh [REGIONS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
REGIONS=${1:-65537}
ROUNDS=${2:-3}
make -s build/archeio
TMP=$(mktemp -d /tmp/archeio-bench-regions.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

python3 - "$REGIONS" >"$TMP/sites.txt" <<'PY'
import sys
n = int(sys.argv[1])
print("# generated: one region per address")
for i in range(n):
    print(f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32 bench site-{i}")
PY
last=$((REGIONS - 1))
probe="10.$(((last >> 16) & 255)).$(((last >> 8) & 255)).$((last & 255))"
echo "# $REGIONS distinct regions, $ROUNDS rounds: archeio lookup --ranges FILE $probe"
for r in $(seq 1 "$ROUNDS"); do
	start=$(date +%s%N)
	out=$(build/archeio lookup --ranges "$TMP/sites.txt" "$probe")
	end=$(date +%s%N)
	[ "$out" = "$probe	bench	site-$last" ] || { echo "wrong answer: $out"; exit 1; }
	echo "round $r: $(((end - start) / 1000000)) ms"
done
