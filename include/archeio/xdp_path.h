/* The XDP data path seen from the server: load and attach the program, fill
 * the LPM maps from ranges (atomically on reload), and answer "which region is
 * this connection / address in" from the maps. */
#ifndef ARCHEIO_XDP_PATH_H
#define ARCHEIO_XDP_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/conn.h"
#include "archeio/ip.h"
#include "archeio/ranges.h"
#include "archeio/region.h"

enum xdp_mode { XDP_MODE_AUTO, XDP_MODE_NATIVE, XDP_MODE_SKB };

struct xdp_path_options {
	const char *iface;
	enum xdp_mode mode;
	const char *bpffs_dir; /* default /sys/fs/bpf/archeio */
	bool keep;             /* leave attached and pinned on close */
	const uint16_t *listen_ports; /* host order */
	size_t listen_port_count;
};

struct xdp_path;

/* NULL with a clear message in err (missing bpffs, no CAP_BPF, no such
 * interface, native attach refused without auto, ...). */
struct xdp_path *xdp_path_open(const struct xdp_path_options *options, const struct range_set *set,
			       const struct region_table *regions, char *err, size_t errlen);
/* Replaces the ranges atomically: concurrent lookups see old or new, never a mix. */
int xdp_path_reload(struct xdp_path *path, const struct range_set *set,
		    const struct region_table *regions, char *err, size_t errlen);
/* Takes (reads and deletes) the tag XDP wrote for this connection. */
bool xdp_path_take_conn_tag(struct xdp_path *path, const struct conn_tuple *tuple,
			    uint32_t *region_id);
/* LPM lookup in the active maps. */
uint32_t xdp_path_lookup(struct xdp_path *path, const struct ip_addr *addr);
void xdp_path_close(struct xdp_path *path);

#endif
