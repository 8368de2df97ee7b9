#include "archeio/core/ip.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

/* Longest textual form accepted, with room for "/128" and the NUL. */
#define IP_TEXT_MAX 64

static const uint8_t mapped_v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static bool is_mapped_v4(const uint8_t bytes[16])
{
	return memcmp(bytes, mapped_v4_prefix, sizeof(mapped_v4_prefix)) == 0;
}

static void set_v4(struct ip_addr *out, const uint8_t v4[4])
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	memcpy(out->bytes, v4, 4);
}

static void set_v6(struct ip_addr *out, const uint8_t v6[16])
{
	if (is_mapped_v4(v6)) {
		set_v4(out, v6 + 12);
		return;
	}
	memset(out, 0, sizeof(*out));
	out->family = AF_INET6;
	memcpy(out->bytes, v6, 16);
}

unsigned ip_max_prefix(uint8_t family)
{
	if (family == AF_INET)
		return 32;
	if (family == AF_INET6)
		return 128;
	return 0;
}

bool ip_parse(const char *text, struct ip_addr *out)
{
	if (text == NULL)
		return false;
	uint8_t raw[16];
	/* inet_pton rejects spaces, zone ids, leading zeros in IPv4 octets and
	 * shorthand IPv4 forms ("1.2.3"), which is the strictness we want. */
	if (strchr(text, ':') != NULL) {
		if (inet_pton(AF_INET6, text, raw) != 1)
			return false;
		set_v6(out, raw);
		return true;
	}
	if (inet_pton(AF_INET, text, raw) != 1)
		return false;
	set_v4(out, raw);
	return true;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The common case, a dotted quad, without the copy and inet_pton (~300
 * instructions for every forwarded blob request). It accepts a subset of
 * what inet_pton(AF_INET) accepts — four decimal octets, no leading zero, at
 * most 255 — with the same value; anything else is left to inet_pton, so
 * the answer for every input is inet_pton's. */
static bool parse_dotted_quad(const char *s, size_t len, uint8_t out[4])
{
	size_t i = 0;
	for (unsigned part = 0; part < 4; part++) {
		if (part > 0 && (i >= len || s[i++] != '.'))
			return false;
		if (i >= len || !is_digit(s[i]))
			return false;
		unsigned v = (unsigned)(s[i++] - '0');
		if (v == 0 && i < len && is_digit(s[i]))
			return false; /* leading zero: inet_pton refuses it */
		for (unsigned d = 1; d < 3 && i < len && is_digit(s[i]); d++)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (v > 255)
			return false;
		out[part] = (uint8_t)v;
	}
	return i == len;
}

bool ip_parse_span(const char *text, size_t len, struct ip_addr *out)
{
	uint8_t v4[4];
	if (text != NULL && parse_dotted_quad(text, len, v4)) {
		set_v4(out, v4);
		return true;
	}
	char buf[IP_TEXT_MAX];
	if (text == NULL || len == 0 || len >= sizeof(buf) || memchr(text, '\0', len) != NULL)
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	return ip_parse(buf, out);
}

bool ip_from_sockaddr(const void *sockaddr, struct ip_addr *out)
{
	if (sockaddr == NULL)
		return false;
	sa_family_t family;
	memcpy(&family, (const char *)sockaddr + offsetof(struct sockaddr, sa_family),
	       sizeof(family));
	if (family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sockaddr, sizeof(sin));
		set_v4(out, (const uint8_t *)&sin.sin_addr);
		return true;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sockaddr, sizeof(sin6));
		set_v6(out, sin6.sin6_addr.s6_addr);
		return true;
	}
	return false;
}

/* Decimal 0..max without sign, spaces or leading zeros ("/08" is rejected). */
static bool parse_prefix_len(const char *text, unsigned max, unsigned *out)
{
	size_t n = strlen(text);
	if (n == 0 || n > 3 || (n > 1 && text[0] == '0'))
		return false;
	unsigned value = 0;
	for (size_t i = 0; i < n; i++) {
		if (text[i] < '0' || text[i] > '9')
			return false;
		value = value * 10 + (unsigned)(text[i] - '0');
	}
	if (value > max)
		return false;
	*out = value;
	return true;
}

/* True when any bit past the first len bits of addr is set; clears them. */
static bool clear_host_bits(struct ip_addr *addr, unsigned len)
{
	bool had_host_bits = false;
	unsigned total = ip_max_prefix(addr->family) / 8;
	for (unsigned i = 0; i < total; i++) {
		unsigned first_bit = i * 8;
		uint8_t keep;
		if (first_bit + 8 <= len)
			keep = 0xff;
		else if (first_bit >= len)
			keep = 0;
		else
			keep = (uint8_t)(0xff << (8 - (len - first_bit)));
		if (addr->bytes[i] & (uint8_t)~keep)
			had_host_bits = true;
		addr->bytes[i] &= keep;
	}
	return had_host_bits;
}

bool ip_prefix_parse(const char *text, bool strict, struct ip_prefix *out)
{
	if (text == NULL)
		return false;
	char buf[IP_TEXT_MAX];
	size_t n = strlen(text);
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, text, n + 1);

	char *slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	uint8_t raw[16];
	bool v6 = strchr(buf, ':') != NULL;
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, raw) != 1)
		return false;

	struct ip_prefix prefix;
	memset(&prefix, 0, sizeof(prefix));
	prefix.addr.family = v6 ? AF_INET6 : AF_INET;
	memcpy(prefix.addr.bytes, raw, v6 ? 16 : 4);
	unsigned max = ip_max_prefix(prefix.addr.family);
	unsigned len = max;
	if (slash != NULL && !parse_prefix_len(slash + 1, max, &len))
		return false;

	/* ::ffff:a.b.c.d/n with n >= 96 describes IPv4 space; store it as such
	 * so it matches the normalised addresses. Shorter ones stay IPv6. */
	if (v6 && len >= 96 && is_mapped_v4(prefix.addr.bytes)) {
		set_v4(&prefix.addr, raw + 12);
		len -= 96;
	}
	if (clear_host_bits(&prefix.addr, len) && strict)
		return false;
	prefix.len = (uint8_t)len;
	*out = prefix;
	return true;
}

bool ip_prefix_contains(const struct ip_prefix *prefix, const struct ip_addr *addr)
{
	if (prefix->addr.family != addr->family || prefix->len > ip_max_prefix(addr->family))
		return false;
	unsigned full = prefix->len / 8;
	unsigned rest = prefix->len % 8;
	if (memcmp(prefix->addr.bytes, addr->bytes, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (prefix->addr.bytes[full] & mask) == (addr->bytes[full] & mask);
}

const char *ip_format(const struct ip_addr *addr, char *buf, size_t buflen)
{
	if (buf == NULL || buflen == 0)
		return NULL;
	if ((addr->family != AF_INET && addr->family != AF_INET6) ||
	    inet_ntop(addr->family, addr->bytes, buf, (socklen_t)buflen) == NULL) {
		buf[0] = '\0';
		return NULL;
	}
	return buf;
}
