#!/usr/bin/env bash
# The archeio command line: subcommands, help, and one clear error (exit 2)
# for every misuse; and the start-up warning of a server that has no ranges.
source "$(dirname "$0")/../lib/common.sh"
# The caller's environment must not hand lookup or serve any ranges.
unset ARCHEIO_RANGES

# run ARGS...: prints "EXIT|first stderr line"
run() {
	local out rc=0
	out=$("$ARCHEIO" "$@" 2>&1 >/dev/null) || rc=$?
	echo "$rc|$(head -1 <<<"$out")"
}

# serve_error ARGS...: a serve that fails after logging its configuration:
# prints "EXIT|its error line" (the first line logged at error level).
serve_error() {
	local out rc=0
	out=$("$ARCHEIO" serve "$@" 2>&1 >/dev/null) || rc=$?
	echo "$rc|$(grep -m1 ' error ' <<<"$out")"
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
check_eq "xdp without a command" "$(run xdp)" "2|archeio: unknown xdp command (want: archeio xdp status|detach)"
check_eq "xdp bogus" "$(run xdp bogus)" "2|archeio: unknown xdp command (want: archeio xdp status|detach)"
check_eq "xdp detach --help" "$(run xdp detach --help)" "0|"
check_eq "xdp detach bad flag" "$(run xdp detach --bpffs relative)" \
	"2|archeio: --bpffs: bpffs directory must be absolute: relative"
check_match "help names xdp detach" "$("$ARCHEIO" help)" "archeio xdp detach \[--bpffs DIR\] \[--xdp-iface IFACE\]"
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
	"^2\|archeio: .*/bad.txt:1: not a known ranges format .*: 2 fields, want 'CIDR CLOUD REGION'$"
# A refusal names the problem with the value; a file's problem is FILE:LINE: message.
check_eq "a query in a base URL" "$(run serve --upstream 'https://x/?a=1')" \
	"2|archeio: --upstream: a query is not allowed (paths are appended to this URL): https://x/?a=1"
check_eq "user info in a URL" "$(run serve --default-mirror http://u:p@x)" \
	"2|archeio: --default-mirror: user info (user:password@) is not allowed: http://u:p@x"
check_eq "a trusted proxy CIDR with host bits" "$(run serve --trusted-proxy 10.0.0.1/8)" \
	"2|archeio: --trusted-proxy: 10.0.0.1/8 has host bits set (the network is 10.0.0.0/8)"
check_eq "the same from the environment" \
	"$(ARCHEIO_TRUSTED_PROXIES=10.0.0.1/8 run serve)" \
	"2|archeio: ARCHEIO_TRUSTED_PROXIES: 10.0.0.1/8 has host bits set (the network is 10.0.0.0/8)"
printf '# rules\naws:us-east-1 https://u:p@127.0.0.1/\n' >"$TMP/bad.mirrors"
check_match "a mirrors file error is FILE:LINE: message" \
	"$(serve_error --listen 127.0.0.1:0 --mirrors "$TMP/bad.mirrors")" \
	"^2\|[^ ]+ error $TMP/bad.mirrors:2: user info \(user:password@\) is not allowed: 'https://u:p@127.0.0.1/'$"
printf '10.0.0.0/8 lab one\n10.1.0.0/16 lab\n' >"$TMP/bad2.txt"
check_match "a ranges file error is FILE:LINE: message" \
	"$(serve_error --listen 127.0.0.1:0 --ranges "$TMP/bad2.txt")" \
	"^2\|[^ ]+ error $TMP/bad2.txt:2: 2 fields, want 'CIDR CLOUD REGION'$"
# Without --ranges, lookup reads a running server's pinned maps; a bpffs
# directory that is not one is an error, not an empty answer.
mkdir -p "$TMP/notbpf"
touch "$TMP/notbpf/lpm4_outer" "$TMP/notbpf/lpm6_outer" "$TMP/notbpf/regions"
check_match "lookup with an unusable pin directory" "$(run lookup --bpffs "$TMP/notbpf" 10.1.2.3)" "^2\|archeio: "
check_match "xdp status of an unusable pin directory" "$(run xdp status --bpffs "$TMP/notbpf")" "^1\|archeio: xdp status: "

# No data at all is not an answer: every address would look unlisted.
mkdir -p "$TMP/nopins" "$TMP/emptyranges"
check_match "lookup without ranges or pins (bpffs not visible, as under ip netns exec)" \
	"$(run lookup --bpffs "$TMP/nopins" 10.1.2.3)" \
	"^2\|archeio: no ranges loaded: no --ranges given and no archeio maps pinned in $TMP/nopins .*not on a bpf filesystem.*nsenter"
check_eq "lookup without data prints no answer" "$("$ARCHEIO" lookup --bpffs "$TMP/nopins" 10.1.2.3 2>/dev/null)" ""
check_match "lookup with ranges holding no prefixes" \
	"$(run lookup --ranges "$TMP/emptyranges" 10.1.2.3)" \
	"^2\|archeio: no ranges loaded: .*$TMP/emptyranges.* no prefixes"

# A server with no prefixes serves, but says at start that every client is unlisted.
serve_warning() { # FLAGS...: the start-up lines of a server with no prefixes
	local port log="$TMP/serve-$RANDOM.log" pid
	port=$(free_port)
	"$ARCHEIO" serve --listen "127.0.0.1:$port" --workers 1 "$@" >"$log" 2>&1 &
	pid=$!
	wait_for_log "$log" "listening on" 10 >/dev/null
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	grep ' warn ' "$log"
}
check_match "serve with an empty ranges directory warns" "$(serve_warning --ranges "$TMP/emptyranges")" \
	"warn no ranges loaded: .* every client is unlisted and gets the \* mirror rule"
check_match "serve without --ranges warns" "$(serve_warning)" \
	"warn no ranges loaded: no --ranges given; every client is unlisted and gets the \* mirror rule"

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
