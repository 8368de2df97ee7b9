/* Pins removed under a running server, pinned again (docs/xdp.md, "Pins
 * removed or bpffs unmounted"). */
#ifndef ARCHEIO_XDP_REPIN_H
#define ARCHEIO_XDP_REPIN_H

#include <stddef.h>

#include "xdp_obj.h"

/* Pins again, in the directory xdp_obj_pin pinned in, every archeio pin
 * missing from it; returns how many (0: all were there, or nothing is
 * pinned). -1 with the reason when that directory is no longer what its path
 * names (bpffs unmounted, or mounted again) or a pin fails: the maps keep
 * working through the fds the process holds, only other processes cannot see
 * them. */
int xdp_repin_missing(struct xdp_obj *obj, char *err, size_t errlen);

#endif
