/* archeio-mirror's failure list: every line added is counted under its kind,
 * so the summary line can count what the list shows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirrortool/failures.h"

static void test_counts_by_kind(void **state)
{
	(void)state;
	struct failures f;
	failures_init(&f);
	failures_add(&f, FAILURE_LISTING, "test/img: listing tags: %s", "HTTP 404");
	failures_add(&f, FAILURE_IMAGE, "test/img:v1: manifest: invalid JSON");
	failures_add(&f, FAILURE_IMAGE, "test/img:v2: HTTP 404");
	failures_add(&f, FAILURE_BLOB, "test/img@sha256:aa: digest mismatch");
	failures_add(&f, FAILURE_RECORD, "test/img:v3: cannot create");
	failures_add(&f, FAILURE_SETUP, "cannot create an HTTP handle");
	size_t by_kind[FAILURE_KINDS];
	failures_by_kind(&f, by_kind);
	assert_int_equal(by_kind[FAILURE_BLOB], 1);
	assert_int_equal(by_kind[FAILURE_IMAGE], 2);
	assert_int_equal(by_kind[FAILURE_LISTING], 1);
	assert_int_equal(by_kind[FAILURE_RECORD], 1);
	assert_int_equal(by_kind[FAILURE_SETUP], 1);
	size_t sum = 0;
	for (size_t i = 0; i < FAILURE_KINDS; i++)
		sum += by_kind[i];
	assert_int_equal(sum, failures_count(&f));

	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	failures_print(&f, out);
	fclose(out);
	assert_non_null(strstr(text, "failures (6):\n  test/img: listing tags: HTTP 404\n"));
	free(text);
	failures_destroy(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counts_by_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
