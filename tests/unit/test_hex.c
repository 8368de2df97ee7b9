/* Lower-case hex: the word-at-a-time check and decode against a plain
 * per-character reference, on every byte value in every position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/core/hex.h"

static int reference_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void test_decodes_a_digest(void **state)
{
	(void)state;
	const char *hex = "0123456789abcdeffedcba987654321000ff10a0b0c0d0e0f0aa55cc33deadbeef";
	uint8_t out[32];
	assert_true(hex_lower_valid(hex, 64));
	assert_true(hex_lower_decode(hex, 64, out));
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(out[i], reference_value((unsigned char)hex[2 * i]) << 4 |
					     reference_value((unsigned char)hex[2 * i + 1]));
}

/* Every byte value, in each of the 8 positions of a word and in the tail,
 * is accepted exactly when it is [0-9a-f]: upper case, the neighbours of the
 * ranges ('/', ':', '`', 'g') and bytes with the high bit are refused. */
static void test_every_byte_in_every_position(void **state)
{
	(void)state;
	for (size_t pos = 0; pos < 12; pos++) {
		for (unsigned c = 0; c < 256; c++) {
			char s[12];
			memset(s, 'a', sizeof(s));
			s[pos] = (char)c;
			bool want = reference_value((unsigned char)c) >= 0;
			uint8_t out[6];
			assert_int_equal(hex_lower_valid(s, sizeof(s)), want);
			assert_int_equal(hex_lower_decode(s, sizeof(s), out), want);
			if (want)
				assert_int_equal(pos % 2 ? out[pos / 2] & 0x0f : out[pos / 2] >> 4,
						 reference_value((unsigned char)c));
		}
	}
}

static void test_lengths(void **state)
{
	(void)state;
	uint8_t out[8];
	assert_true(hex_lower_valid("", 0));
	assert_true(hex_lower_decode("", 0, out));
	assert_false(hex_lower_decode("abc", 3, out));
	assert_true(hex_lower_valid("abc", 3));
	assert_false(hex_lower_valid("ABCDEF0123456789", 16));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decodes_a_digest),
	    cmocka_unit_test(test_every_byte_in_every_position),
	    cmocka_unit_test(test_lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
