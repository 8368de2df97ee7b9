#!/usr/bin/env bash
# Checks that the source tree keeps its layout. Run from the repository root
# (or give the root as the only argument); `make check-unit` runs it.
#
#  1. Calls go one way: the files of a subsystem (user/<sub>/ and its public
#     headers include/archeio/<sub>/) include only the public headers of the
#     subsystems it may call (MAY_CALL below), and production code includes no
#     other folder's internal headers.
#  2. Functions stay readable: no function in user/ is longer than MAX_LINES
#     lines or has a (traditional McCabe, per pmccabe) cyclomatic complexity
#     over MAX_COMPLEXITY, unless a comment ending within the 3 lines above it
#     contains "complexity:" and says why (a parser's grammar, say).
#
# Known violations that a change in flight removes are listed in
# scripts/layout-allowlist.txt; they are printed but do not fail. An entry
# that matches nothing fails, so the list shrinks as the fixes land.
# Exit status: 0 clean, 1 violations, 2 cannot check.
set -euo pipefail
cd "${1:-.}"

MAX_LINES=60
MAX_COMPLEXITY=20
ALLOWLIST=scripts/layout-allowlist.txt

# Which subsystems each may call, besides itself (the intended direction:
# cmd -> server -> {http, contract, mirrorcheck, xdp, geo, metrics} -> core;
# mirrortool -> core; xdp -> geo, mirrorcheck -> geo).
declare -A MAY_CALL=(
	[core]=""
	[geo]="core"
	[xdp]="geo core"
	[contract]="core"
	[mirrorcheck]="geo core"
	[http]="core"
	[metrics]="core"
	[server]="core geo xdp contract mirrorcheck http metrics"
	[mirrortool]="core"
	[cmd]="core geo xdp contract mirrorcheck http metrics server mirrortool"
)

if ! command -v pmccabe >/dev/null 2>&1; then
	echo "check-layout: pmccabe is not installed (scripts/install-deps.sh installs it)" >&2
	exit 2
fi
if [ ! -d user ] || [ ! -d include/archeio ]; then
	echo "check-layout: run from the repository root (no user/ or include/archeio/ in $PWD)" >&2
	exit 2
fi

declare -A allowed=() # allowlist key -> 1
declare -A used=()    # allowlist keys that matched a violation
if [ -f "$ALLOWLIST" ]; then
	while IFS= read -r entry; do
		entry="${entry%%#*}"
		entry="${entry//[[:space:]]/}"
		[ -n "$entry" ] && allowed[$entry]=1
	done <"$ALLOWLIST"
fi

violations=0
# report KEY MESSAGE: a violation, unless KEY is on the allowlist.
report() {
	if [ -n "${allowed[$1]:-}" ]; then
		used[$1]=1
		echo "allowed for now ($ALLOWLIST): $2"
	else
		violations=$((violations + 1))
		echo "layout violation: $2"
	fi
}

may_include() { # SUBSYSTEM CALLEE
	[ "$1" = "$2" ] && return 0
	local s
	for s in ${MAY_CALL[$1]}; do [ "$s" = "$2" ] && return 0; done
	return 1
}

# check_includes SUBSYSTEM FILE...
check_includes() {
	local sub=$1 file line header callee
	shift
	for file in "$@"; do
		while IFS=: read -r line header; do
			case "$header" in
			archeio/*/*)
				callee="${header#archeio/}"
				callee="${callee%%/*}"
				if [ -z "${MAY_CALL[$callee]+set}" ]; then
					report "$file:$header" "$file:$line includes $header: there is no subsystem '$callee'"
				elif ! may_include "$sub" "$callee"; then
					report "$file:$header" "$file:$line: $sub may not include $header ($sub may call: ${MAY_CALL[$sub]:-nothing})"
				fi
				;;
			archeio/*) ;; # shared by every side, e.g. the BPF map layouts
			*)
				# Internal headers are reached as "name.h" from their own folder.
				report "$file:$header" "$file:$line includes $header: another folder's internal header (include its public header under include/archeio/)"
				;;
			esac
		done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*/' "$file" |
			sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/' || true)
	done
}

for dir in user/*/; do
	sub=$(basename "$dir")
	if [ -z "${MAY_CALL[$sub]+set}" ]; then
		report "$dir" "$dir is not a known subsystem: add it to MAY_CALL in scripts/check-layout.sh and give it a README.md"
		continue
	fi
	shopt -s nullglob
	check_includes "$sub" "$dir"*.c "$dir"*.h include/archeio/"$sub"/*.h
	shopt -u nullglob
done

# justified FILE LINE: a comment ending in the 3 lines above LINE says "complexity:".
justified() {
	awk -v def="$2" '
		{ text[NR] = $0 }
		END {
			for (end = def - 1; end >= def - 3 && end >= 1; end--)
				if (text[end] ~ /\*\//) break
			if (end < def - 3 || end < 1) exit 1
			for (start = end; start >= 1; start--) {
				if (text[start] ~ /complexity:/) exit 0
				if (text[start] ~ /\/\*/) break
			}
			exit 1
		}' "$1"
}

# pmccabe: modified, traditional complexity, statements, first line, lines, "file(line): name".
while read -r _ complexity _ first lines where name; do
	file="${where%%(*}"
	too_long=$((lines > MAX_LINES))
	too_complex=$((complexity > MAX_COMPLEXITY))
	[ "$too_long" -eq 1 ] || [ "$too_complex" -eq 1 ] || continue
	justified "$file" "$first" && continue
	what=""
	[ "$too_long" -eq 1 ] && what="$lines lines (at most $MAX_LINES)"
	[ "$too_complex" -eq 1 ] && what="${what:+$what, }complexity $complexity (at most $MAX_COMPLEXITY)"
	report "$file:$name" "$file:$first: $name: $what; split it into named steps, or say why not in a 'complexity:' comment above it"
done < <(find user -name '*.c' -print0 | sort -z | xargs -0 pmccabe)

stale=0
for entry in "${!allowed[@]}"; do
	if [ -z "${used[$entry]:-}" ]; then
		stale=$((stale + 1))
		echo "stale allowlist entry: $entry matches no violation any more: remove it from $ALLOWLIST"
	fi
done

if [ "$violations" -gt 0 ] || [ "$stale" -gt 0 ]; then
	echo "check-layout: $violations violation(s), $stale stale allowlist entr(y/ies)"
	exit 1
fi
echo "check-layout: ok (${#used[@]} allowlisted)"
