/* mirror_health: when a failing mirror origin is worth a line (the clock is
 * injected): its first failure, then at most one more per interval while it
 * fails, its recovery once; origins apart; shared by threads, still once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "archeio/mirrorcheck/mirror_health.h"

#define M1 "http://m1:80/"
#define M2 "https://m2/"

static enum mirror_health_say say(struct mirror_health *h, const char *origin, bool failed,
				  uint64_t now)
{
	return mirror_health_record(h, origin, strlen(origin), failed, now).say;
}

static void test_one_warning_per_interval(void **state)
{
	(void)state;
	struct mirror_health *h = mirror_health_new(1000);
	assert_non_null(h);
	assert_int_equal(say(h, M1, false, 0), MIRROR_HEALTH_QUIET); /* healthy: nothing */
	assert_int_equal(say(h, M1, true, 100), MIRROR_HEALTH_FAILING);
	for (uint64_t t = 101; t < 1100; t += 50)
		assert_int_equal(say(h, M1, true, t), MIRROR_HEALTH_QUIET);
	struct mirror_health_report r = mirror_health_record(h, M1, strlen(M1), true, 1100);
	assert_int_equal(r.say, MIRROR_HEALTH_STILL_FAILING);
	assert_int_equal(r.failed_checks, 21); /* 20 quiet ones and this one */
	assert_int_equal(say(h, M1, true, 2099), MIRROR_HEALTH_QUIET);
	r = mirror_health_record(h, M1, strlen(M1), false, 2500);
	assert_int_equal(r.say, MIRROR_HEALTH_RECOVERED);
	assert_int_equal(r.failed_checks, 23);
	assert_int_equal(r.down_ms, 2400);
	assert_int_equal(say(h, M1, false, 2600), MIRROR_HEALTH_QUIET);	 /* once */
	assert_int_equal(say(h, M1, true, 2700), MIRROR_HEALTH_FAILING); /* a new outage */
	mirror_health_free(h);
}

static void test_origins_are_apart(void **state)
{
	(void)state;
	struct mirror_health *h = mirror_health_new(1000);
	assert_int_equal(say(h, M1, true, 0), MIRROR_HEALTH_FAILING);
	assert_int_equal(say(h, M2, true, 1), MIRROR_HEALTH_FAILING);
	assert_int_equal(say(h, M2, false, 2), MIRROR_HEALTH_RECOVERED);
	assert_int_equal(say(h, M1, true, 3), MIRROR_HEALTH_QUIET);
	/* Only the origin's bytes count: a prefix of a longer one is another. */
	assert_int_equal(mirror_health_record(h, M1 "x", strlen(M1) - 1, true, 4).say,
			 MIRROR_HEALTH_FAILING);
	for (int i = 0; i < 100; i++) { /* growth keeps every record */
		char origin[32];
		int n = snprintf(origin, sizeof(origin), "http://h%d/", i);
		assert_int_equal(mirror_health_record(h, origin, (size_t)n, true, 5).say,
				 MIRROR_HEALTH_FAILING);
	}
	assert_int_equal(say(h, M1, false, 6), MIRROR_HEALTH_RECOVERED);
	assert_int_equal(say(h, "http://h42/", false, 6), MIRROR_HEALTH_RECOVERED);
	assert_int_equal(say(h, "http://h43/", true, 7), MIRROR_HEALTH_QUIET);
	mirror_health_free(h);
}

static void test_defaults_and_bad_arguments(void **state)
{
	(void)state;
	struct mirror_health *h = mirror_health_new(0); /* 5000 ms */
	assert_int_equal(say(h, M1, true, 0), MIRROR_HEALTH_FAILING);
	assert_int_equal(say(h, M1, true, 4999), MIRROR_HEALTH_QUIET);
	assert_int_equal(say(h, M1, true, 5000), MIRROR_HEALTH_STILL_FAILING);
	/* A clock that went backwards does not silence the origin for ever. */
	assert_int_equal(say(h, M1, true, 10), MIRROR_HEALTH_STILL_FAILING);
	assert_int_equal(mirror_health_record(NULL, M1, 3, true, 0).say, MIRROR_HEALTH_QUIET);
	assert_int_equal(mirror_health_record(h, NULL, 3, true, 0).say, MIRROR_HEALTH_QUIET);
	mirror_health_free(h);
	mirror_health_free(NULL);
}

struct shared {
	struct mirror_health *h;
	atomic_int failing;
	atomic_int recovered;
};

static void *hammer(void *arg)
{
	struct shared *s = arg;
	for (int i = 0; i < 2000; i++)
		if (say(s->h, M1, true, 100) == MIRROR_HEALTH_FAILING)
			atomic_fetch_add(&s->failing, 1);
	return NULL;
}

/* Workers share one tracker: four threads failing at once make one warning. */
static void test_threads_share_one_warning(void **state)
{
	(void)state;
	struct shared s = {.h = mirror_health_new(1000)};
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, hammer, &s), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&s.failing), 1);
	struct mirror_health_report r = mirror_health_record(s.h, M1, strlen(M1), false, 200);
	assert_int_equal(r.say, MIRROR_HEALTH_RECOVERED);
	assert_int_equal(r.failed_checks, 8000);
	mirror_health_free(s.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_warning_per_interval),
	    cmocka_unit_test(test_origins_are_apart),
	    cmocka_unit_test(test_defaults_and_bad_arguments),
	    cmocka_unit_test(test_threads_share_one_warning),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
