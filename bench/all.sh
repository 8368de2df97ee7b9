#!/usr/bin/env bash
# Every figure of the README's "Benchmarks" target table, one after the other,
# each benchmark's output kept in OUT (default /tmp/archeio-bench-all.DATE):
# keep-alive with one and two workers, userspace instructions, start-up,
# SIGHUP reload, XDP per packet and a new connection per request. Root (the
# XDP and namespace benches need it); loopback and namespaces the benches
# make only. Takes about 15 minutes. Usage: bench/all.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/archeio-bench-all.$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
make -s all
step() { # NAME COMMAND...: runs one bench, its output to OUT/NAME.log and the tail to stdout
	local name=$1
	shift
	echo "=== $name: $*"
	"$@" >"$OUT/$name.log" 2>&1 || { echo "$name failed (see $OUT/$name.log)"; return 1; }
	tail -n 20 "$OUT/$name.log"
}
step keepalive-1-worker bench/run.sh 4 3
step keepalive-2-workers env WORKERS=2 bench/run.sh 4 3
step instructions bench/instructions.sh 10000
step startup bench/startup.sh 5
step reload bench/reload.sh 20 5 5
step xdp bench/xdp_pieces.sh 1000000 5
step conn-close bench/conn_close.sh 5 5
echo "all outputs in $OUT"
