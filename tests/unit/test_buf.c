/* core/buf: growth, limits, consume. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/core/buf.h"

static void append_grows_and_keeps_bytes(void **state)
{
	(void)state;
	struct buf b = {0};
	char chunk[1000];
	for (int i = 0; i < 10; i++) {
		memset(chunk, 'a' + i, sizeof(chunk));
		assert_true(buf_append(&b, chunk, sizeof(chunk), 0));
	}
	assert_int_equal(b.len, 10000);
	assert_true(b.cap >= 10000);
	for (int i = 0; i < 10; i++)
		assert_int_equal(b.data[i * 1000 + 999], 'a' + i);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void limit_refuses_and_leaves_buffer_unchanged(void **state)
{
	(void)state;
	struct buf b = {0};
	assert_true(buf_append(&b, "0123456789", 10, 16));
	assert_false(buf_append(&b, "0123456789", 10, 16));
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "0123456789", 10);
	assert_true(buf_append(&b, "abcdef", 6, 16));
	assert_int_equal(b.len, 16);
	assert_false(buf_reserve(&b, (size_t)-1, 0)); /* overflow is refused, not wrapped */
	buf_free(&b);
}

static void consume_keeps_the_rest_at_the_front(void **state)
{
	(void)state;
	struct buf b = {0};
	assert_true(buf_append(&b, "headtail", 8, 0));
	buf_consume(&b, 4);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "tail", 4);
	buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_true(buf_append(&b, "", 0, 0));
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(append_grows_and_keeps_bytes),
	    cmocka_unit_test(limit_refuses_and_leaves_buffer_unchanged),
	    cmocka_unit_test(consume_keeps_the_rest_at_the_front),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
