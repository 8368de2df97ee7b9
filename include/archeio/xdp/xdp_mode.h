/* How the XDP program attaches, on its own so that the configuration can
 * hold it without including the XDP path API (xdp_path.h). */
#ifndef ARCHEIO_XDP_MODE_H
#define ARCHEIO_XDP_MODE_H

/* Named XDP_PATH_* because libxdp's enum xdp_attach_mode owns XDP_MODE_*. */
enum xdp_path_mode { XDP_PATH_MODE_AUTO, XDP_PATH_MODE_NATIVE, XDP_PATH_MODE_SKB };

#endif
