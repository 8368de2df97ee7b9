#!/usr/bin/env bash
# Every figure of the README's "Benchmarks" target table, one after the other,
# each benchmark's output kept in OUT (default /tmp/archeio-bench-all.DATE):
# keep-alive with one and two workers, userspace instructions, start-up,
# SIGHUP reload, XDP per packet and a new connection per request. Root (the
# XDP and namespace benches need it); loopback and namespaces the benches
# make only. Takes about 15 minutes. Usage: [QUICK=1] bench/all.sh [OUT]
# (QUICK=1: one short round each, to check the benches run, not to quote.)
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
if [ -n "${QUICK:-}" ]; then
	RUN=(1 1) INSTR=1000 STARTUP=1 RELOAD=(3 1 1) XDP=(10000 1) CONN=(1 1)
else
	RUN=(4 3) INSTR=10000 STARTUP=5 RELOAD=(20 5 5) XDP=(1000000 5) CONN=(5 5)
fi
step keepalive-1-worker bench/run.sh "${RUN[@]}"
step keepalive-2-workers env WORKERS=2 bench/run.sh "${RUN[@]}"
step instructions bench/instructions.sh "$INSTR"
step startup bench/startup.sh "$STARTUP"
step reload bench/reload.sh "${RELOAD[@]}"
step xdp bench/xdp_pieces.sh "${XDP[@]}"
step conn-close bench/conn_close.sh "${CONN[@]}"
echo "all outputs in $OUT"
