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

# README.md's first command is scripts/run.sh; its next ones use build/archeio-mirror, so the
# run script's build step must leave both binaries. Run alone (--build-only: no packages, no
# ranges download, no server), in a network namespace of its own when root, so it can touch
# neither the network nor :8080. It builds build/ (a BUILD of another name is not its concern).
if [ "$BUILD" = build ]; then
	mv "$ROOT/build/archeio-mirror" "$TMP/archeio-mirror.saved"
	on_exit "[ -x '$ROOT/build/archeio-mirror' ] || mv '$TMP/archeio-mirror.saved' '$ROOT/build/archeio-mirror'"
	isolate=()
	[ "$(id -u)" -ne 0 ] || isolate=(unshare --net)
	rc=0
	(cd "$ROOT" && timeout 600 "${isolate[@]}" scripts/run.sh --build-only) >"$TMP/run.out" 2>&1 </dev/null || rc=$?
	check_eq "scripts/run.sh --build-only: exit 0" "$rc" "0"
	check_eq "scripts/run.sh --build-only: both binaries built" \
		"$(cd "$ROOT" && ls build/archeio build/archeio-mirror 2>&1 | tr '\n' ' ')" "build/archeio build/archeio-mirror "
	check_match "scripts/run.sh --build-only: says what it built" "$(tail -n 1 "$TMP/run.out")" \
		"^run: built build/archeio and build/archeio-mirror$"
	check_eq "scripts/run.sh --build-only: started no server" "$(grep -c 'listening on' "$TMP/run.out")" "0"
	[ "$rc" -eq 0 ] || cat "$TMP/run.out"
else
	log "BUILD=$BUILD: scripts/run.sh builds build/ only; its build step not checked"
fi

finish
