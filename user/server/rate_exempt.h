/* --rate-limit-exempt: clients the per-client request limit leaves alone,
 * by address (a CIDR) or by where they are (CLOUD or CLOUD:REGION, as the
 * range files name them: a CI fleet, or a cloud with its own mirror). Pure. */
#ifndef ARCHEIO_SERVER_RATE_EXEMPT_H
#define ARCHEIO_SERVER_RATE_EXEMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "archeio/bpf_shared.h"
#include "archeio/core/ip.h"

struct rate_exempt_place {
	char cloud[REGION_CLOUD_MAX];
	char region[REGION_NAME_MAX]; /* "": every region of the cloud */
};

struct rate_exempt {
	struct ip_prefix *prefixes;
	size_t prefix_count;
	struct rate_exempt_place *places;
	size_t place_count;
};

/* Parses every entry; false with err naming the first bad one. An entry that
 * parses as a CIDR (or a bare address) is one; one with a '/' that does not
 * (host bits set, a bad length) is an error; anything else is CLOUD[:REGION]. */
bool rate_exempt_parse(struct rate_exempt *exempt, char *const *entries, size_t count, char *err,
		       size_t errlen);
void rate_exempt_free(struct rate_exempt *exempt);
bool rate_exempt_has_places(const struct rate_exempt *exempt);
bool rate_exempt_matches_addr(const struct rate_exempt *exempt, const struct ip_addr *client);
/* cloud and region: the client's, NULL when it is in no range. */
bool rate_exempt_matches_place(const struct rate_exempt *exempt, const char *cloud,
			       const char *region);

#endif
