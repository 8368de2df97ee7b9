#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "archeio/core/ip.h"

static void assert_v4(const struct ip_addr *addr, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	const uint8_t want[16] = {a, b, c, d};
	assert_int_equal(addr->family, AF_INET);
	assert_memory_equal(addr->bytes, want, 16);
}

static void test_parse_ipv4(void **state)
{
	(void)state;
	struct ip_addr addr;
	assert_true(ip_parse("192.0.2.1", &addr));
	assert_v4(&addr, 192, 0, 2, 1);
	assert_true(ip_parse("0.0.0.0", &addr));
	assert_v4(&addr, 0, 0, 0, 0);
	assert_true(ip_parse("255.255.255.255", &addr));
	assert_v4(&addr, 255, 255, 255, 255);
}

static void test_parse_ipv6(void **state)
{
	(void)state;
	struct ip_addr addr;
	assert_true(ip_parse("2001:db8::1", &addr));
	assert_int_equal(addr.family, AF_INET6);
	const uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	assert_memory_equal(addr.bytes, want, 16);
	assert_true(ip_parse("::", &addr));
	assert_int_equal(addr.family, AF_INET6);
	/* IPv4-compatible (deprecated, not mapped) stays IPv6. */
	assert_true(ip_parse("::10.0.0.1", &addr));
	assert_int_equal(addr.family, AF_INET6);
}

static void test_parse_mapped_ipv4_normalised(void **state)
{
	(void)state;
	struct ip_addr addr;
	assert_true(ip_parse("::ffff:198.51.100.7", &addr));
	assert_v4(&addr, 198, 51, 100, 7);
	assert_true(ip_parse("::FFFF:c633:6407", &addr));
	assert_v4(&addr, 198, 51, 100, 7);
}

/* ip_parse_span() reads dotted quads itself: every text over an alphabet
 * of digits, dots and a stray character, up to 8 characters, plus the
 * edges of octet values, must get inet_pton's answer and value. */
static void check_like_inet_pton(const char *text, size_t len)
{
	char buf[32];
	memcpy(buf, text, len);
	buf[len] = '\0';
	uint8_t want[4];
	int ok = len > 0 && inet_pton(AF_INET, buf, want) == 1;
	struct ip_addr got;
	if (ip_parse_span(text, len, &got) != ok)
		fail_msg("\"%s\": inet_pton says %d", buf, ok);
	if (ok && (got.family != AF_INET || memcmp(got.bytes, want, 4) != 0))
		fail_msg("\"%s\": another address than inet_pton's", buf);
}

static void test_dotted_quad_matches_inet_pton(void **state)
{
	(void)state;
	static const char alphabet[] = "0125.9x";
	const size_t n = sizeof(alphabet) - 1;
	char text[8];
	for (size_t len = 0; len <= sizeof(text); len++) {
		size_t total = 1;
		for (size_t i = 0; i < len; i++)
			total *= n;
		for (size_t k = 0; k < total; k++) {
			size_t v = k;
			for (size_t i = 0; i < len; i++, v /= n)
				text[i] = alphabet[v % n];
			check_like_inet_pton(text, len);
		}
	}
	static const char *const edges[] = {
	    "255.255.255.255", "256.1.1.1",  "1.1.1.0255", "0.0.0.0",  "00.0.0.0", "1.2.3.04",
	    "199.200.249.250", "1.2.3.1000", "1..2.3",	   "1.2.3.4.", ".1.2.3.4", "1.2.3.4\n",
	};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check_like_inet_pton(edges[i], strlen(edges[i]));
}

static void test_parse_rejects_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "1.2.3",
	    "1.2.3.4.5",
	    " 1.2.3.4",
	    "1.2.3.4 ",
	    "01.2.3.4",
	    "1.2.3.256",
	    "1.2.3.4/32",
	    "fe80::1%eth0",
	    "2001:db8::g",
	    "2001:db8:::1",
	    "1:2:3:4:5:6:7:8:9",
	    "localhost",
	    "0x7f.0.0.1",
	    "[::1]",
	};
	struct ip_addr addr;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ip_parse(bad[i], &addr))
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_false(ip_parse(NULL, &addr));
}

static void test_parse_span(void **state)
{
	(void)state;
	struct ip_addr addr;
	const char *header = "203.0.113.9, 10.0.0.1";
	assert_true(ip_parse_span(header, 11, &addr));
	assert_v4(&addr, 203, 0, 113, 9);
	assert_false(ip_parse_span(header, 12, &addr)); /* includes the comma */
	assert_false(ip_parse_span(header, 0, &addr));
	assert_false(ip_parse_span("1.2.3.4\0", 8, &addr));
	char long_text[200];
	memset(long_text, '1', sizeof(long_text));
	assert_false(ip_parse_span(long_text, sizeof(long_text), &addr));
	assert_true(ip_parse_span("::1]", 3, &addr));
	assert_int_equal(addr.family, AF_INET6);
}

static void test_from_sockaddr(void **state)
{
	(void)state;
	struct ip_addr addr;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(80)};
	inet_pton(AF_INET, "192.0.2.5", &sin.sin_addr);
	assert_true(ip_from_sockaddr(&sin, &addr));
	assert_v4(&addr, 192, 0, 2, 5);

	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "::ffff:192.0.2.6", &sin6.sin6_addr);
	assert_true(ip_from_sockaddr(&sin6, &addr));
	assert_v4(&addr, 192, 0, 2, 6);

	inet_pton(AF_INET6, "2001:db8::7", &sin6.sin6_addr);
	assert_true(ip_from_sockaddr(&sin6, &addr));
	assert_int_equal(addr.family, AF_INET6);
	assert_int_equal(addr.bytes[15], 7);

	struct sockaddr_storage other = {.ss_family = AF_UNIX};
	assert_false(ip_from_sockaddr(&other, &addr));
	assert_false(ip_from_sockaddr(NULL, &addr));
}

static void test_prefix_parse(void **state)
{
	(void)state;
	struct ip_prefix p;
	assert_true(ip_prefix_parse("10.0.0.0/8", true, &p));
	assert_v4(&p.addr, 10, 0, 0, 0);
	assert_int_equal(p.len, 8);

	assert_true(ip_prefix_parse("0.0.0.0/0", true, &p));
	assert_int_equal(p.len, 0);

	assert_true(ip_prefix_parse("192.0.2.1", true, &p)); /* bare address: host prefix */
	assert_int_equal(p.len, 32);

	assert_true(ip_prefix_parse("2001:db8::/32", true, &p));
	assert_int_equal(p.addr.family, AF_INET6);
	assert_int_equal(p.len, 32);

	assert_true(ip_prefix_parse("2001:db8::1", true, &p));
	assert_int_equal(p.len, 128);

	assert_true(ip_prefix_parse("::/0", true, &p));
	assert_int_equal(p.addr.family, AF_INET6);
	assert_int_equal(p.len, 0);
}

static void test_prefix_host_bits_strict_and_lenient(void **state)
{
	(void)state;
	struct ip_prefix p;
	assert_false(ip_prefix_parse("10.1.2.3/8", true, &p));
	assert_true(ip_prefix_parse("10.1.2.3/8", false, &p));
	assert_v4(&p.addr, 10, 0, 0, 0);
	assert_int_equal(p.len, 8);

	assert_false(ip_prefix_parse("10.255.0.0/9", true, &p));
	assert_true(ip_prefix_parse("10.255.0.0/9", false, &p));
	assert_v4(&p.addr, 10, 128, 0, 0);

	assert_false(ip_prefix_parse("2001:db8::1/64", true, &p));
	assert_true(ip_prefix_parse("2001:db8::1/64", false, &p));
	assert_int_equal(p.addr.bytes[15], 0);
}

static void test_prefix_mapped_becomes_ipv4(void **state)
{
	(void)state;
	struct ip_prefix p;
	assert_true(ip_prefix_parse("::ffff:10.0.0.0/104", true, &p));
	assert_v4(&p.addr, 10, 0, 0, 0);
	assert_int_equal(p.len, 8);
	assert_true(ip_prefix_parse("::ffff:0:0/96", true, &p));
	assert_int_equal(p.addr.family, AF_INET);
	assert_int_equal(p.len, 0);
	/* Shorter than /96 spans more than IPv4: stays IPv6. */
	assert_true(ip_prefix_parse("::ffff:0:0/95", false, &p));
	assert_int_equal(p.addr.family, AF_INET6);
}

static void test_prefix_rejects_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "10.0.0.0/33",
	    "10.0.0.0/",
	    "10.0.0.0/-1",
	    "10.0.0.0/+8",
	    "10.0.0.0/08",
	    "10.0.0.0/ 8",
	    "10.0.0.0/8x",
	    "10.0.0/8",
	    "/8",
	    "2001:db8::/129",
	    "2001:db8::/1000",
	    "",
	    "10.0.0.0/8/8",
	    "x/8",
	};
	struct ip_prefix p;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ip_prefix_parse(bad[i], false, &p))
			fail_msg("accepted \"%s\"", bad[i]);
	}
	char long_text[100];
	memset(long_text, '1', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	assert_false(ip_prefix_parse(long_text, false, &p));
	assert_false(ip_prefix_parse(NULL, false, &p));
}

static bool contains(const char *prefix_text, const char *addr_text)
{
	struct ip_prefix p;
	struct ip_addr a;
	assert_true(ip_prefix_parse(prefix_text, true, &p));
	assert_true(ip_parse(addr_text, &a));
	return ip_prefix_contains(&p, &a);
}

static void test_prefix_contains(void **state)
{
	(void)state;
	assert_true(contains("10.0.0.0/8", "10.255.255.255"));
	assert_false(contains("10.0.0.0/8", "11.0.0.0"));
	assert_false(contains("10.0.0.0/8", "9.255.255.255"));
	assert_true(contains("10.128.0.0/9", "10.128.0.0"));
	assert_false(contains("10.128.0.0/9", "10.127.255.255"));
	assert_true(contains("0.0.0.0/0", "255.1.2.3"));
	assert_false(contains("0.0.0.0/0", "2001:db8::1"));
	assert_false(contains("::/0", "1.2.3.4"));
	assert_true(contains("::/0", "2001:db8::1"));
	assert_true(contains("192.0.2.1/32", "192.0.2.1"));
	assert_false(contains("192.0.2.1/32", "192.0.2.2"));
	assert_true(contains("2001:db8::1/128", "2001:db8::1"));
	assert_false(contains("2001:db8::1/128", "2001:db8::"));
	assert_true(contains("2001:db8:8000::/33", "2001:db8:ffff::1"));
	assert_false(contains("2001:db8:8000::/33", "2001:db8:7fff::1"));
	assert_true(contains("10.0.0.0/8", "::ffff:10.1.1.1"));
}

static void test_format(void **state)
{
	(void)state;
	char buf[INET6_ADDRSTRLEN];
	struct ip_addr a;
	assert_true(ip_parse("192.0.2.33", &a));
	assert_string_equal(ip_format(&a, buf, sizeof(buf)), "192.0.2.33");
	assert_true(ip_parse("2001:0db8:0000:0000:0000:0000:0000:0001", &a));
	assert_string_equal(ip_format(&a, buf, sizeof(buf)), "2001:db8::1");
	assert_true(ip_parse("::ffff:1.2.3.4", &a));
	assert_string_equal(ip_format(&a, buf, sizeof(buf)), "1.2.3.4");
	char tiny[4];
	assert_null(ip_format(&a, tiny, sizeof(tiny)));
	struct ip_addr unknown = {.family = AF_UNIX};
	assert_null(ip_format(&unknown, buf, sizeof(buf)));
}

static void test_max_prefix(void **state)
{
	(void)state;
	assert_int_equal(ip_max_prefix(AF_INET), 32);
	assert_int_equal(ip_max_prefix(AF_INET6), 128);
	assert_int_equal(ip_max_prefix(AF_UNIX), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ipv4),
	    cmocka_unit_test(test_parse_ipv6),
	    cmocka_unit_test(test_parse_mapped_ipv4_normalised),
	    cmocka_unit_test(test_parse_rejects_malformed),
	    cmocka_unit_test(test_parse_span),
	    cmocka_unit_test(test_from_sockaddr),
	    cmocka_unit_test(test_prefix_parse),
	    cmocka_unit_test(test_prefix_host_bits_strict_and_lenient),
	    cmocka_unit_test(test_prefix_mapped_becomes_ipv4),
	    cmocka_unit_test(test_prefix_rejects_malformed),
	    cmocka_unit_test(test_prefix_contains),
	    cmocka_unit_test(test_dotted_quad_matches_inet_pton),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_max_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
