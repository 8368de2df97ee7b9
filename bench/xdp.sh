#!/usr/bin/env bash
# ns per packet of the XDP program (BPF_PROG_TEST_RUN, repeat N) with all
# provider ranges loaded: tagged SYNs (IPv4, IPv6), a SYN from no range, and
# packets that are not new connections. Builds bench/xdp_bench.c; needs root.
# A repeated frame's source is answered from the per-CPU cache in front of the
# tries; bench/xdp_pieces.sh measures a miss and each piece of the program.
# Usage: bench/xdp.sh [REPEAT] [ROUNDS]   (default 1000000, 5: medians printed)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${1:-1000000}
ROUNDS=${2:-5}
make -s build/libarcheio.a build/libcore.a
cc -O2 -D_GNU_SOURCE -Iinclude -Ibuild/include -Iuser bench/xdp_bench.c build/libarcheio.a \
	build/libcore.a -lxdp -lbpf -lelf -lz -ljansson -o build/xdp_bench
for _ in $(seq 1 "$ROUNDS"); do build/xdp_bench "$REPEAT"; done | python3 -c '
import collections, statistics, sys
rows = collections.OrderedDict()
for line in sys.stdin:
    if line.endswith("ns/packet\n"):
        name, ns = line[:38].strip(), int(line[38:].split()[0])
        rows.setdefault(name, []).append(ns)
    elif "prefixes" in line and not rows:
        print(line.strip())
for name, v in rows.items():
    rounds = " ".join(map(str, v))
    print(f"{name:38} median {statistics.median(v):5.0f} ns/packet  (rounds: {rounds})")
'
