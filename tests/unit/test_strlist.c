/* The string list both binaries keep repeatable flags and arguments in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/core/strlist.h"

static void append_copies_and_free_empties(void **state)
{
	(void)state;
	char **items = NULL;
	size_t count = 0;
	char value[] = "first";
	assert_true(strlist_append(&items, &count, value));
	value[0] = 'F'; /* the list holds its own copy */
	assert_true(strlist_append(&items, &count, ""));
	assert_true(strlist_append(&items, &count, "third"));
	assert_int_equal(count, 3);
	assert_string_equal(items[0], "first");
	assert_string_equal(items[1], "");
	assert_string_equal(items[2], "third");
	strlist_free(&items, &count);
	assert_null(items);
	assert_int_equal(count, 0);
	strlist_free(&items, &count); /* an empty list frees to itself */
	assert_true(strlist_append(&items, &count, "again"));
	assert_int_equal(count, 1);
	strlist_free(&items, &count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(append_copies_and_free_empties),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
