/* The XDP SYN limit's maps (--xdp-syn-limit): the one-entry configuration,
 * rewritten in place so limits change without reattaching, and the exempt
 * tries. Tests drive it on a loaded xdp_obj. */
#ifndef ARCHEIO_XDP_SYN_LIMIT_H
#define ARCHEIO_XDP_SYN_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "archeio/core/ip.h"
#include "xdp_obj.h"

/* rate SYNs per second per source (0: off), burst >= 1; exempt: CIDRs the
 * limit leaves alone (added to the exempt tries; at most
 * ARCHEIO_SYN_EXEMPT_MAX per family). now_ns: 0 for the kernel clock, else a
 * fixed clock (tests). */
int xdp_syn_limit_set(struct xdp_obj *obj, uint32_t rate, uint32_t burst, uint64_t now_ns,
		      char *err, size_t errlen);
int xdp_syn_limit_exempt(struct xdp_obj *obj, const struct ip_prefix *exempt, size_t count,
			 char *err, size_t errlen);

/* Makes the exempt tries hold exactly exempt: adds every entry, then
 * deletes the others (so a source exempt before and after never loses it). */
int xdp_syn_limit_exempt_replace(struct xdp_obj *obj, const struct ip_prefix *exempt, size_t count,
				 char *err, size_t errlen);

#endif
