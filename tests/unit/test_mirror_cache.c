/* mirror_cache: TTLs at their exact boundaries (the clock is injected), LRU
 * order and bound, coalescing of concurrent lookups, reentrant waiters, and
 * pending entries that are never evicted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "archeio/mirrorcheck/mirror_cache.h"
#include "helpers/mirror_cache_size.h"

#define URL_A "http://127.0.0.1:1/containers/images/sha256:aa"
#define URL_B "http://127.0.0.1:1/containers/images/sha256:bb"
#define URL_C "http://127.0.0.1:1/containers/images/sha256:cc"
#define URL_D "http://127.0.0.1:1/containers/images/sha256:dd"

struct record {
	int calls;
	bool present;
	int order; /* position among all calls into a shared counter */
	int *clock;
};

static void record_answer(void *arg, bool present)
{
	struct record *r = arg;

	r->calls++;
	r->present = present;
	if (r->clock)
		r->order = (*r->clock)++;
}

static struct mirror_cache *new_cache(size_t max_entries, uint64_t present_ttl, uint64_t absent_ttl)
{
	struct mirror_cache_options o = {
	    .max_entries = max_entries,
	    .present_ttl_ms = present_ttl,
	    .absent_ttl_ms = absent_ttl,
	};
	struct mirror_cache *c = mirror_cache_new(&o);

	assert_non_null(c);
	return c;
}

/* Makes url answered (present or not) at time now. */
static void answer(struct mirror_cache *c, const char *url, bool present, uint64_t now)
{
	assert_int_equal(mirror_cache_lookup(c, url, now, NULL, NULL), MIRROR_CACHE_MISS);
	mirror_cache_complete(c, url, present, now);
}

static void test_present_ttl_exact_boundary(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(16, 1000, 100);

	answer(c, URL_A, true, 5000);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 5000, NULL, NULL), MIRROR_CACHE_PRESENT);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 5999, NULL, NULL), MIRROR_CACHE_PRESENT);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 6000, NULL, NULL), MIRROR_CACHE_MISS);
	mirror_cache_free(c);
}

/* The same digest in mirrors of different regions: URLs whose hashes are
 * equal (the hash covers the last segment) are still separate answers. */
static void test_same_digest_other_mirror_is_another_entry(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(16, 1000, 1000);
	const char *use1 = "http://127.0.0.1:1/use1/containers/images/sha256:aa";
	const char *euw1 = "http://127.0.0.1:1/euw1/containers/images/sha256:aa";
	const char *cdn = "http://127.0.0.2:1/containers/images/sha256:aa";

	answer(c, use1, true, 0);
	answer(c, euw1, false, 0);
	assert_int_equal(mirror_cache_lookup(c, use1, 1, NULL, NULL), MIRROR_CACHE_PRESENT);
	assert_int_equal(mirror_cache_lookup(c, euw1, 1, NULL, NULL), MIRROR_CACHE_ABSENT);
	assert_int_equal(mirror_cache_lookup(c, cdn, 1, NULL, NULL), MIRROR_CACHE_MISS);
	mirror_cache_complete(c, cdn, true, 1);
	mirror_cache_forget(c, use1);
	assert_int_equal(mirror_cache_lookup(c, cdn, 2, NULL, NULL), MIRROR_CACHE_PRESENT);
	assert_int_equal(mirror_cache_lookup(c, euw1, 2, NULL, NULL), MIRROR_CACHE_ABSENT);
	assert_int_equal(mirror_cache_lookup(c, use1, 2, NULL, NULL), MIRROR_CACHE_MISS);
	mirror_cache_free(c);
}

static void test_absent_kept_shorter_than_present(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(16, 1000, 100);

	answer(c, URL_A, true, 0);
	answer(c, URL_B, false, 0);
	assert_int_equal(mirror_cache_lookup(c, URL_B, 99, NULL, NULL), MIRROR_CACHE_ABSENT);
	assert_int_equal(mirror_cache_lookup(c, URL_B, 100, NULL, NULL), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 100, NULL, NULL), MIRROR_CACHE_PRESENT);
	mirror_cache_free(c);
}

static void test_defaults_when_options_zero(void **state)
{
	(void)state;
	struct mirror_cache_options zero = {0};
	struct mirror_cache *c = mirror_cache_new(&zero);
	struct mirror_cache *d = mirror_cache_new(NULL);

	assert_non_null(c);
	assert_non_null(d);
	answer(c, URL_A, true, 0);
	answer(c, URL_B, false, 0);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 3600 * 1000 - 1, NULL, NULL),
			 MIRROR_CACHE_PRESENT);
	assert_int_equal(mirror_cache_lookup(c, URL_B, 10 * 1000 - 1, NULL, NULL),
			 MIRROR_CACHE_ABSENT);
	assert_int_equal(mirror_cache_lookup(c, URL_B, 10 * 1000, NULL, NULL), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 3600 * 1000, NULL, NULL), MIRROR_CACHE_MISS);

	/* Default bound: 65536 entries; one more evicts the oldest. */
	char url[64];
	for (int i = 0; i < 65537; i++) {
		snprintf(url, sizeof(url), "http://m/%d", i);
		answer(d, url, true, 0);
	}
	assert_int_equal(mirror_cache_size(d), 65536);
	assert_int_equal(mirror_cache_lookup(d, "http://m/1", 1, NULL, NULL), MIRROR_CACHE_PRESENT);
	assert_int_equal(mirror_cache_lookup(d, "http://m/0", 1, NULL, NULL), MIRROR_CACHE_MISS);
	mirror_cache_free(c);
	mirror_cache_free(d);
}

static void test_ttl_saturates_instead_of_wrapping(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(4, UINT64_MAX, 1);

	answer(c, URL_A, true, 10);
	assert_int_equal(mirror_cache_lookup(c, URL_A, UINT64_MAX - 1, NULL, NULL),
			 MIRROR_CACHE_PRESENT);
	mirror_cache_free(c);
}

static void test_lru_evicts_least_recently_used(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(3, 1000, 1000);

	answer(c, URL_A, true, 0);
	answer(c, URL_B, true, 0);
	answer(c, URL_C, false, 0);
	/* Using A makes B the least recently used. */
	assert_int_equal(mirror_cache_lookup(c, URL_A, 1, NULL, NULL), MIRROR_CACHE_PRESENT);
	answer(c, URL_D, true, 2);
	assert_int_equal(mirror_cache_size(c), 3);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 3, NULL, NULL), MIRROR_CACHE_PRESENT);
	assert_int_equal(mirror_cache_lookup(c, URL_C, 3, NULL, NULL), MIRROR_CACHE_ABSENT);
	assert_int_equal(mirror_cache_lookup(c, URL_D, 3, NULL, NULL), MIRROR_CACHE_PRESENT);
	/* B was evicted: asking again starts a new check (and evicts A, now oldest). */
	assert_int_equal(mirror_cache_lookup(c, URL_B, 3, NULL, NULL), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_size(c), 3);
	mirror_cache_complete(c, URL_B, true, 3);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 4, NULL, NULL), MIRROR_CACHE_MISS);
	mirror_cache_free(c);
}

static void test_size_bound_over_many_urls(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(100, 1000, 1000);
	char url[64];

	for (int i = 0; i < 1000; i++) {
		snprintf(url, sizeof(url), "http://m/blob/%d", i);
		answer(c, url, i % 2 == 0, 0);
		assert_true(mirror_cache_size(c) <= 100);
	}
	assert_int_equal(mirror_cache_size(c), 100);
	/* The last 100 answers survive, in their own state. */
	for (int i = 900; i < 1000; i++) {
		snprintf(url, sizeof(url), "http://m/blob/%d", i);
		assert_int_equal(mirror_cache_lookup(c, url, 1, NULL, NULL),
				 i % 2 == 0 ? MIRROR_CACHE_PRESENT : MIRROR_CACHE_ABSENT);
	}
	assert_int_equal(mirror_cache_lookup(c, "http://m/blob/899", 1, NULL, NULL),
			 MIRROR_CACHE_MISS);
	mirror_cache_free(c);
}

static void test_concurrent_lookups_coalesce(void **state)
{
	(void)state;
	enum { N = 10 };
	struct mirror_cache *c = new_cache(16, 1000, 100);
	struct record r[N] = {0};
	int clock = 0;

	for (int i = 0; i < N; i++) {
		r[i].clock = &clock;
		enum mirror_cache_state s = mirror_cache_lookup(c, URL_A, 0, record_answer, &r[i]);
		assert_int_equal(s, i == 0 ? MIRROR_CACHE_MISS : MIRROR_CACHE_PENDING);
	}
	for (int i = 0; i < N; i++)
		assert_int_equal(r[i].calls, 0);
	assert_int_equal(mirror_cache_size(c), 1);

	mirror_cache_complete(c, URL_A, true, 10);
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_true(r[i].present);
		assert_int_equal(r[i].order, i);
	}
	/* A second completion (late duplicate) calls nobody again. */
	mirror_cache_complete(c, URL_A, false, 11);
	for (int i = 0; i < N; i++)
		assert_int_equal(r[i].calls, 1);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 12, NULL, NULL), MIRROR_CACHE_PRESENT);
	mirror_cache_free(c);
}

static void test_expired_answer_becomes_pending(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(16, 1000, 100);
	struct record first = {0}, second = {0};

	answer(c, URL_A, false, 0);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 100, record_answer, &first),
			 MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 101, record_answer, &second),
			 MIRROR_CACHE_PENDING);
	mirror_cache_complete(c, URL_A, true, 200);
	assert_int_equal(first.calls, 1);
	assert_int_equal(second.calls, 1);
	assert_true(first.present && second.present);
	assert_int_equal(mirror_cache_size(c), 1);
	mirror_cache_free(c);
}

struct reentrant {
	struct mirror_cache *cache;
	int calls;
	enum mirror_cache_state same_url;
	enum mirror_cache_state other_url;
	struct record nested;
};

/* Looks its own URL up again, then asks for another URL which, with room for
 * one entry, evicts the entry being completed; then completes that one,
 * which calls a nested waiter. */
static void reentrant_waiter(void *arg, bool present)
{
	struct reentrant *re = arg;

	(void)present;
	re->calls++;
	re->same_url = mirror_cache_lookup(re->cache, URL_A, 1, NULL, NULL);
	re->other_url = mirror_cache_lookup(re->cache, URL_B, 1, record_answer, &re->nested);
	mirror_cache_complete(re->cache, URL_B, false, 1);
}

static void test_reentrant_waiters(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(1, 1000, 100);
	struct reentrant one = {.cache = c}, two = {.cache = c};

	assert_int_equal(mirror_cache_lookup(c, URL_A, 0, reentrant_waiter, &one),
			 MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 0, reentrant_waiter, &two),
			 MIRROR_CACHE_PENDING);
	mirror_cache_complete(c, URL_A, true, 1);

	assert_int_equal(one.calls, 1);
	assert_int_equal(two.calls, 1);
	assert_int_equal(one.same_url, MIRROR_CACHE_PRESENT);
	assert_int_equal(one.other_url, MIRROR_CACHE_MISS); /* evicted A */
	assert_int_equal(one.nested.calls, 1);
	/* The second waiter still ran although its entry was gone: A is a miss
	 * again (it starts a check that nobody completes, which is fine here). */
	assert_int_equal(two.same_url, MIRROR_CACHE_MISS);
	assert_int_equal(two.other_url, MIRROR_CACHE_UNCACHED); /* full of pending A */
	assert_int_equal(two.nested.calls, 0);
	assert_int_equal(mirror_cache_size(c), 1);
	mirror_cache_free(c);
}

static void test_pending_entries_are_never_evicted(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(2, 1000, 100);
	struct record a = {0}, b = {0}, late = {0};

	assert_int_equal(mirror_cache_lookup(c, URL_A, 0, record_answer, &a), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_lookup(c, URL_B, 0, record_answer, &b), MIRROR_CACHE_MISS);
	/* Full of pending entries: a new URL is neither cached nor queued. */
	assert_int_equal(mirror_cache_lookup(c, URL_C, 0, record_answer, &late),
			 MIRROR_CACHE_UNCACHED);
	assert_int_equal(mirror_cache_size(c), 2);
	mirror_cache_complete(c, URL_C, true, 0); /* not pending: ignored */
	assert_int_equal(late.calls, 0);

	/* Existing pending URLs still coalesce. */
	assert_int_equal(mirror_cache_lookup(c, URL_A, 0, record_answer, &late),
			 MIRROR_CACHE_PENDING);
	mirror_cache_complete(c, URL_A, true, 1);
	assert_int_equal(a.calls, 1);
	assert_int_equal(late.calls, 1);

	/* Now A is answered and evictable; B, still pending, must survive. */
	assert_int_equal(mirror_cache_lookup(c, URL_C, 2, NULL, NULL), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 2, NULL, NULL), MIRROR_CACHE_UNCACHED);
	mirror_cache_complete(c, URL_B, false, 3);
	assert_int_equal(b.calls, 1);
	assert_false(b.present);
	mirror_cache_complete(c, URL_C, true, 3);
	assert_int_equal(mirror_cache_lookup(c, URL_B, 4, NULL, NULL), MIRROR_CACHE_ABSENT);
	assert_int_equal(mirror_cache_lookup(c, URL_C, 4, NULL, NULL), MIRROR_CACHE_PRESENT);
	mirror_cache_free(c);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(2, 1000, 100);

	assert_int_equal(mirror_cache_lookup(c, NULL, 0, NULL, NULL), MIRROR_CACHE_UNCACHED);
	assert_int_equal(mirror_cache_lookup(NULL, URL_A, 0, NULL, NULL), MIRROR_CACHE_UNCACHED);
	mirror_cache_complete(c, NULL, true, 0);
	mirror_cache_complete(NULL, URL_A, true, 0);
	mirror_cache_complete(c, URL_D, true, 0); /* never looked up */
	assert_int_equal(mirror_cache_size(c), 0);
	assert_int_equal(mirror_cache_size(NULL), 0);
	mirror_cache_free(NULL);

	/* An empty URL is just a key like any other. */
	answer(c, "", true, 0);
	assert_int_equal(mirror_cache_lookup(c, "", 1, NULL, NULL), MIRROR_CACHE_PRESENT);
	mirror_cache_free(c);
}

static void test_forget_present_of_one_origin(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(16, 100000, 100000);
	struct record waiting = {0};

	answer(c, "http://m1:80/a/containers/images/1", true, 0);
	answer(c, "http://m1:80/b/containers/images/2", true, 0);
	answer(c, "http://m1:80/a/containers/images/3", false, 0);
	answer(c, "http://m10:80/a/containers/images/1", true, 0);
	assert_int_equal(mirror_cache_lookup(c, "http://m1:80/a/containers/images/4", 0,
					     record_answer, &waiting),
			 MIRROR_CACHE_MISS);
	assert_true(mirror_cache_forget_origin(c, "http://m1:80/a/containers/images/1"));
	/* Present answers of that origin are gone; absent, pending and other origins stay. */
	assert_int_equal(
	    mirror_cache_lookup(c, "http://m1:80/a/containers/images/1", 1, NULL, NULL),
	    MIRROR_CACHE_MISS);
	assert_int_equal(
	    mirror_cache_lookup(c, "http://m1:80/b/containers/images/2", 1, NULL, NULL),
	    MIRROR_CACHE_MISS);
	assert_int_equal(
	    mirror_cache_lookup(c, "http://m1:80/a/containers/images/3", 1, NULL, NULL),
	    MIRROR_CACHE_ABSENT);
	assert_int_equal(
	    mirror_cache_lookup(c, "http://m10:80/a/containers/images/1", 1, NULL, NULL),
	    MIRROR_CACHE_PRESENT);
	mirror_cache_complete(c, "http://m1:80/a/containers/images/4", true, 1);
	assert_int_equal(waiting.calls, 1);
	assert_false(mirror_cache_forget_origin(c, "http://none/x"));
	assert_false(mirror_cache_forget_origin(c, "no origin"));
	assert_false(mirror_cache_forget_origin(c, NULL));
	assert_false(mirror_cache_forget_origin(NULL, "http://m1:80/"));
	mirror_cache_free(c);
}

/* Forgetting an origin is O(1): while a mirror is down every request ends in
 * a failed check that forgets it, so it must not walk the cache (up to
 * 65,536 entries per worker). It voids the origin's "present" answers by
 * generation: nothing is visited or removed when it is called, yet each of
 * them is a MISS when next looked up, and other answers are untouched. */
static void test_forget_origin_visits_no_entry(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(8192, 100000, 100000);
	char url[128];
	for (int i = 0; i < 3000; i++) {
		snprintf(url, sizeof(url), "http://m%d:80/containers/images/sha256:%064d",
			 i % 2 + 1, i);
		answer(c, url, i % 3 != 0, 0); /* a third absent */
	}
	size_t size = mirror_cache_size(c);
	size_t walked = mirror_cache_entries_walked(c);

	assert_true(mirror_cache_forget_origin(c, "http://m1:80/containers/images/x"));
	assert_int_equal(mirror_cache_entries_walked(c), walked);
	assert_int_equal(mirror_cache_size(c), size);

	for (int i = 0; i < 3000; i++) {
		snprintf(url, sizeof(url), "http://m%d:80/containers/images/sha256:%064d",
			 i % 2 + 1, i);
		enum mirror_cache_state want = i % 3 == 0   ? MIRROR_CACHE_ABSENT
					       : i % 2 == 0 ? MIRROR_CACHE_MISS /* m1, forgotten */
							    : MIRROR_CACHE_PRESENT;
		if (mirror_cache_lookup(c, url, 1, NULL, NULL) != want)
			fail_msg("%s: not %d", url, (int)want);
	}
	/* A forgotten entry checked again and found is present again. */
	snprintf(url, sizeof(url), "http://m1:80/containers/images/sha256:%064d", 2);
	mirror_cache_complete(c, url, true, 1);
	assert_int_equal(mirror_cache_lookup(c, url, 2, NULL, NULL), MIRROR_CACHE_PRESENT);
	/* The probe no longer picks a forgotten answer for that origin. */
	struct mirror_cache_target targets[4];
	assert_int_equal(mirror_cache_present_per_origin(c, targets, 4), 2);
	mirror_cache_free(c);
}

/* A health probe's 404: that one blob left the mirror. */
static void test_forget_one_url(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(16, 100000, 100000);
	answer(c, URL_A, true, 0);
	answer(c, URL_B, true, 0);
	answer(c, URL_C, false, 0);
	mirror_cache_forget(c, URL_A);
	mirror_cache_forget(c, URL_C); /* absent answers stay */
	mirror_cache_forget(c, URL_D); /* unknown: nothing */
	mirror_cache_forget(c, NULL);
	mirror_cache_forget(NULL, URL_A);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 1, NULL, NULL), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_lookup(c, URL_B, 1, NULL, NULL), MIRROR_CACHE_PRESENT);
	assert_int_equal(mirror_cache_lookup(c, URL_C, 1, NULL, NULL), MIRROR_CACHE_ABSENT);
	mirror_cache_free(c);
}

static void test_free_with_pending_waiters(void **state)
{
	(void)state;
	struct mirror_cache *c = new_cache(4, 1000, 100);
	struct record r = {0};

	assert_int_equal(mirror_cache_lookup(c, URL_A, 0, record_answer, &r), MIRROR_CACHE_MISS);
	assert_int_equal(mirror_cache_lookup(c, URL_A, 0, record_answer, &r), MIRROR_CACHE_PENDING);
	mirror_cache_free(c); /* frees the queue (valgrind checks) and calls nobody */
	assert_int_equal(r.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_present_ttl_exact_boundary),
	    cmocka_unit_test(test_absent_kept_shorter_than_present),
	    cmocka_unit_test(test_same_digest_other_mirror_is_another_entry),
	    cmocka_unit_test(test_defaults_when_options_zero),
	    cmocka_unit_test(test_ttl_saturates_instead_of_wrapping),
	    cmocka_unit_test(test_lru_evicts_least_recently_used),
	    cmocka_unit_test(test_size_bound_over_many_urls),
	    cmocka_unit_test(test_concurrent_lookups_coalesce),
	    cmocka_unit_test(test_expired_answer_becomes_pending),
	    cmocka_unit_test(test_reentrant_waiters),
	    cmocka_unit_test(test_pending_entries_are_never_evicted),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_free_with_pending_waiters),
	    cmocka_unit_test(test_forget_present_of_one_origin),
	    cmocka_unit_test(test_forget_origin_visits_no_entry),
	    cmocka_unit_test(test_forget_one_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
