#!/usr/bin/env bash
# The archeio command line: subcommands, help, and one clear error (exit 2)
# for every misuse, without starting a server.
source "$(dirname "$0")/../lib/common.sh"

# run ARGS...: prints "EXIT|first stderr line"
run() {
	local out rc=0
	out=$("$ARCHEIO" "$@" 2>&1 >/dev/null) || rc=$?
	echo "$rc|$(head -1 <<<"$out")"
}

check_eq "help subcommand" "$(run help)" "0|"

# --version: `git describe --always --dirty` at build time (the Makefile's
# VERSION outside a git checkout; test_install.sh checks that case).
VERSION_RE='[0-9A-Za-z][0-9A-Za-z.+~_-]*'
check_match "archeio --version" "$("$ARCHEIO" --version 2>&1)" "^archeio $VERSION_RE\$"
check_eq "archeio --version: exit 0, nothing on stderr" "$(run --version)" "0|"
check_eq "archeio version (subcommand) says the same" "$("$ARCHEIO" version 2>&1)" "$("$ARCHEIO" --version 2>&1)"
check_match "archeio-mirror --version" "$("$ROOT/$BUILD/archeio-mirror" --version 2>&1)" "^archeio-mirror $VERSION_RE\$"
check_eq "both binaries carry one version" "$("$ROOT/$BUILD/archeio-mirror" --version | cut -d' ' -f2)" \
	"$("$ARCHEIO" --version | cut -d' ' -f2)"
if git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
	built=$("$ARCHEIO" --version | cut -d' ' -f2)
	check_match "the version is git describe's" "$built" "^$(git -C "$ROOT" describe --always)(-dirty)?\$"
fi
check_match "--help names --version" "$("$ARCHEIO" --help)" "archeio --version"
check_match "help prints usage" "$("$ARCHEIO" help)" "^usage: archeio"
check_eq "unknown subcommand" "$(run bogus)" "2|archeio: unknown command bogus (try archeio --help)"
check_eq "serve with a stray argument" "$(run serve --listen 127.0.0.1:0 extra)" \
	"2|archeio: unexpected argument extra"
check_eq "serve --help" "$(run serve --help)" "0|"
check_eq "xdp without a command" "$(run xdp)" "2|archeio: unknown xdp command (want: archeio xdp status)"
check_eq "xdp bogus" "$(run xdp bogus)" "2|archeio: unknown xdp command (want: archeio xdp status)"
check_eq "xdp status --help" "$(run xdp status --help)" "0|"
check_eq "xdp status bad flag" "$(run xdp status --bpffs relative)" \
	"2|archeio: --bpffs: bpffs directory must be absolute: relative"
check_eq "lookup without an address" "$(run lookup --ranges "$TMP")" \
	"2|archeio: lookup needs at least one IP address"
check_eq "lookup with a bad address" "$(run lookup --ranges "$TMP" 10.0.0.1 300.1.1.1)" \
	"2|archeio: not an IP address: 300.1.1.1"
printf '10.0.0.0/8 lab one\n' >"$TMP/ranges.txt"
check_eq "lookup with --ranges" "$("$ARCHEIO" lookup --ranges "$TMP/ranges.txt" 10.1.2.3 192.0.2.1)" \
	"10.1.2.3	lab	one
192.0.2.1	-	-"
printf '10.0.0.0/8 lab\n' >"$TMP/bad.txt"
check_match "lookup with a bad ranges file" "$(run lookup --ranges "$TMP/bad.txt" 10.1.2.3)" \
	"^2\|archeio: .*bad.txt: .*line 1: 2 fields"
# Without --ranges, lookup reads a running server's pinned maps; a bpffs
# directory that is not one is an error, not an empty answer.
mkdir -p "$TMP/notbpf"
touch "$TMP/notbpf/lpm4_outer" "$TMP/notbpf/lpm6_outer" "$TMP/notbpf/regions"
check_match "lookup with an unusable pin directory" "$(run lookup --bpffs "$TMP/notbpf" 10.1.2.3)" "^2\|archeio: "
check_match "xdp status of an unusable pin directory" "$(run xdp status --bpffs "$TMP/notbpf")" "^1\|archeio: xdp status: "

finish
