/* The client address: the TCP peer, or an X-Forwarded-For entry counted from
 * the end when the peer is a trusted proxy. Entries before the chosen one were
 * written by the client itself, so they are never parsed or trusted. */
#include "archeio/geo/client_addr.h"

#include <string.h>

bool trusted_proxies_contains(const struct trusted_proxies *proxies, const struct ip_addr *addr)
{
	if (proxies == NULL)
		return false;
	for (size_t i = 0; i < proxies->count; i++) {
		if (ip_prefix_contains(&proxies->prefixes[i], addr))
			return true;
	}
	return false;
}

/* The last ',' in s[0..len), or NULL. memrchr (glibc and musl; the build
 * defines _GNU_SOURCE) instead of a byte loop: every forwarded blob request
 * walks its header back. */
static const char *last_comma_in(const char *s, size_t len)
{
	return len ? memrchr(s, ',', len) : NULL;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Parses one entry: an address, optionally an IPv6 address in brackets.
 * "addr:port" is refused: proxies we trust do not append ports, so one
 * there means the header is not what we think it is. */
static bool parse_entry(const char *s, size_t len, struct ip_addr *out)
{
	while (len > 0 && is_blank(s[0])) {
		s++;
		len--;
	}
	while (len > 0 && is_blank(s[len - 1]))
		len--;
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		/* Brackets only around an IPv6 literal, as in URLs. */
		if (memchr(s + 1, ':', len - 2) == NULL)
			return false;
		return ip_parse_span(s + 1, len - 2, out);
	}
	return len > 0 && ip_parse_span(s, len, out);
}

enum client_addr_result client_addr_resolve(const struct ip_addr *peer,
					    const struct trusted_proxies *proxies, unsigned hops,
					    const char *xff, size_t xff_len, struct ip_addr *client)
{
	size_t end = xff_len;

	if (!trusted_proxies_contains(proxies, peer)) {
		*client = *peer;
		return CLIENT_ADDR_PEER;
	}
	if (xff == NULL || hops == 0)
		return CLIENT_ADDR_BAD_HEADER;
	/* Walk back over hops-1 entries; the start of the next one is ours. */
	for (unsigned skipped = 0; skipped + 1 < hops; skipped++) {
		const char *comma = last_comma_in(xff, end);
		if (comma == NULL)
			return CLIENT_ADDR_BAD_HEADER; /* fewer entries than hops */
		end = (size_t)(comma - xff);
	}
	const char *comma = last_comma_in(xff, end);
	size_t start = comma == NULL ? 0 : (size_t)(comma - xff) + 1;

	if (!parse_entry(xff + start, end - start, client))
		return CLIENT_ADDR_BAD_HEADER;
	return CLIENT_ADDR_FORWARDED;
}
