/* Durations as flags take them (core/duration.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "archeio/core/duration.h"

static void units_and_plain_seconds(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint64_t seconds;
	} good[] = {
	    {"0", 0},	      {"3600", 3600}, {"3600s", 3600},
	    {"30m", 1800},    {"12h", 43200}, {"7d", 604800},
	    {"007d", 604800}, {"1s", 1},      {"18446744073709551615", UINT64_MAX},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t got = 1234;
		if (!duration_parse_seconds(good[i].text, UINT64_MAX, &got))
			fail_msg("\"%s\" refused", good[i].text);
		assert_int_equal(got, good[i].seconds);
	}
}

static void refusals(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "d",
	    "7 d",
	    " 7d",
	    "7d ",
	    "-7d",
	    "+7d",
	    "7dd",
	    "1h30m",
	    "1.5h",
	    "7w",
	    "7D",
	    "0x10",
	    "18446744073709551616",
	    "213503982334602d",
	    NULL,
	};
	uint64_t got = 1234;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (duration_parse_seconds(bad[i], UINT64_MAX, &got))
			fail_msg("\"%s\" accepted as %llu", bad[i] ? bad[i] : "(null)",
				 (unsigned long long)got);
	assert_int_equal(got, 1234); /* untouched */
	/* The bound is checked after the unit. */
	assert_true(duration_parse_seconds("10d", 864000, &got));
	assert_false(duration_parse_seconds("10d", 863999, &got));
	assert_false(duration_parse_seconds("3651d", 3650 * 86400ull, &got));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(units_and_plain_seconds),
	    cmocka_unit_test(refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
