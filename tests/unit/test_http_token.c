/* core/http_token: RFC 9110 tchar, byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/core/http_token.h"

/* The RFC's list, written out: every other byte is not a tchar. */
static const char tchars[] = "!#$%&'*+-.^_`|~"
			     "0123456789"
			     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			     "abcdefghijklmnopqrstuvwxyz";

static void every_byte_matches_the_rfc_list(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		bool want = c != 0 && memchr(tchars, (int)c, sizeof(tchars) - 1) != NULL;
		if (http_is_tchar((unsigned char)c) != want)
			fail_msg("http_is_tchar(0x%02x) = %d, want %d", c, !want, want);
	}
}

static void separators_are_not_tchars(void **state)
{
	(void)state;
	const char *separators = "\"(),/:;<=>?@[\\]{} \t";
	for (const char *p = separators; *p; p++)
		assert_false(http_is_tchar((unsigned char)*p));
	assert_false(http_is_tchar('\0'));
	assert_false(http_is_tchar(0x7f));
	assert_false(http_is_tchar(0xc3)); /* UTF-8 lead byte */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_byte_matches_the_rfc_list),
	    cmocka_unit_test(separators_are_not_tchars),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
