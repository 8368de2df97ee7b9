#!/usr/bin/env bash
# Where the XDP program's time per packet goes: bench/xdp_bench.c (BPF_PROG_TEST_RUN,
# all provider ranges loaded) against builds of the program with one piece
# disabled, rounds interleaved so that a busy machine slows every build alike.
#   full        the program as shipped (a repeated source hits the per-CPU cache)
#   cache-miss  every lookup misses the cache: hash, compare, trie walk, slot write
#   no-lpm      no range lookup at all (a fixed region): what the rest costs
#   no-tag      no conn_tags write
#   before      the program of git revision $BEFORE (default: none), built from
#               `git archive`, for before/after figures measured side by side
# Rows "1 run: ..." (not in a before revision without them) run a SYN once per
# new source port (and new source address) 15,000 times: a new conn_tags key
# each time, as for a real connection, plus ~40 ns of clock reading (the UDP row).
# Each build is a separate BUILD directory (BPF_EXTRA_CFLAGS sets the macros
# ARCHEIO_BENCH_* in bpf/archeio.bpf.c; they exist for this script only).
# Usage: [BEFORE=REV] bench/xdp_pieces.sh [REPEAT] [ROUNDS]   (default 1000000, 5; root)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${1:-1000000}
ROUNDS=${2:-5}
OUT=${BUILD:-build}/xdp-pieces
LIBS="-lxdp -lbpf -lelf -lz -ljansson"
mkdir -p "$OUT"

variant() { # NAME SOURCE_TREE BPF_FLAGS
	local b src=$2
	b=$(realpath -m "$OUT/$1")
	rm -f "$b/bpf/archeio.bpf.o" # the macros are not in make's dependencies
	make -s -C "$src" BUILD="$b" BPF_EXTRA_CFLAGS="$3" "$b/libarcheio.a" "$b/libcore.a" >/dev/null
	cc -O2 -D_GNU_SOURCE -I"$src/include" -I"$b/include" -I"$src/user" "$src/bench/xdp_bench.c" \
		"$b/libarcheio.a" "$b/libcore.a" $LIBS -o "$b/xdp_bench"
}

NAMES=(full cache-miss no-lpm no-tag)
variant full . ""
variant cache-miss . "-DARCHEIO_BENCH_CACHE_MISS"
variant no-lpm . "-DARCHEIO_BENCH_SKIP_LPM -Wno-unused-function"
variant no-tag . "-DARCHEIO_BENCH_SKIP_TAG"
if [ -n "${BEFORE:-}" ]; then
	src="$OUT/before-src"
	# git archive dates the files at the commit: build from scratch, not on stale objects.
	rm -rf "$src" "$OUT/before" && mkdir -p "$src"
	git archive "$BEFORE" | tar -x -C "$src"
	variant before "$src" ""
	NAMES=(before "${NAMES[@]}")
fi

for _ in $(seq 1 "$ROUNDS"); do
	for name in "${NAMES[@]}"; do
		"$OUT/$name/xdp_bench" "$REPEAT" | sed "s/^/$name|/"
	done
done | python3 -c '
import collections, statistics, sys
rows = collections.OrderedDict()
for line in sys.stdin:
    build, rest = line.split("|", 1)
    if rest.endswith("ns/packet\n"):
        name, ns = rest[:38].strip(), int(rest[38:].split()[0])
        rows.setdefault(name, collections.OrderedDict()).setdefault(build, []).append(ns)
    elif "prefixes" in rest and not rows:
        print(rest.strip())
for name, builds in rows.items():
    print(name)
    for build, v in builds.items():
        rounds = " ".join(map(str, v))
        print(f"  {build:11} median {statistics.median(v):5.0f}  min {min(v):5d} ns/packet  (rounds: {rounds})")
'
