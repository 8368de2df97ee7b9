/* Reading a running server's pinned XDP state: `archeio xdp status` and
 * `archeio lookup` against the pinned maps. */
#ifndef ARCHEIO_XDP_STATUS_H
#define ARCHEIO_XDP_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "archeio/bpf_shared.h"
#include "archeio/ip.h"

/* Prints attachment, map sizes and counters (`name value` lines, or JSON).
 * Returns 0, or 1 with err set (nothing pinned, bpffs missing, ...). */
int xdp_status_run(const char *bpffs_dir, bool json, FILE *out, char *err, size_t errlen);

struct xdp_pinned;
/* NULL when nothing is pinned under bpffs_dir (err says why). */
struct xdp_pinned *xdp_pinned_open(const char *bpffs_dir, char *err, size_t errlen);
bool xdp_pinned_lookup(struct xdp_pinned *pinned, const struct ip_addr *addr,
		       struct region_name *name);
void xdp_pinned_close(struct xdp_pinned *pinned);

#endif
