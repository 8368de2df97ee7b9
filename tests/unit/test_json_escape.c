/* core/json_escape: which bytes are escaped, how, and how a bounded escape
 * cuts a long value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/core/json_escape.h"

static void plain_span_stops_at_the_first_special(void **state)
{
	(void)state;
	assert_int_equal(json_plain_span(""), 0);
	assert_int_equal(json_plain_span("https://r.example/v2/a?b=c&d=<e>'f'"), 35);
	assert_int_equal(json_plain_span("ab\"c"), 2);
	assert_int_equal(json_plain_span("ab\\c"), 2);
	assert_int_equal(json_plain_span("ab\x1f"), 2);
	assert_int_equal(json_plain_span("\x01"), 0);
	/* DEL and UTF-8 need no escaping in JSON. */
	assert_int_equal(json_plain_span("\x7f"
					 "caf\xc3\xa9"),
			 6);
}

static void escape_byte_covers_quote_backslash_and_controls(void **state)
{
	(void)state;
	char tmp[JSON_ESCAPE_MAX];
	assert_string_equal(json_escape_byte('"', tmp), "\\\"");
	assert_string_equal(json_escape_byte('\\', tmp), "\\\\");
	assert_string_equal(json_escape_byte('\n', tmp), "\\u000a");
	assert_string_equal(json_escape_byte(0x01, tmp), "\\u0001");
	assert_string_equal(json_escape_byte(0x1f, tmp), "\\u001f");
	assert_null(json_escape_byte(' ', tmp));
	assert_null(json_escape_byte('/', tmp));
	assert_null(json_escape_byte(0x7f, tmp));
	assert_null(json_escape_byte(0xc3, tmp));
	/* Every byte json_plain_span stops at has an escape, and no other does. */
	for (unsigned c = 1; c < 256; c++) {
		char one[2] = {(char)c, '\0'};
		bool special = json_plain_span(one) == 0;
		if ((json_escape_byte((unsigned char)c, tmp) != NULL) != special)
			fail_msg("byte 0x%02x: span and escape disagree", c);
	}
}

static void escape_writes_the_whole_value_when_it_fits(void **state)
{
	(void)state;
	char out[64];
	json_escape(out, sizeof(out), "/v2/a\nb\x01 \"q\" \\");
	assert_string_equal(out, "/v2/a\\u000ab\\u0001 \\\"q\\\" \\\\");
	json_escape(out, sizeof(out), "");
	assert_string_equal(out, "");
}

static void escape_cuts_long_values_between_escapes(void **state)
{
	(void)state;
	char out[16];
	char big[64];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	/* Bytes are taken while room for a whole escape and the NUL is left:
	 * 16 - 7 = 9 plain bytes. */
	json_escape(out, sizeof(out), big);
	assert_string_equal(out, "xxxxxxxxx");
	/* An escape that starts in the room is written whole. */
	json_escape(out, sizeof(out), "xxxxxxxx\n\n\n");
	assert_string_equal(out, "xxxxxxxx\\u000a");
	/* A buffer with no room for an escape stays a valid, empty string. */
	json_escape(out, JSON_ESCAPE_MAX, "abc");
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(plain_span_stops_at_the_first_special),
	    cmocka_unit_test(escape_byte_covers_quote_backslash_and_controls),
	    cmocka_unit_test(escape_writes_the_whole_value_when_it_fits),
	    cmocka_unit_test(escape_cuts_long_values_between_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
