/* Per-client token buckets (server/rate_limit.c) with a fake clock: the
 * burst is cut at the limit, refills at the rate, clients are independent,
 * IPv6 clients share their /64, and the table stays bounded under a flood
 * of addresses without refusing the clients it evicts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "server/rate_limit.h"

#define MS 1000000ull
#define S 1000000000ull

static struct ip_addr addr(const char *text)
{
	struct ip_addr a;
	assert_true(ip_parse(text, &a));
	return a;
}

static unsigned allowed_of(struct rate_limiter *l, const char *client, unsigned n, uint64_t now)
{
	struct ip_addr a = addr(client);
	unsigned allowed = 0;
	for (unsigned i = 0; i < n; i++)
		allowed += rate_limiter_take(l, &a, now, NULL);
	return allowed;
}

static void test_burst_cut_at_limit_then_refills(void **state)
{
	(void)state;
	struct rate_limiter l;
	assert_int_equal(rate_limiter_init(&l, 10, 5, 64, 64), 0);
	uint64_t now = 1000 * S;
	assert_int_equal(allowed_of(&l, "192.0.2.1", 20, now), 5);
	/* 10/s: one token every 100 ms */
	assert_int_equal(allowed_of(&l, "192.0.2.1", 5, now + 99 * MS), 0);
	assert_int_equal(allowed_of(&l, "192.0.2.1", 5, now + 100 * MS), 1);
	assert_int_equal(allowed_of(&l, "192.0.2.1", 5, now + 350 * MS), 2);
	/* idle long enough: the whole burst again, never more */
	assert_int_equal(allowed_of(&l, "192.0.2.1", 20, now + 60 * S), 5);
	rate_limiter_free(&l);
}

static void test_retry_after_says_when(void **state)
{
	(void)state;
	struct rate_limiter l;
	assert_int_equal(rate_limiter_init(&l, 2, 1, 64, 64), 0);
	struct ip_addr a = addr("198.51.100.9");
	uint64_t wait = 0;
	assert_true(rate_limiter_take(&l, &a, 5 * S, &wait));
	assert_false(rate_limiter_take(&l, &a, 5 * S + 100 * MS, &wait));
	assert_int_equal(wait, 400 * MS);
	assert_int_equal(rate_limit_retry_seconds(wait), 1);
	assert_int_equal(rate_limit_retry_seconds(2 * S + 1), 3);
	assert_int_equal(rate_limit_retry_seconds(0), 1);
	assert_true(rate_limiter_take(&l, &a, 5 * S + 500 * MS, &wait));
	rate_limiter_free(&l);
}

static void test_clients_are_independent(void **state)
{
	(void)state;
	struct rate_limiter l;
	assert_int_equal(rate_limiter_init(&l, 1, 3, 64, 64), 0);
	assert_int_equal(allowed_of(&l, "192.0.2.1", 10, S), 3);
	assert_int_equal(allowed_of(&l, "192.0.2.2", 10, S), 3);
	assert_int_equal(allowed_of(&l, "2001:db8::1", 10, S), 3);
	rate_limiter_free(&l);
}

static void test_ipv6_keyed_by_prefix(void **state)
{
	(void)state;
	struct rate_limiter l;
	assert_int_equal(rate_limiter_init(&l, 1, 4, 64, 64), 0);
	assert_int_equal(allowed_of(&l, "2001:db8:1:2::1", 3, S), 3);
	/* same /64, other host: the same bucket */
	assert_int_equal(allowed_of(&l, "2001:db8:1:2:ffff::9", 3, S), 1);
	/* the next /64: its own */
	assert_int_equal(allowed_of(&l, "2001:db8:1:3::1", 3, S), 3);
	rate_limiter_free(&l);

	assert_int_equal(rate_limiter_init(&l, 1, 4, 64, 48), 0);
	assert_int_equal(allowed_of(&l, "2001:db8:1:2::1", 3, S), 3);
	assert_int_equal(allowed_of(&l, "2001:db8:1:3::1", 3, S), 1);
	rate_limiter_free(&l);
}

static void test_keys_do_not_collide_across_families(void **state)
{
	(void)state;
	struct ip_addr v4 = addr("0.0.0.1");
	struct ip_addr v6 = addr("::1");
	assert_true(rate_limit_key(&v4, 64) != rate_limit_key(&v6, 64));
	struct ip_addr bcast = addr("255.255.255.255");
	assert_true(rate_limit_key(&bcast, 64) + 1 != 0);
}

/* 100,000 addresses through a table of 256: every new one is allowed (the
 * idlest bucket goes), the table does not grow, and a client at its limit
 * keeps its bucket (it is the least idle: a flood of new addresses cannot
 * reset it), then refills as usual. */
static void test_flood_stays_bounded_and_fails_open(void **state)
{
	(void)state;
	struct rate_limiter l;
	assert_int_equal(rate_limiter_init(&l, 1, 2, 256, 64), 0);
	assert_int_equal(l.table->mask + 1, 256);
	uint64_t now = 10 * S;
	assert_int_equal(allowed_of(&l, "192.0.2.1", 5, now), 2);
	unsigned refused = 0;
	for (uint32_t i = 0; i < 100000; i++) {
		struct ip_addr a = {
		    .family = 2 /* AF_INET */,
		    .bytes = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i}};
		refused += !rate_limiter_take(&l, &a, now + i, NULL);
	}
	assert_int_equal(refused, 0);
	assert_int_equal(l.table->mask + 1, 256);
	assert_int_equal(allowed_of(&l, "192.0.2.1", 5, now + 100000), 0);
	assert_int_equal(allowed_of(&l, "192.0.2.1", 5, now + 3 * S), 2);
	rate_limiter_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_cut_at_limit_then_refills),
	    cmocka_unit_test(test_retry_after_says_when),
	    cmocka_unit_test(test_clients_are_independent),
	    cmocka_unit_test(test_ipv6_keyed_by_prefix),
	    cmocka_unit_test(test_keys_do_not_collide_across_families),
	    cmocka_unit_test(test_flood_stays_bounded_and_fails_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
