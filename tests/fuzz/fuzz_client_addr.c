/* X-Forwarded-For resolution behind a trusted proxy, checked against a
 * reference written from the contract in client_addr.h: entries separated by
 * commas, spaces and tabs around them ignored, IPv6 optionally in brackets,
 * the entry `hops` from the end is the client, anything unparsable (or too
 * few entries) is a bad header. First byte: hops (1..4); the rest: the value. */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "archeio/geo/client_addr.h"
#include "fuzz_check.h"

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The reference: returns 1 with *out for a usable entry, 0 otherwise. */
static int reference(const char *xff, size_t len, unsigned hops, struct ip_addr *out)
{
	size_t count = 1;
	for (size_t i = 0; i < len; i++)
		count += xff[i] == ',';
	if (hops == 0 || hops > count)
		return 0;
	size_t want = count - hops, index = 0, start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && xff[i] != ',')
			continue;
		if (index++ == want) {
			size_t b = start, e = i;
			while (b < e && is_ows(xff[b]))
				b++;
			while (e > b && is_ows(xff[e - 1]))
				e--;
			if (e - b >= 2 && xff[b] == '[' && xff[e - 1] == ']') {
				b++;
				e--;
				struct ip_addr v6;
				if (!ip_parse_span(xff + b, e - b, &v6) || v6.family != AF_INET6)
					return 0;
				*out = v6;
				return 1;
			}
			return ip_parse_span(xff + b, e - b, out);
		}
		start = i + 1;
	}
	return 0;
}

/* ip_parse_span() reads a dotted quad itself and leaves everything else to
 * inet_pton: its answer for any text without ':' must be inet_pton's. */
static void check_v4_like_inet_pton(const char *s, size_t len)
{
	char buf[64];
	if (len >= sizeof(buf) || memchr(s, '\0', len) || memchr(s, ':', len))
		return;
	memcpy(buf, s, len);
	buf[len] = '\0';
	uint8_t want[4];
	struct ip_addr got;
	int ok = len > 0 && inet_pton(AF_INET, buf, want) == 1;
	FUZZ_CHECK(ip_parse_span(s, len, &got) == ok);
	if (ok)
		FUZZ_CHECK(got.family == AF_INET && memcmp(got.bytes, want, 4) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	unsigned hops = 1 + data[0] % 4;
	const char *xff = (const char *)data + 1;
	size_t len = size - 1;
	check_v4_like_inet_pton(xff, len);
	struct ip_prefix trusted;
	ip_prefix_parse("127.0.0.0/8", true, &trusted);
	struct trusted_proxies proxies = {&trusted, 1};
	struct ip_addr peer, client, expected;
	ip_parse("127.0.0.1", &peer);
	enum client_addr_result r = client_addr_resolve(&peer, &proxies, hops, xff, len, &client);
	int ok = reference(xff, len, hops, &expected);
	FUZZ_CHECK(r != CLIENT_ADDR_PEER);
	FUZZ_CHECK((r == CLIENT_ADDR_FORWARDED) == ok);
	if (ok)
		FUZZ_CHECK(client.family == expected.family &&
			   memcmp(client.bytes, expected.bytes, sizeof(client.bytes)) == 0);
	/* An untrusted peer's header is never believed. */
	struct ip_addr stranger;
	ip_parse("192.0.2.7", &stranger);
	FUZZ_CHECK(client_addr_resolve(&stranger, &proxies, hops, xff, len, &client) ==
		   CLIENT_ADDR_PEER);
	FUZZ_CHECK(memcmp(client.bytes, stranger.bytes, sizeof(client.bytes)) == 0);
	return 0;
}
