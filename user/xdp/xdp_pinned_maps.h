/* Opening single pinned maps by name, shared by status and pinned lookups. */
#ifndef ARCHEIO_XDP_PINNED_MAPS_H
#define ARCHEIO_XDP_PINNED_MAPS_H

#include <stddef.h>

/* fd of dir/name, or -errno with a message (naming the path; for ENOENT,
 * how the pins come to exist). */
int xdp_pinned_map_open(const char *dir, const char *name, char *err, size_t errlen);
/* Why dir holds no archeio pins, for someone who expected a server's: bpffs
 * not visible here, a running server's pins removed, or no server. */
void xdp_pinned_describe_missing(const char *dir, char *err, size_t errlen);
/* fd of the trie currently in the one-slot outer map, or -1. */
int xdp_pinned_live_trie(int outer_fd);

#endif
