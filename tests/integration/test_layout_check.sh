#!/usr/bin/env bash
# scripts/check-layout.sh can fail: on a copy of the tree it passes, and each
# planted violation (an include against the call direction, another folder's
# internal header, a 70-line function, a too complex one, an unknown folder, a
# stale allowlist entry) makes it exit 1 naming the violation.
source "$(dirname "$0")/../lib/common.sh"
require_cmd pmccabe

# fresh_copy: the tree's layout-relevant parts in $TMP/tree.
fresh_copy() {
	rm -rf "$TMP/tree"
	mkdir -p "$TMP/tree"
	cp -r "$ROOT/user" "$ROOT/include" "$ROOT/scripts" "$TMP/tree/"
}

# run_check: prints "EXIT|output" of the check on the copy.
run_check() {
	local out rc=0
	out=$(bash "$TMP/tree/scripts/check-layout.sh" "$TMP/tree" 2>&1) || rc=$?
	echo "$rc|$out"
}

# long_function NAME LINES [COMMENT]: a C function of about LINES lines.
long_function() {
	[ -z "${3:-}" ] || echo "/* $3 */"
	echo "int $1(int x);"
	echo "int $1(int x)"
	echo "{"
	for ((i = 0; i < $2 - 3; i++)); do echo "	x += $i;"; done
	echo "	return x;"
	echo "}"
}

# branchy_function NAME BRANCHES: short, with one if per branch.
branchy_function() {
	echo "int $1(int x);"
	echo "int $1(int x)"
	echo "{"
	for ((i = 0; i < $2; i++)); do echo "	if (x == $i) return $i;"; done
	echo "	return -1;"
	echo "}"
}

fresh_copy
check_match "the tree as it is passes" "$(run_check)" "^0\|.*check-layout: ok"

fresh_copy
sed -i '0,/^#include/s//#include "archeio\/server\/config.h"\n#include/' "$TMP/tree/user/core/ip.c"
check_match "core including a server header fails" "$(run_check)" \
	"^1\|.*layout violation: user/core/ip.c:[0-9]+: core may not include archeio/server/config.h"

fresh_copy
echo '#include "geo/ranges_internal.h"' >>"$TMP/tree/user/server/lookup_cmd.c"
check_match "another folder's internal header fails" "$(run_check)" \
	"^1\|.*layout violation: user/server/lookup_cmd.c:[0-9]+ includes geo/ranges_internal.h: another folder's internal header"

fresh_copy
long_function planted_long 70 >>"$TMP/tree/user/geo/region.c"
check_match "a 70-line function fails" "$(run_check)" \
	"^1\|.*layout violation: user/geo/region.c:[0-9]+: planted_long: 7[0-9] lines \(at most 60\)"

fresh_copy
long_function planted_long 70 "complexity: a planted table, one step a line" >>"$TMP/tree/user/geo/region.c"
check_match "a 70-line function that says why passes" "$(run_check)" "^0\|"

fresh_copy
branchy_function planted_branchy 25 >>"$TMP/tree/user/geo/region.c"
check_match "a function of complexity 26 fails" "$(run_check)" \
	"^1\|.*layout violation: user/geo/region.c:[0-9]+: planted_branchy: complexity 26 \(at most 20\)"

fresh_copy
mkdir "$TMP/tree/user/stray"
echo 'int stray(void);' >"$TMP/tree/user/stray/stray.c"
check_match "an unknown folder under user/ fails" "$(run_check)" \
	"^1\|.*layout violation: user/stray/ is not a known subsystem"

fresh_copy
echo "user/geo/region.c:no_such_function" >>"$TMP/tree/scripts/layout-allowlist.txt"
check_match "a stale allowlist entry fails" "$(run_check)" \
	"^1\|.*stale allowlist entry: user/geo/region.c:no_such_function"

finish
