/* Client address: the peer unless it is a trusted proxy; then the
 * X-Forwarded-For entry `hops` from the end, or a 400 when that is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "archeio/geo/client_addr.h"

struct fixture {
	struct ip_prefix prefixes[2];
	struct trusted_proxies proxies;
};

static struct ip_addr addr(const char *text)
{
	struct ip_addr a;

	if (!ip_parse(text, &a))
		fail_msg("test address %s does not parse", text);
	return a;
}

static void setup_proxies(struct fixture *f)
{
	assert_true(ip_prefix_parse("127.0.0.0/8", true, &f->prefixes[0]));
	assert_true(ip_prefix_parse("fd00::/8", true, &f->prefixes[1]));
	f->proxies.prefixes = f->prefixes;
	f->proxies.count = 2;
}

struct xff_case {
	const char *peer;
	unsigned hops;
	const char *xff; /* NULL: no header */
	enum client_addr_result want;
	const char *client; /* expected client when not BAD_HEADER */
};

#define PEER CLIENT_ADDR_PEER
#define FWD CLIENT_ADDR_FORWARDED
#define BAD CLIENT_ADDR_BAD_HEADER

static const struct xff_case cases[] = {
    /* untrusted peer: the header is ignored, whatever it says */
    {"198.51.100.7", 2, "203.0.113.1, 35.191.0.1", PEER, "198.51.100.7"},
    {"198.51.100.7", 2, NULL, PEER, "198.51.100.7"},
    {"198.51.100.7", 2, "garbage", PEER, "198.51.100.7"},
    {"2001:db8::7", 1, "203.0.113.1", PEER, "2001:db8::7"},
    {"::ffff:198.51.100.7", 1, "203.0.113.1", PEER, "198.51.100.7"},
    /* trusted peer, hops 2 (Google Cloud LB appends "<client>,<lb>") */
    {"127.0.0.1", 2, "203.0.113.1,35.191.0.1", FWD, "203.0.113.1"},
    {"127.0.0.1", 2, "203.0.113.1, 35.191.0.1", FWD, "203.0.113.1"},
    {"127.0.0.1", 2, " \t203.0.113.1 \t,\t 35.191.0.1 ", FWD, "203.0.113.1"},
    /* entries the client sent itself come first and are skipped unparsed */
    {"127.0.0.1", 2, "spoofed, 1.1.1.1, 203.0.113.1, 35.191.0.1", FWD, "203.0.113.1"},
    {"127.0.0.1", 2, ",,,203.0.113.1,35.191.0.1", FWD, "203.0.113.1"},
    {"127.0.0.1", 2, "2001:db8::1, 35.191.0.1", FWD, "2001:db8::1"},
    {"127.0.0.1", 2, "[2001:db8::1], 35.191.0.1", FWD, "2001:db8::1"},
    {"127.0.0.1", 2, "::ffff:203.0.113.1, 35.191.0.1", FWD, "203.0.113.1"},
    {"fd00::1", 2, "203.0.113.1,35.191.0.1", FWD, "203.0.113.1"},
    /* trusted peer, hops 1 (one reverse proxy appends the client) */
    {"127.0.0.1", 1, "203.0.113.1", FWD, "203.0.113.1"},
    {"127.0.0.1", 1, "10.0.0.1, 203.0.113.1", FWD, "203.0.113.1"},
    {"::ffff:127.0.0.1", 1, "203.0.113.1", FWD, "203.0.113.1"},
    /* hops 3 */
    {"127.0.0.1", 3, "203.0.113.1, 10.0.0.1, 10.0.0.2", FWD, "203.0.113.1"},
    /* trusted peer, bad header: 400 */
    {"127.0.0.1", 2, NULL, BAD, NULL},
    {"127.0.0.1", 2, "", BAD, NULL},
    {"127.0.0.1", 2, "203.0.113.1", BAD, NULL}, /* short */
    {"127.0.0.1", 3, "203.0.113.1, 35.191.0.1", BAD, NULL},
    {"127.0.0.1", 2, ", 35.191.0.1", BAD, NULL}, /* empty entry */
    {"127.0.0.1", 2, " \t , 35.191.0.1", BAD, NULL},
    {"127.0.0.1", 2, "unknown, 35.191.0.1", BAD, NULL},
    {"127.0.0.1", 2, "203.0.113.1:5678, 35.191.0.1", BAD, NULL}, /* ports refused */
    {"127.0.0.1", 2, "[2001:db8::1]:443, 35.191.0.1", BAD, NULL},
    {"127.0.0.1", 2, "[203.0.113.1], 35.191.0.1", BAD, NULL}, /* brackets only for v6 */
    {"127.0.0.1", 2, "[2001:db8::1, 35.191.0.1", BAD, NULL},
    {"127.0.0.1", 2, "[], 35.191.0.1", BAD, NULL},
    {"127.0.0.1", 2, "203.0.113.01, 35.191.0.1", BAD, NULL},
    {"127.0.0.1", 2, "203.0.113.1 x, 35.191.0.1", BAD, NULL},
    {"127.0.0.1", 2, "fe80::1%eth0, 35.191.0.1", BAD, NULL},
    {"127.0.0.1", 1, "203.0.113.1,", BAD, NULL},
    {"127.0.0.1", 0, "203.0.113.1", BAD, NULL}, /* hops 0 is no valid setting */
};

static void test_resolve_table(void **state)
{
	struct fixture f;

	(void)state;
	setup_proxies(&f);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct xff_case *c = &cases[i];
		struct ip_addr peer = addr(c->peer);
		struct ip_addr client;
		enum client_addr_result got;
		char buf[64];

		memset(&client, 0xAA, sizeof(client));
		got = client_addr_resolve(&peer, &f.proxies, c->hops, c->xff,
					  c->xff == NULL ? 0 : strlen(c->xff), &client);
		if (got != c->want)
			fail_msg("case %zu (peer %s, hops %u, xff \"%s\"): result %d, want %d", i,
				 c->peer, c->hops, c->xff == NULL ? "(none)" : c->xff, got,
				 c->want);
		if (c->client != NULL) {
			struct ip_addr want = addr(c->client);
			if (memcmp(&client, &want, sizeof(want)) != 0)
				fail_msg("case %zu: client %s, want %s", i,
					 ip_format(&client, buf, sizeof(buf)), c->client);
		}
	}
}

/* The header is a span: several header lines are joined by the caller and
 * nothing after xff_len is read. */
static void test_span(void **state)
{
	struct fixture f;
	struct ip_addr peer = addr("127.0.0.1"), client;
	const char *xff = "203.0.113.1, 35.191.0.1, 192.0.2.99";

	(void)state;
	setup_proxies(&f);
	assert_int_equal(client_addr_resolve(&peer, &f.proxies, 2, xff,
					     strlen("203.0.113.1, 35.191.0.1"), &client),
			 CLIENT_ADDR_FORWARDED);
	struct ip_addr want = addr("203.0.113.1");
	assert_memory_equal(&client, &want, sizeof(want));
}

static void test_no_trusted_proxies(void **state)
{
	struct trusted_proxies none = {NULL, 0};
	struct ip_addr peer = addr("127.0.0.1"), client;

	(void)state;
	assert_false(trusted_proxies_contains(&none, &peer));
	assert_false(trusted_proxies_contains(NULL, &peer));
	assert_int_equal(
	    client_addr_resolve(&peer, &none, 2, "203.0.113.1, 35.191.0.1", 23, &client),
	    CLIENT_ADDR_PEER);
	assert_memory_equal(&client, &peer, sizeof(peer));
	assert_int_equal(client_addr_resolve(&peer, NULL, 2, NULL, 0, &client), CLIENT_ADDR_PEER);
}

static void test_trusted_proxies_contains(void **state)
{
	struct fixture f;
	struct ip_addr a;

	(void)state;
	setup_proxies(&f);
	a = addr("127.255.0.1");
	assert_true(trusted_proxies_contains(&f.proxies, &a));
	a = addr("128.0.0.1");
	assert_false(trusted_proxies_contains(&f.proxies, &a));
	a = addr("fdff::1");
	assert_true(trusted_proxies_contains(&f.proxies, &a));
	a = addr("fe00::1");
	assert_false(trusted_proxies_contains(&f.proxies, &a));
	/* a dual-stack socket's mapped peer is the IPv4 address */
	a = addr("::ffff:127.0.0.1");
	assert_true(trusted_proxies_contains(&f.proxies, &a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolve_table),
	    cmocka_unit_test(test_span),
	    cmocka_unit_test(test_no_trusted_proxies),
	    cmocka_unit_test(test_trusted_proxies_contains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
