/* Token bucket arithmetic and retry backoff. The clock is a number here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mirrortool/backoff.h"
#include "mirrortool/token_bucket.h"

#define MS 1000000ULL
#define S 1000000000ULL

static void test_burst_then_rate(void **state)
{
	(void)state;
	struct token_bucket tb;
	token_bucket_init(&tb, 10.0, 2.0, 5 * S);
	assert_int_equal(token_bucket_reserve(&tb, 5 * S), 0);
	assert_int_equal(token_bucket_reserve(&tb, 5 * S), 0);
	/* Bucket empty: the third waits one interval, the fourth two. */
	assert_int_equal(token_bucket_reserve(&tb, 5 * S), 100 * MS);
	assert_int_equal(token_bucket_reserve(&tb, 5 * S), 200 * MS);
	/* 300 ms later two tokens were owed and one more accrued: go at once. */
	assert_int_equal(token_bucket_reserve(&tb, 5 * S + 300 * MS), 0);
}

static void test_refill_capped_at_burst(void **state)
{
	(void)state;
	struct token_bucket tb;
	token_bucket_init(&tb, 1.0, 3.0, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(token_bucket_reserve(&tb, 0), 0);
	/* An hour idle refills only up to the burst. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(token_bucket_reserve(&tb, 3600 * S), 0);
	assert_int_equal(token_bucket_reserve(&tb, 3600 * S), 1 * S);
}

static void test_unlimited_and_clock_backwards(void **state)
{
	(void)state;
	struct token_bucket tb;
	token_bucket_init(&tb, 0, 1, 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(token_bucket_reserve(&tb, 0), 0);
	token_bucket_init(&tb, 2.0, 1.0, 10 * S);
	assert_int_equal(token_bucket_reserve(&tb, 10 * S), 0);
	assert_int_equal(token_bucket_reserve(&tb, 1 * S), 500 * MS);
}

static void test_retryable_statuses(void **state)
{
	(void)state;
	assert_true(backoff_status_retryable(429));
	assert_true(backoff_status_retryable(408));
	assert_true(backoff_status_retryable(500));
	assert_true(backoff_status_retryable(502));
	assert_true(backoff_status_retryable(503));
	assert_false(backoff_status_retryable(501));
	assert_false(backoff_status_retryable(404));
	assert_false(backoff_status_retryable(401));
	assert_false(backoff_status_retryable(200));
}

static void test_exponential_capped_jittered(void **state)
{
	(void)state;
	assert_int_equal(backoff_delay_ms(0, 200, 10000, 0.0), 100);
	assert_int_equal(backoff_delay_ms(0, 200, 10000, 0.5), 150);
	assert_int_equal(backoff_delay_ms(1, 200, 10000, 0.0), 200);
	assert_int_equal(backoff_delay_ms(3, 200, 10000, 0.0), 800);
	assert_int_equal(backoff_delay_ms(30, 200, 10000, 0.0), 5000);
	assert_true(backoff_delay_ms(30, 200, 10000, 0.999) < 10000);
	assert_int_equal(backoff_delay_ms(2, 200, 10000, 7.0),
			 backoff_delay_ms(2, 200, 10000, 0.9999999));
}

static void test_retry_after(void **state)
{
	(void)state;
	assert_int_equal(backoff_retry_after_ms("3", 60000), 3000);
	assert_int_equal(backoff_retry_after_ms(" 2 ", 60000), 2000);
	assert_int_equal(backoff_retry_after_ms("99999999999999999999", 60000), 60000);
	assert_int_equal(backoff_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 60000), 0);
	assert_int_equal(backoff_retry_after_ms("1.5", 60000), 0);
	assert_int_equal(backoff_retry_after_ms(NULL, 60000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_rate),
	    cmocka_unit_test(test_refill_capped_at_burst),
	    cmocka_unit_test(test_unlimited_and_clock_backwards),
	    cmocka_unit_test(test_retryable_statuses),
	    cmocka_unit_test(test_exponential_capped_jittered),
	    cmocka_unit_test(test_retry_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
