/* The estimate of time left on archeio-mirror's live progress line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mirrortool/eta.h"
#include "mirrortool/progress.h"

#define MIB (1024ULL * 1024)

static void test_eta_units(void **state)
{
	(void)state;
	char buf[64];
	eta_format(42 * MIB, 1.0 * MIB, buf, sizeof(buf));
	assert_string_equal(buf, "about 42s left");
	eta_format(245 * MIB, 1.0 * MIB, buf, sizeof(buf));
	assert_string_equal(buf, "about 4m05s left");
	eta_format(7380 * MIB, 1.0 * MIB, buf, sizeof(buf));
	assert_string_equal(buf, "about 2h03m left");
	/* A fraction of a second left is still time left. */
	eta_format(1, 1000.0, buf, sizeof(buf));
	assert_string_equal(buf, "about 1s left");
}

static void test_eta_unknown_or_done(void **state)
{
	(void)state;
	char buf[64] = "stale";
	eta_format(100, 0.0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	strcpy(buf, "stale");
	eta_format(0, 1e6, buf, sizeof(buf));
	assert_string_equal(buf, "");
	eta_format(UINT64_MAX, 1.0, buf, sizeof(buf));
	assert_string_equal(buf, "more than 99h left");
}

static void test_live_line_has_rate_and_eta(void **state)
{
	(void)state;
	/* 10 MiB downloaded in 10 s, 20 MiB present, 100 MiB in all: 70 MiB
	 * left at 1 MiB/s. Present blobs are not waited for. */
	struct progress_counts c = {.blobs_total = 4,
				    .blobs_copied = 1,
				    .blobs_skipped = 1,
				    .bytes_total = 100 * MIB,
				    .bytes_done = 10 * MIB,
				    .bytes_present = 20 * MIB};
	char line[512], summary[512];
	progress_format_live(&c, 10.0, line, sizeof(line));
	progress_format(&c, 10.0, summary, sizeof(summary));
	assert_non_null(strstr(line, "1.0 MiB/s"));
	assert_non_null(strstr(line, ", about 1m10s left"));
	/* The live line is the summary's text plus the estimate. */
	assert_memory_equal(line, summary, strlen(summary));
	assert_null(strstr(summary, "left"));
	/* Before the first byte there is no rate, hence no estimate. */
	c.bytes_done = 0;
	progress_format_live(&c, 0.5, line, sizeof(line));
	assert_null(strstr(line, "left"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eta_units),
	    cmocka_unit_test(test_eta_unknown_or_done),
	    cmocka_unit_test(test_live_line_has_rate_and_eta),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
