/* The common case of ip_prefix_parse() for provider files, without its copy,
 * strchr and inet_pton (~800 instructions a CIDR, a sixth of start-up before
 * this). tests/unit/test_cidr_fast.c checks it against ip_prefix_parse() on
 * generated text; fuzz_ranges_stream compares the reader using it with one
 * that does not. */
#include "cidr_fast.h"

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

/* 1..3 decimal digits from i, no leading zero, at most max: the index after
 * them, or 0. */
static inline size_t small_number(const char *s, size_t i, size_t len, unsigned max, unsigned *out)
{
	size_t start = i;
	unsigned v = 0;
	while (i < len && i - start < 3 && (unsigned char)(s[i] - '0') <= 9)
		v = v * 10 + (unsigned)(s[i++] - '0');
	if (i == start || (s[start] == '0' && i - start > 1) || v > max)
		return 0;
	*out = v;
	return i;
}

static inline int hex_digit(char c)
{
	if ((unsigned char)(c - '0') <= 9)
		return c - '0';
	c |= 0x20;
	return (unsigned char)(c - 'a') <= 5 ? c - 'a' + 10 : -1;
}

/* a.b.c.d in s[0, end) as a number. */
static bool fast_v4(const char *s, size_t end, uint32_t *addr)
{
	size_t i = 0;
	uint32_t a = 0;
	unsigned v;
	for (int octet = 0; octet < 4; octet++) {
		if (octet > 0 && (i >= end || s[i++] != '.'))
			return false;
		i = small_number(s, i, end, 255, &v);
		if (i == 0)
			return false;
		a = a << 8 | v;
	}
	*addr = a;
	return i == end;
}

/* Groups "h:h:h" (1-4 hex digits each) of s[from, to) into groups[]; their
 * count, or -1. An empty range is no group. */
static int hex_groups(const char *s, size_t from, size_t to, uint16_t *groups)
{
	int n = 0;
	size_t i = from;
	while (i < to) {
		unsigned v = 0;
		size_t start = i;
		int d;
		while (i < to && i - start < 4 && (d = hex_digit(s[i])) >= 0) {
			v = v * 16 + (unsigned)d;
			i++;
		}
		if (i == start || n == 8)
			return -1;
		groups[n++] = (uint16_t)v;
		if (i == to)
			break;
		if (s[i] != ':' || i + 1 == to)
			return -1; /* a fifth digit, a '.', a trailing ':' */
		i++;
	}
	return n;
}

/* x:x::x in s[0, end) as eight groups. */
static bool fast_v6(const char *s, size_t end, uint16_t words[8])
{
	uint16_t left[8], right[8];
	size_t gap = end;
	for (size_t i = 0; i + 1 < end; i++)
		if (s[i] == ':' && s[i + 1] == ':') {
			gap = i;
			break;
		}
	bool has_gap = gap < end;
	int nl = hex_groups(s, 0, gap, left);
	int nr = has_gap ? hex_groups(s, gap + 2, end, right) : 0;
	if (nl < 0 || nr < 0 || (has_gap ? nl + nr > 7 : nl != 8))
		return false;
	if (has_gap && gap + 2 < end && s[gap + 2] == ':')
		return false; /* ":::" */
	memset(words, 0, 8 * sizeof(*words));
	memcpy(words, left, (size_t)nl * sizeof(*words));
	memcpy(words + 8 - nr, right, (size_t)nr * sizeof(*words));
	/* ::ffff:a.b.c.d/n may become IPv4: ip_prefix_parse() decides. */
	return !(words[0] == 0 && words[1] == 0 && words[2] == 0 && words[3] == 0 &&
		 words[4] == 0 && words[5] == 0xffff);
}

/* Host bits of a /len among `width` bits set in the (high, low) halves. */
static bool has_host_bits(uint64_t high, uint64_t low, unsigned len)
{
	if (len >= 64)
		return len < 128 && (low << (len - 64)) != 0;
	return (len == 0 ? high : high << len) != 0 || low != 0;
}

bool cidr_fast_parse(const char *s, size_t len, struct ip_prefix *out)
{
	/* The length is 1-3 digits at the end. */
	size_t at = len;
	for (size_t k = 2; k <= 4 && k <= len; k++)
		if (s[len - k] == '/') {
			at = len - k;
			break;
		}
	if (at == len || at == 0)
		return false;
	/* An IPv6 text has a ':' within its first five bytes; one found later
	 * fails fast_v4(), and ip_prefix_parse() decides. */
	bool v6 = memchr(s, ':', at < 5 ? at : 5) != NULL;
	unsigned plen;
	if (small_number(s, at + 1, len, v6 ? 128 : 32, &plen) != len)
		return false;
	struct ip_prefix p;
	memset(&p, 0, sizeof(p));
	p.len = (uint8_t)plen;
	if (!v6) {
		uint32_t a;
		if (!fast_v4(s, at, &a) || has_host_bits((uint64_t)a << 32, 0, plen))
			return false; /* host bits: the lenient path clears them and warns */
		p.addr.family = AF_INET;
		for (int i = 0; i < 4; i++)
			p.addr.bytes[i] = (uint8_t)(a >> (24 - 8 * i));
		*out = p;
		return true;
	}
	uint16_t w[8];
	if (!fast_v6(s, at, w))
		return false;
	uint64_t high = 0, low = 0;
	for (int i = 0; i < 4; i++) {
		high = high << 16 | w[i];
		low = low << 16 | w[i + 4];
	}
	if (has_host_bits(high, low, plen))
		return false;
	p.addr.family = AF_INET6;
	for (int i = 0; i < 8; i++) {
		p.addr.bytes[2 * i] = (uint8_t)(w[i] >> 8);
		p.addr.bytes[2 * i + 1] = (uint8_t)w[i];
	}
	*out = p;
	return true;
}
