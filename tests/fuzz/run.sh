#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c against the sanitized libraries in
# FUZZ_BUILD (made by `make fuzz`), replays its saved regressions
# (tests/fuzz/regressions/NAME/*: inputs that once failed), then fuzzes it for
# SECONDS from the seed corpus (tests/fuzz/corpus/NAME; new inputs go to
# FUZZ_BUILD/corpus/NAME, never into the repository). Any crash, leak,
# sanitizer report or failed property fails the run; the input is kept in
# FUZZ_BUILD/artifacts/. Usage: tests/fuzz/run.sh FUZZ_BUILD SECONDS [NAME...]
set -u
cd "$(dirname "$0")/../.."
B=$1
SECONDS_EACH=$2
shift 2
LIBS="$B/libmirrortool.a $B/libarcheio.a $B/libcore.a"
LDLIBS="-lxdp -lbpf -lelf -lz -levent_pthreads -levent -lcurl -ljansson -lssl -lcrypto -lpthread"
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
mkdir -p "$B/fuzz" "$B/artifacts"
names=("$@")
[ ${#names[@]} -gt 0 ] || for f in tests/fuzz/fuzz_*.c; do names+=("$(basename "$f" .c)"); done
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
passed=0 failed=0 bad=()
for name in "${names[@]}"; do
	echo "=== $name"
	# A harness may name more sources on a " * fuzz-link: FILE..." line (a
	# differential one links the reference it compares with).
	extra=$(sed -n 's#^ \* fuzz-link: ##p' "tests/fuzz/$name.c")
	# shellcheck disable=SC2086 # $extra: a list of paths
	if ! clang -std=c11 -D_GNU_SOURCE -g -O1 $SAN -Wall -Wextra -Werror -Iinclude -Iuser -I"$B/include" \
		"tests/fuzz/$name.c" $extra $LIBS $LDLIBS -o "$B/fuzz/$name"; then
		failed=$((failed + 1)); bad+=("$name(build)"); continue
	fi
	if [ -d "tests/fuzz/regressions/$name" ] && ! "$B/fuzz/$name" "tests/fuzz/regressions/$name"/* >"$B/fuzz/$name.regress.log" 2>&1; then
		tail -30 "$B/fuzz/$name.regress.log"
		failed=$((failed + 1)); bad+=("$name(regression)"); continue
	fi
	mkdir -p "$B/corpus/$name"
	if "$B/fuzz/$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$B/artifacts/$name-" "$B/corpus/$name" "tests/fuzz/corpus/$name" >"$B/fuzz/$name.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/fuzz/$name.log")
		echo "$name: $execs executions in ${SECONDS_EACH}s, no finding"
		passed=$((passed + 1))
	else
		grep -E 'ERROR|property failed|SUMMARY|Test unit written' "$B/fuzz/$name.log" | head -20
		failed=$((failed + 1)); bad+=("$name")
	fi
done
[ ${#bad[@]} -eq 0 ] || echo "fuzz findings: ${bad[*]} (inputs in $B/artifacts/)"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
