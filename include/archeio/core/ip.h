/* IP addresses and prefixes, IPv4 and IPv6 in one representation. */
#ifndef ARCHEIO_IP_H
#define ARCHEIO_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* family is AF_INET or AF_INET6. IPv4 uses bytes[0..3], the rest are zero.
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) is always normalised to AF_INET so that a
 * dual-stack socket's peer matches IPv4 ranges. */
struct ip_addr {
	uint8_t family;
	uint8_t bytes[16];
};

struct ip_prefix {
	struct ip_addr addr; /* host bits are zero */
	uint8_t len;	     /* 0..32 or 0..128 */
};

/* Strict parse of a textual address ("192.0.2.1", "2001:db8::1"). */
bool ip_parse(const char *text, struct ip_addr *out);
/* Same, from a non-NUL-terminated span (e.g. inside an HTTP header). */
bool ip_parse_span(const char *text, size_t len, struct ip_addr *out);
/* From a struct sockaddr (sockaddr_in/sockaddr_in6), normalising mapped IPv4. */
bool ip_from_sockaddr(const void *sockaddr, struct ip_addr *out);
/* "a.b.c.d/n" or "x::/n". Host bits set beyond the prefix are an error when
 * strict is true, silently cleared otherwise (provider files are trusted to be
 * canonical, operator CIDRs are checked). A bare address means a host prefix. */
bool ip_prefix_parse(const char *text, bool strict, struct ip_prefix *out);
bool ip_prefix_contains(const struct ip_prefix *prefix, const struct ip_addr *addr);
/* Writes the canonical text form; buf should hold INET6_ADDRSTRLEN. */
const char *ip_format(const struct ip_addr *addr, char *buf, size_t buflen);
unsigned ip_max_prefix(uint8_t family);

#endif
