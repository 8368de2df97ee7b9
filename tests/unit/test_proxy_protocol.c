/* The PROXY protocol parser (v1 text, v2 binary): good headers of each kind,
 * every prefix of a good header is incomplete (never bad, never done), and
 * each malformed case is refused; what is written parses back the same. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "archeio/http/proxy_protocol.h"

#define SIG2 "\r\n\r\n\0\r\nQUIT\n"

static enum proxy_parse_result parse(const void *buf, size_t len, struct proxy_header *h,
				     size_t *used)
{
	const char *why = NULL;
	enum proxy_parse_result r = proxy_protocol_parse(buf, len, h, used, &why);
	if (r == PROXY_PARSE_BAD)
		assert_non_null(why);
	return r;
}

static void assert_addr(const struct ip_addr *addr, const char *want)
{
	char text[64];
	ip_format(addr, text, sizeof(text));
	assert_string_equal(text, want);
}

/* Every cut before the end is incomplete: a reader may wait for more. */
static void assert_prefixes_incomplete(const void *buf, size_t len)
{
	struct proxy_header h;
	size_t used;
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(parse(buf, cut, &h, &used), PROXY_PARSE_INCOMPLETE);
}

static void v1_good_headers(void **state)
{
	(void)state;
	struct proxy_header h;
	size_t used;
	static const char tcp4[] =
	    "PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\nGET / HTTP/1.1\r\n";
	assert_int_equal(parse(tcp4, sizeof(tcp4) - 1, &h, &used), PROXY_PARSE_DONE);
	assert_int_equal(used, strlen("PROXY TCP4 203.0.113.7 192.0.2.1 56324 443\r\n"));
	assert_int_equal(h.version, 1);
	assert_false(h.local);
	assert_addr(&h.src, "203.0.113.7");
	assert_addr(&h.dst, "192.0.2.1");
	assert_int_equal(h.src_port, 56324);
	assert_int_equal(h.dst_port, 443);
	assert_prefixes_incomplete(tcp4, used);

	static const char tcp6[] = "PROXY TCP6 2001:db8::7 ::ffff:192.0.2.1 0 65535\r\n";
	assert_int_equal(parse(tcp6, sizeof(tcp6) - 1, &h, &used), PROXY_PARSE_DONE);
	assert_int_equal(used, sizeof(tcp6) - 1);
	assert_addr(&h.src, "2001:db8::7");
	assert_addr(&h.dst, "192.0.2.1"); /* mapped: normalised */
	assert_int_equal(h.src_port, 0);
	assert_int_equal(h.dst_port, 65535);

	static const char *const unknown[] = {"PROXY UNKNOWN\r\n",
					      "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(parse(unknown[i], strlen(unknown[i]), &h, &used),
				 PROXY_PARSE_DONE);
		assert_true(h.local);
		assert_int_equal(used, strlen(unknown[i]));
	}
	/* the longest v1 line, 107 bytes with its CRLF */
	static const char longest[] = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
				      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
	assert_int_equal(sizeof(longest) - 1, PROXY_V1_MAX);
	assert_int_equal(parse(longest, sizeof(longest) - 1, &h, &used), PROXY_PARSE_DONE);
}

static void v1_malformed(void **state)
{
	(void)state;
	static const char *const cases[] = {
	    "GET / HTTP/1.1\r\n\r\n",
	    "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",	    /* no CR */
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", /* CR inside */
	    "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",  /* two spaces */
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",  /* trailing space */
	    "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
	    "PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n", /* family mismatch */
	    "PROXY TCP6 1.2.3.4 2001:db8::1 1 2\r\n",
	    "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
	    "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2a\r\n",
	    "PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n",
	    "PROXY \r\n",
	    "PROXY UNKNOWNX\r\n",
	    "PROXY TCP4 1.2.3.4 5.6.7.8 1 \xc3\xa9\r\n",
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proxy_header h;
		size_t used = 99;
		if (parse(cases[i], strlen(cases[i]), &h, &used) != PROXY_PARSE_BAD)
			fail_msg("accepted: %s", cases[i]);
		assert_int_equal(used, 0);
	}
	/* 107 bytes and still no line end: too long, before any more arrives */
	char lng[200];
	memset(lng, 'x', sizeof(lng));
	memcpy(lng, "PROXY ", 6);
	struct proxy_header h;
	size_t used;
	assert_int_equal(parse(lng, PROXY_V1_MAX - 1, &h, &used), PROXY_PARSE_INCOMPLETE);
	assert_int_equal(parse(lng, PROXY_V1_MAX, &h, &used), PROXY_PARSE_BAD);
	assert_int_equal(parse(lng, sizeof(lng), &h, &used), PROXY_PARSE_BAD);
}

static size_t v2(uint8_t *buf, uint8_t ver_cmd, uint8_t fam, const void *body, size_t len)
{
	memcpy(buf, SIG2, 12);
	buf[12] = ver_cmd;
	buf[13] = fam;
	buf[14] = (uint8_t)(len >> 8);
	buf[15] = (uint8_t)len;
	if (body)
		memcpy(buf + 16, body, len);
	return 16 + len;
}

static void v2_good_headers(void **state)
{
	(void)state;
	uint8_t buf[700];
	struct proxy_header h;
	size_t used;
	static const uint8_t tcp4[] = {203, 0, 113, 7, 192, 0, 2, 1, 0xdc, 0x04, 0x01, 0xbb};
	size_t n = v2(buf, 0x21, 0x11, tcp4, sizeof(tcp4));
	memcpy(buf + n, "\x16\x03\x01", 3); /* a TLS ClientHello follows */
	assert_int_equal(parse(buf, n + 3, &h, &used), PROXY_PARSE_DONE);
	assert_int_equal(used, n);
	assert_int_equal(h.version, 2);
	assert_false(h.local);
	assert_addr(&h.src, "203.0.113.7");
	assert_addr(&h.dst, "192.0.2.1");
	assert_int_equal(h.src_port, 56324);
	assert_int_equal(h.dst_port, 443);
	assert_prefixes_incomplete(buf, n);

	uint8_t tcp6[36 + 8] = {0x20, 0x01, 0x0d, 0xb8};
	tcp6[15] = 7;
	tcp6[31] = 1;
	tcp6[33] = 80;
	tcp6[35] = 8;
	/* two TLVs: ALPN "h2" and an empty NOOP */
	memcpy(tcp6 + 36, "\x01\x00\x02h2\x04\x00\x00", 8);
	n = v2(buf, 0x21, 0x21, tcp6, sizeof(tcp6));
	assert_int_equal(parse(buf, n, &h, &used), PROXY_PARSE_DONE);
	assert_int_equal(used, n);
	assert_addr(&h.src, "2001:db8::7");
	assert_addr(&h.dst, "::1");
	assert_int_equal(h.src_port, 80);
	assert_int_equal(h.dst_port, 8);

	/* LOCAL (health checks) and UNSPEC: the peer is the client */
	n = v2(buf, 0x20, 0x00, NULL, 0);
	assert_int_equal(parse(buf, n, &h, &used), PROXY_PARSE_DONE);
	assert_true(h.local);
	n = v2(buf, 0x20, 0x11, tcp4, sizeof(tcp4));
	assert_int_equal(parse(buf, n, &h, &used), PROXY_PARSE_DONE);
	assert_true(h.local);
	n = v2(buf, 0x21, 0x00, NULL, 0);
	assert_int_equal(parse(buf, n, &h, &used), PROXY_PARSE_DONE);
	assert_true(h.local);
	/* the longest accepted */
	uint8_t body[PROXY_V2_MAX] = {203, 0, 113, 7, 192, 0, 2, 1, 0, 1, 0, 2, 0x04};
	size_t tlv = PROXY_V2_MAX - 16 - 12 - 3;
	body[13] = (uint8_t)(tlv >> 8);
	body[14] = (uint8_t)tlv;
	n = v2(buf, 0x21, 0x11, body, PROXY_V2_MAX - 16);
	assert_int_equal(parse(buf, n, &h, &used), PROXY_PARSE_DONE);
	assert_int_equal(used, PROXY_V2_MAX);
}

static void v2_malformed(void **state)
{
	(void)state;
	uint8_t buf[700];
	struct proxy_header h;
	size_t used;
	static const uint8_t tcp4[] = {203, 0, 113, 7, 192, 0, 2, 1, 0xdc, 0x04, 0x01, 0xbb};
	static const struct {
		uint8_t ver_cmd, fam;
		size_t len;
	} cases[] = {
	    {0x11, 0x11, 12},			/* version 1 in binary */
	    {0x31, 0x11, 12},			/* version 3 */
	    {0x22, 0x11, 12},			/* command 2 */
	    {0x2f, 0x11, 12}, {0x21, 0x12, 12}, /* UDP */
	    {0x21, 0x31, 12},			/* AF_UNIX */
	    {0x21, 0x22, 12},			/* UDP over IPv6 */
	    {0x21, 0x13, 12}, {0x21, 0x11, 11}, /* addresses truncated */
	    {0x21, 0x21, 12},			/* IPv6 needs 36 */
	    {0x21, 0x11, 13},			/* one byte of TLV */
	    {0x21, 0x11, 15},			/* a TLV longer than what is left */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t body[64] = {0};
		memcpy(body, tcp4, sizeof(tcp4));
		body[13] = 0;
		body[14] = 9; /* TLV length 9 overruns */
		size_t n = v2(buf, cases[i].ver_cmd, cases[i].fam, body, cases[i].len);
		if (parse(buf, n, &h, &used) != PROXY_PARSE_BAD)
			fail_msg("case %zu accepted", i);
	}
	/* too long: refused from the fixed part alone, no waiting for the rest */
	v2(buf, 0x21, 0x11, NULL, PROXY_V2_MAX - 16 + 1);
	assert_int_equal(parse(buf, 16, &h, &used), PROXY_PARSE_BAD);
	v2(buf, 0x21, 0x11, NULL, 0xffff);
	assert_int_equal(parse(buf, 16, &h, &used), PROXY_PARSE_BAD);
	/* a broken signature */
	size_t n = v2(buf, 0x21, 0x11, tcp4, sizeof(tcp4));
	buf[11] = 'X';
	assert_int_equal(parse(buf, n, &h, &used), PROXY_PARSE_BAD);
	assert_int_equal(parse(buf, 11, &h, &used), PROXY_PARSE_INCOMPLETE);
}

static void signature_detection(void **state)
{
	(void)state;
	assert_true(proxy_protocol_signature((const uint8_t *)"PROXY TCP4", 10));
	assert_true(proxy_protocol_signature((const uint8_t *)SIG2 "\x21", 13));
	assert_false(proxy_protocol_signature((const uint8_t *)"PROXY", 5));
	assert_false(proxy_protocol_signature((const uint8_t *)"GET / HTTP/1.1", 14));
	assert_false(proxy_protocol_signature((const uint8_t *)"\x16\x03\x01\x02\x00", 5));
}

static void written_headers_parse_back(void **state)
{
	(void)state;
	static const char *const pairs[][2] = {
	    {"203.0.113.7", "192.0.2.1"},
	    {"2001:db8::7", "2001:db8::1"},
	    {"203.0.113.7", "2001:db8::1"}, /* mixed: written as mapped IPv6 */
	};
	for (size_t i = 0; i < 3; i++) {
		struct proxy_header h = {.src_port = 1234, .dst_port = 443};
		assert_true(ip_parse(pairs[i][0], &h.src));
		assert_true(ip_parse(pairs[i][1], &h.dst));
		for (uint8_t version = 1; version <= 2; version++) {
			uint8_t buf[PROXY_HEADER_MAX];
			size_t n = proxy_protocol_write(&h, version, buf, sizeof(buf));
			assert_true(n > 0);
			struct proxy_header back;
			size_t used;
			assert_int_equal(parse(buf, n, &back, &used), PROXY_PARSE_DONE);
			assert_int_equal(used, n);
			assert_int_equal(back.version, version);
			assert_memory_equal(&back.src, &h.src, sizeof(h.src));
			assert_memory_equal(&back.dst, &h.dst, sizeof(h.dst));
			assert_int_equal(back.src_port, 1234);
			assert_int_equal(back.dst_port, 443);
		}
	}
	struct proxy_header local = {.local = true};
	uint8_t buf[32];
	assert_int_equal(proxy_protocol_write(&local, 1, buf, sizeof(buf)), 15);
	assert_int_equal(proxy_protocol_write(&local, 2, buf, sizeof(buf)), 16);
	assert_int_equal(proxy_protocol_write(&local, 2, buf, 15), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(v1_good_headers),	   cmocka_unit_test(v1_malformed),
	    cmocka_unit_test(v2_good_headers),	   cmocka_unit_test(v2_malformed),
	    cmocka_unit_test(signature_detection), cmocka_unit_test(written_headers_parse_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
