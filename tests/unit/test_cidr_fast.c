/* cidr_fast_parse() against ip_prefix_parse(strict), the parser it stands in
 * front of: whatever it accepts, ip_prefix_parse() accepts with the same
 * prefix; it accepts the spellings providers use; and on generated text
 * (random CIDR-like strings, and random prefixes written by inet_ntop) the
 * two never disagree on an accepted value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <sys/socket.h>

#include "geo/cidr_fast.h"

/* Accepted by the fast path exactly when `fast`, and then equal to
 * ip_prefix_parse(strict). */
static void check(const char *text, bool fast)
{
	struct ip_prefix a, b;
	memset(&a, 0x55, sizeof(a));
	bool got = cidr_fast_parse(text, strlen(text), &a);
	if (got != fast)
		fail_msg("%s: fast path %s", text, got ? "accepted" : "refused");
	if (got) {
		if (!ip_prefix_parse(text, true, &b))
			fail_msg("%s: accepted, but ip_prefix_parse refuses it", text);
		assert_memory_equal(&a, &b, sizeof(a));
	}
}

static void provider_spellings(void **state)
{
	(void)state;
	static const char *const fast[] = {
	    "3.4.12.4/32",
	    "3.5.140.0/22",
	    "52.94.76.0/22",
	    "0.0.0.0/0",
	    "255.255.255.255/32",
	    "10.0.0.0/8",
	    "2600:1f14::/35",
	    "2a05:d07a:a000::/40",
	    "2600:1f14:fff:f800::/53",
	    "2001:DB8::/32",
	    "::/0",
	    "2001:db8:0:0:0:0:0:0/128",
	    "1:2:3:4:5:6:7::/128",
	    "::1:2:3:4:5:6:7/128",
	    "2001:0db8::/32",
	    "fe80::/10",
	};
	for (size_t i = 0; i < sizeof(fast) / sizeof(fast[0]); i++)
		check(fast[i], true);
	static const char *const slow[] = {
	    "3.4.12.5/24",	   /* host bits: the lenient path warns */
	    "10.0.0.1",		   /* bare address */
	    "::ffff:10.0.0.0/104", /* embedded IPv4, mapped */
	    "::ffff:a00:0/104",	   /* mapped, in hex */
	    "2001:db8::1/32",	   /* host bits */
	    "01.2.3.4/8",
	    "1.2.3.4/08",
	    "1.2.3.256/32",
	    "1.2.3/24",
	    "1.2.3.4.5/32",
	    "1.2.3.4/33",
	    "1.2.3.4/",
	    "/8",
	    "2001:db8::/129",
	    "2001:db8:::/32",
	    "2001::db8::/32",
	    ":2001:db8::/32",
	    "2001:db8:/32",
	    "1:2:3:4:5:6:7:8::/128",
	    "1:2:3:4:5:6:7/112",
	    "12345::/16",
	    "2001:db8::/032",
	    "g::/16",
	    " 1.2.3.4/32",
	    "1.2.3.4/32 ",
	    "1.2.3.4//32",
	};
	for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]); i++)
		check(slow[i], false);
}

/* xorshift: the same sequence every run. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void random_text_never_disagrees(void **state)
{
	(void)state;
	static const char alphabet[] = "0123456789abcdefABCDEF::::....//";
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char text[48];
	for (int n = 0; n < 300000; n++) {
		size_t len = 1 + next_random(&seed) % 40;
		for (size_t i = 0; i < len; i++)
			text[i] = alphabet[next_random(&seed) % (sizeof(alphabet) - 1)];
		text[len] = '\0';
		struct ip_prefix a, b;
		if (cidr_fast_parse(text, len, &a)) {
			if (!ip_prefix_parse(text, true, &b))
				fail_msg("%s: accepted, but ip_prefix_parse refuses it", text);
			assert_memory_equal(&a, &b, sizeof(a));
		}
	}
}

static void random_prefixes_agree(void **state)
{
	(void)state;
	uint64_t seed = 0x2545f4914f6cdd1dull;
	char addr[INET6_ADDRSTRLEN], text[64];
	int accepted = 0;
	for (int n = 0; n < 100000; n++) {
		uint8_t bytes[16];
		for (int i = 0; i < 16; i++) /* zero runs often, for "::" */
			bytes[i] = next_random(&seed) % 3 == 0 ? 0 : (uint8_t)next_random(&seed);
		bool v6 = n % 2;
		unsigned len = (unsigned)(next_random(&seed) % (v6 ? 129 : 33));
		for (unsigned bit = len; bit < (v6 ? 128u : 32u); bit++)
			bytes[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
		inet_ntop(v6 ? AF_INET6 : AF_INET, bytes, addr, sizeof(addr));
		snprintf(text, sizeof(text), "%s/%u", addr, len);
		struct ip_prefix a, b;
		assert_true(ip_prefix_parse(text, true, &b));
		if (cidr_fast_parse(text, strlen(text), &a)) {
			assert_memory_equal(&a, &b, sizeof(a));
			accepted++;
		}
	}
	assert_true(accepted > 95000); /* only embedded-IPv4 spellings go the slow way */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(provider_spellings),
	    cmocka_unit_test(random_text_never_disagrees),
	    cmocka_unit_test(random_prefixes_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
