/* Provider CIDRs in the spellings providers write, parsed in place. Internal
 * to geo (and its unit tests). */
#ifndef ARCHEIO_CIDR_FAST_H
#define ARCHEIO_CIDR_FAST_H

#include <stdbool.h>
#include <stddef.h>

#include "archeio/core/ip.h"

/* "a.b.c.d/n" (decimal octets and length without leading zeros) or an IPv6
 * "x:x::x/n" in hex groups of 1-4 digits, at most one "::", without host
 * bits and not IPv4-mapped: true with *out set exactly as
 * ip_prefix_parse(text, true, out) would set it. False for anything else
 * (a bare address, an embedded IPv4, host bits, bad text), which the caller
 * hands to ip_prefix_parse(): nothing is refused here that it would take. */
bool cidr_fast_parse(const char *s, size_t len, struct ip_prefix *out);

#endif
