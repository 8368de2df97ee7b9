/* Which address is "the client": the TCP peer, or, when the peer is a trusted
 * proxy, the X-Forwarded-For entry `hops` from the end. Pure logic. */
#ifndef ARCHEIO_CLIENT_ADDR_H
#define ARCHEIO_CLIENT_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "archeio/core/ip.h"

struct trusted_proxies {
	struct ip_prefix *prefixes;
	size_t count;
};

enum client_addr_result {
	CLIENT_ADDR_PEER,      /* peer not trusted: the peer is the client */
	CLIENT_ADDR_FORWARDED, /* trusted peer, header entry used */
	CLIENT_ADDR_BAD_HEADER /* trusted peer, header missing/short/unparsable: 400 */
};

bool trusted_proxies_contains(const struct trusted_proxies *proxies, const struct ip_addr *addr);
/* xff: the X-Forwarded-For value (several header lines joined with ","), or
 * NULL when absent. hops >= 1 (0 gives CLIENT_ADDR_BAD_HEADER). Entries may
 * carry spaces/tabs around commas; IPv6 may be bracketed ("[2001:db8::1]");
 * an entry with a port ("192.0.2.1:80") is unparsable. Only the chosen entry
 * is parsed: earlier ones come from the client. *client is written only for
 * CLIENT_ADDR_PEER and CLIENT_ADDR_FORWARDED. */
enum client_addr_result client_addr_resolve(const struct ip_addr *peer,
					    const struct trusted_proxies *proxies, unsigned hops,
					    const char *xff, size_t xff_len,
					    struct ip_addr *client);

#endif
