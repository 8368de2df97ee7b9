/* The archeio XDP program and its maps, loaded but not attached: sizing,
 * filling, atomic reloads, lookups and pinning. xdp_path adds the attachment;
 * the BPF unit tests drive this layer directly with BPF_PROG_TEST_RUN.
 *
 * Lookups and tag takes may run on any thread, also during a reload; reloads
 * themselves run one at a time (the caller serialises them, e.g. SIGHUP
 * handled in the event loop). */
#ifndef ARCHEIO_XDP_OBJ_H
#define ARCHEIO_XDP_OBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "archeio/bpf_shared.h"
#include "archeio/core/conn_tuple.h"
#include "archeio/core/ip.h"
#include "archeio/geo/ranges.h"
#include "archeio/geo/region.h"

struct xdp_obj;
struct bpf_object;

/* Opens the embedded object and sizes its maps for this data. Not loaded:
 * libxdp loads it while attaching (xdp_obj_bpf_object() is what it loads). */
struct xdp_obj *xdp_obj_open(const struct range_set *set, const struct region_table *regions,
			     size_t listen_port_count, uint32_t conn_tag_capacity, char *err,
			     size_t errlen);
/* Once loaded: writes listening ports, regions, clouds and the first tries. */
int xdp_obj_fill(struct xdp_obj *obj, const uint16_t *listen_ports, size_t listen_port_count,
		 const struct range_set *set, const struct region_table *regions, char *err,
		 size_t errlen);
/* Builds complete new tries and swaps each into its slot with one map update,
 * so the program and xdp_obj_lookup() see the old set or the new one, never a
 * mix. On error nothing visible has changed. regions must be the same table,
 * grown or not (ids stay stable). */
int xdp_obj_reload(struct xdp_obj *obj, const struct range_set *set,
		   const struct region_table *regions, char *err, size_t errlen);

/* Region id of the longest prefix containing addr in the live tries. */
uint32_t xdp_obj_lookup(struct xdp_obj *obj, const struct ip_addr *addr);
/* Reads and deletes the tag the program wrote for this connection's SYN. */
bool xdp_obj_take_conn_tag(struct xdp_obj *obj, const struct conn_tuple *tuple,
			   uint32_t *region_id);

/* Pins every map under dir (see docs/xdp.md for names), replacing stale pins
 * of the same names; dir must exist on bpffs. Reloads re-pin the live tries. */
int xdp_obj_pin(struct xdp_obj *obj, const char *dir, char *err, size_t errlen);
/* The fd a pin name stands for: a map's, or the live trie's for lpm4/lpm6;
 * -1 when there is none. */
int xdp_obj_pin_fd(const struct xdp_obj *obj, const char *pin_name);
/* The directory xdp_obj_pin pinned in and its open fd; NULL (fd -1) when not
 * pinned. */
const char *xdp_obj_pin_dir(const struct xdp_obj *obj, int *dir_fd);
/* Removes the pins xdp_obj_pin made (and the directory when empty). */
void xdp_obj_unpin(struct xdp_obj *obj);
/* Gives the pin directory to uid:gid, so that reloads can still re-pin the
 * tries there after the process changes to that user. */
int xdp_obj_give_pins(struct xdp_obj *obj, uid_t uid, gid_t gid, char *err, size_t errlen);
/* Records the attachment in the attach_info map. */
int xdp_obj_set_attach_info(struct xdp_obj *obj, uint32_t ifindex, const char *ifname,
			    uint32_t mode, uint32_t prog_id, bool legacy);

struct bpf_object *xdp_obj_bpf_object(struct xdp_obj *obj);
int xdp_obj_prog_fd(const struct xdp_obj *obj);
/* Map fds for tests and status: NULL-safe names as in the BPF source. */
int xdp_obj_map_fd(const struct xdp_obj *obj, const char *name);
void xdp_obj_close(struct xdp_obj *obj);

#endif
