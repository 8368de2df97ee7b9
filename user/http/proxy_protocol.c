/* PROXY protocol v1 and v2 headers: parsing and writing. Pure. */
#include "archeio/http/proxy_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				   0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
static const char v1_sig[] = "PROXY ";
#define V1_SIG_LEN (sizeof(v1_sig) - 1)
#define V2_FIXED 16
#define V2_TCP4_LEN 12
#define V2_TCP6_LEN 36

static enum proxy_parse_result bad(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return PROXY_PARSE_BAD;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

bool proxy_protocol_signature(const uint8_t *buf, size_t len)
{
	return (len >= V1_SIG_LEN && memcmp(buf, v1_sig, V1_SIG_LEN) == 0) ||
	       (len >= sizeof(v2_sig) && memcmp(buf, v2_sig, sizeof(v2_sig)) == 0);
}

/* A decimal port: 1 to 5 digits, no leading zero but "0" itself. */
static bool parse_port(const char *s, size_t len, uint16_t *out)
{
	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* Splits "A B C D E" (single spaces, no empty token) into at most max. */
static size_t split_spaces(const char *s, size_t len, const char *tok[], size_t tok_len[],
			   size_t max)
{
	size_t count = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != ' ')
			continue;
		if (count == max || i == start)
			return max + 1; /* too many, or an empty token */
		tok[count] = s + start;
		tok_len[count++] = i - start;
		start = i + 1;
	}
	return count;
}

/* The address of a TCP4 line is dotted IPv4, of a TCP6 line IPv6 text (a
 * mapped IPv4 address is normalised to IPv4, as everywhere). */
static bool parse_v1_addr(const char *s, size_t len, bool v6, struct ip_addr *out)
{
	bool has_colon = memchr(s, ':', len) != NULL;
	return has_colon == v6 && ip_parse_span(s, len, out);
}

static enum proxy_parse_result parse_v1_line(const char *line, size_t len, struct proxy_header *out,
					     const char **why)
{
	/* line: what follows "PROXY ", without the CRLF */
	if (len >= 7 && memcmp(line, "UNKNOWN", 7) == 0 && (len == 7 || line[7] == ' ')) {
		out->local = true; /* the rest of an UNKNOWN line is to be ignored */
		return PROXY_PARSE_DONE;
	}
	const char *tok[5];
	size_t tok_len[5];
	if (split_spaces(line, len, tok, tok_len, 5) != 5)
		return bad(why, "v1: want PROXY TCP4|TCP6 SRC DST SPORT DPORT");
	bool v6;
	if (tok_len[0] == 4 && memcmp(tok[0], "TCP4", 4) == 0)
		v6 = false;
	else if (tok_len[0] == 4 && memcmp(tok[0], "TCP6", 4) == 0)
		v6 = true;
	else
		return bad(why, "v1: unknown protocol");
	if (!parse_v1_addr(tok[1], tok_len[1], v6, &out->src) ||
	    !parse_v1_addr(tok[2], tok_len[2], v6, &out->dst))
		return bad(why, "v1: bad address");
	if (!parse_port(tok[3], tok_len[3], &out->src_port) ||
	    !parse_port(tok[4], tok_len[4], &out->dst_port))
		return bad(why, "v1: bad port");
	return PROXY_PARSE_DONE;
}

static enum proxy_parse_result parse_v1(const uint8_t *buf, size_t len, struct proxy_header *out,
					size_t *consumed, const char **why)
{
	const uint8_t *lf = memchr(buf, '\n', min_size(len, PROXY_V1_MAX));
	if (!lf)
		return len >= PROXY_V1_MAX ? bad(why, "v1: longer than 107 bytes")
					   : PROXY_PARSE_INCOMPLETE;
	size_t line_len = (size_t)(lf - buf) + 1;
	if (line_len < V1_SIG_LEN + 2 || lf[-1] != '\r')
		return bad(why, "v1: line does not end with CRLF");
	for (size_t i = V1_SIG_LEN; i < line_len - 2; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return bad(why, "v1: control or non-ASCII byte");
	out->version = 1;
	enum proxy_parse_result r =
	    parse_v1_line((const char *)buf + V1_SIG_LEN, line_len - V1_SIG_LEN - 2, out, why);
	if (r == PROXY_PARSE_DONE)
		*consumed = line_len;
	return r;
}

static void addr_from_bytes(const uint8_t *bytes, bool v6, struct ip_addr *out)
{
	if (!v6) {
		struct sockaddr_in sin = {.sin_family = AF_INET};
		memcpy(&sin.sin_addr, bytes, 4);
		ip_from_sockaddr(&sin, out);
		return;
	}
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	memcpy(&sin6.sin6_addr, bytes, 16);
	ip_from_sockaddr(&sin6, out); /* a mapped IPv4 address becomes IPv4 */
}

/* TLVs must tile what follows the addresses exactly. */
static bool tlvs_valid(const uint8_t *p, size_t len)
{
	while (len > 0) {
		if (len < 3)
			return false;
		size_t tlv_len = 3 + ((size_t)p[1] << 8 | p[2]);
		if (tlv_len > len)
			return false;
		p += tlv_len;
		len -= tlv_len;
	}
	return true;
}

static enum proxy_parse_result parse_v2_body(const uint8_t *body, size_t body_len, uint8_t fam,
					     struct proxy_header *out, const char **why)
{
	size_t addr_len;
	switch (fam) {
	case 0x00: /* UNSPEC: the balancer's own connection */
		out->local = true;
		return PROXY_PARSE_DONE;
	case 0x11:
		addr_len = V2_TCP4_LEN;
		break;
	case 0x21:
		addr_len = V2_TCP6_LEN;
		break;
	default:
		return bad(why, "v2: not TCP over IPv4 or IPv6");
	}
	if (body_len < addr_len)
		return bad(why, "v2: addresses truncated");
	size_t a = addr_len == V2_TCP4_LEN ? 4 : 16;
	addr_from_bytes(body, a == 16, &out->src);
	addr_from_bytes(body + a, a == 16, &out->dst);
	out->src_port = (uint16_t)(body[2 * a] << 8 | body[2 * a + 1]);
	out->dst_port = (uint16_t)(body[2 * a + 2] << 8 | body[2 * a + 3]);
	if (!tlvs_valid(body + addr_len, body_len - addr_len))
		return bad(why, "v2: malformed TLV");
	return PROXY_PARSE_DONE;
}

static enum proxy_parse_result parse_v2(const uint8_t *buf, size_t len, struct proxy_header *out,
					size_t *consumed, const char **why)
{
	if (len < V2_FIXED)
		return PROXY_PARSE_INCOMPLETE;
	if (buf[12] >> 4 != 2)
		return bad(why, "v2: unsupported version");
	uint8_t command = buf[12] & 0x0f;
	if (command > 1)
		return bad(why, "v2: unknown command");
	size_t total = V2_FIXED + ((size_t)buf[14] << 8 | buf[15]);
	if (total > PROXY_V2_MAX)
		return bad(why, "v2: longer than 512 bytes");
	if (len < total)
		return PROXY_PARSE_INCOMPLETE;
	out->version = 2;
	enum proxy_parse_result r = PROXY_PARSE_DONE;
	if (command == 0)
		out->local = true; /* LOCAL: addresses, if any, are to be ignored */
	else
		r = parse_v2_body(buf + V2_FIXED, total - V2_FIXED, buf[13], out, why);
	if (r == PROXY_PARSE_DONE)
		*consumed = total;
	return r;
}

enum proxy_parse_result proxy_protocol_parse(const uint8_t *buf, size_t len,
					     struct proxy_header *out, size_t *consumed,
					     const char **why)
{
	memset(out, 0, sizeof(*out));
	*consumed = 0;
	if (why)
		*why = NULL;
	/* A prefix of either signature may still become a header. */
	size_t v1_n = min_size(len, V1_SIG_LEN), v2_n = min_size(len, sizeof(v2_sig));
	if (memcmp(buf, v1_sig, v1_n) == 0)
		return len < V1_SIG_LEN ? PROXY_PARSE_INCOMPLETE
					: parse_v1(buf, len, out, consumed, why);
	if (memcmp(buf, v2_sig, v2_n) == 0)
		return len < sizeof(v2_sig) ? PROXY_PARSE_INCOMPLETE
					    : parse_v2(buf, len, out, consumed, why);
	return bad(why, "no PROXY header");
}

static size_t write_v1(const struct proxy_header *h, uint8_t *buf, size_t size)
{
	char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
	int n;
	if (h->local) {
		n = snprintf((char *)buf, size, "PROXY UNKNOWN\r\n");
	} else {
		bool v6 = h->src.family == AF_INET6 || h->dst.family == AF_INET6;
		char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
		ip_format(&h->src, a, sizeof(a));
		ip_format(&h->dst, b, sizeof(b));
		/* One family per line: IPv4 beside IPv6 goes as mapped IPv6. */
		snprintf(src, sizeof(src), "%s%s", v6 && h->src.family == AF_INET ? "::ffff:" : "",
			 a);
		snprintf(dst, sizeof(dst), "%s%s", v6 && h->dst.family == AF_INET ? "::ffff:" : "",
			 b);
		n = snprintf((char *)buf, size, "PROXY %s %s %s %u %u\r\n", v6 ? "TCP6" : "TCP4",
			     src, dst, h->src_port, h->dst_port);
	}
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static void v6_bytes(const struct ip_addr *addr, uint8_t out[16])
{
	if (addr->family == AF_INET6) {
		memcpy(out, addr->bytes, 16);
		return;
	}
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	memcpy(out, mapped, 12);
	memcpy(out + 12, addr->bytes, 4);
}

static size_t write_v2(const struct proxy_header *h, uint8_t *buf, size_t size)
{
	bool v6 = !h->local && (h->src.family == AF_INET6 || h->dst.family == AF_INET6);
	size_t body = h->local ? 0 : v6 ? V2_TCP6_LEN : V2_TCP4_LEN;
	if (size < V2_FIXED + body)
		return 0;
	memcpy(buf, v2_sig, sizeof(v2_sig));
	buf[12] = h->local ? 0x20 : 0x21;
	buf[13] = h->local ? 0x00 : v6 ? 0x21 : 0x11;
	buf[14] = 0;
	buf[15] = (uint8_t)body;
	if (h->local)
		return V2_FIXED;
	uint8_t *p = buf + V2_FIXED;
	size_t a = v6 ? 16 : 4;
	if (v6) {
		v6_bytes(&h->src, p);
		v6_bytes(&h->dst, p + 16);
	} else {
		memcpy(p, h->src.bytes, 4);
		memcpy(p + 4, h->dst.bytes, 4);
	}
	p[2 * a] = (uint8_t)(h->src_port >> 8);
	p[2 * a + 1] = (uint8_t)h->src_port;
	p[2 * a + 2] = (uint8_t)(h->dst_port >> 8);
	p[2 * a + 3] = (uint8_t)h->dst_port;
	return V2_FIXED + body;
}

size_t proxy_protocol_write(const struct proxy_header *h, uint8_t version, uint8_t *buf,
			    size_t size)
{
	if (version == 1)
		return write_v1(h, buf, size);
	if (version == 2)
		return write_v2(h, buf, size);
	return 0;
}
