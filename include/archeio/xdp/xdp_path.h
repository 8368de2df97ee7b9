/* The XDP data path seen from the server: load and attach the program, fill
 * the LPM maps from ranges (atomically on reload), and answer "which region is
 * this connection / address in" from the maps.
 *
 * Typical use: xdp_path_open() at start (after the ranges are loaded and the
 * listening ports known), xdp_path_reload() on SIGHUP, after accept()
 * xdp_path_take_conn_tag(), and xdp_path_close() on exit. The server looks
 * untagged and forwarded addresses up in its userspace range table (same
 * ranges, no syscall); xdp_path_lookup() is for tools and tests. Lookups and takes may run on any
 * thread, also during a reload; reloads run one at a time. */
#ifndef ARCHEIO_XDP_PATH_H
#define ARCHEIO_XDP_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "archeio/bpf_shared.h"
#include "archeio/core/conn_tuple.h"
#include "archeio/core/ip.h"
#include "archeio/geo/ranges.h"
#include "archeio/geo/region.h"
#include "archeio/xdp/xdp_mode.h"

/* Receives one complete line (no trailing newline) about something the
 * operator should know but that is not an error: the fall back from native to
 * skb mode under auto, libxdp attaching without its dispatcher, replaced
 * stale pins, the attachment itself. */
typedef void (*xdp_path_log_fn)(void *ctx, const char *message);

struct xdp_path_options {
	const char *iface;
	enum xdp_path_mode mode;
	const char *bpffs_dir;	      /* NULL: /sys/fs/bpf/archeio */
	bool keep;		      /* leave attached and pinned on close */
	const uint16_t *listen_ports; /* host order; SYNs to other ports are not tagged */
	size_t listen_port_count;
	uint32_t conn_tag_capacity; /* 0: 65536 pending (not yet accepted) tags */
	/* SYN limit per source (IPv4 /32, IPv6 /64): 0 leaves it off, and the
	 * program passes every frame as without it. */
	uint32_t syn_limit;
	uint32_t syn_burst;
	const struct ip_prefix *syn_exempt; /* never limited */
	size_t syn_exempt_count;
	xdp_path_log_fn log; /* may be NULL */
	void *log_ctx;
};

struct xdp_path;

/* "auto", "native", "skb"; false for anything else. */
bool xdp_path_mode_parse(const char *text, enum xdp_path_mode *mode);
const char *xdp_path_mode_name(enum xdp_path_mode mode);

/* NULL with a clear message in err (missing bpffs, no CAP_BPF, no such
 * interface, native attach refused without auto, ...). Nothing is left
 * attached or pinned on failure. */
struct xdp_path *xdp_path_open(const struct xdp_path_options *options, const struct range_set *set,
			       const struct region_table *regions, char *err, size_t errlen);
/* Changes the SYN limit in place (no reattach); 0 turns it off. */
int xdp_path_set_syn_limit(struct xdp_path *path, uint32_t rate, uint32_t burst, char *err,
			   size_t errlen);
/* Replaces the CIDRs the SYN limit leaves alone (no reattach). */
int xdp_path_set_syn_exempt(struct xdp_path *path, const struct ip_prefix *exempt, size_t count,
			    char *err, size_t errlen);
/* Replaces the ranges atomically: concurrent lookups see old or new, never a
 * mix. On error the old ranges stay live. regions is the same (grown) table. */
int xdp_path_reload(struct xdp_path *path, const struct range_set *set,
		    const struct region_table *regions, char *err, size_t errlen);
/* On SIGHUP: pins again whatever was removed from the pin directory under
 * the running server; returns how many (0: nothing was missing). -1 with the
 * reason when it cannot (bpffs unmounted or mounted again): the program and
 * the server keep using the maps through the fds it holds, only `archeio xdp
 * status`, `archeio lookup` and bpftool lose sight of them. */
int xdp_path_repin(struct xdp_path *path, char *err, size_t errlen);
/* Takes (reads and deletes) the tag XDP wrote for this connection. */
bool xdp_path_take_conn_tag(struct xdp_path *path, const struct conn_tuple *tuple,
			    uint32_t *region_id);
/* LPM lookup in the active maps (a bpf() syscall under a lock); REGION_NONE
 * when nothing matches. */
uint32_t xdp_path_lookup(struct xdp_path *path, const struct ip_addr *addr);
/* The mode actually in use (native or skb; never auto) and the program id. */
enum xdp_path_mode xdp_path_attached_mode(const struct xdp_path *path);
uint32_t xdp_path_prog_id(const struct xdp_path *path);
/* Before the process changes user: gives the pin directory to uid:gid, so
 * that reloads keep re-pinning the live tries there. */
int xdp_path_give_pins(struct xdp_path *path, uid_t uid, gid_t gid, char *err, size_t errlen);
/* From now on xdp_path_close() of this process leaves the program attached
 * and the maps pinned: another process (the server's exit helper, which kept
 * the rights to) detaches and unpins. */
void xdp_path_leave_attached(struct xdp_path *path);
/* Whether the interface still runs the program (for /readyz): one netlink
 * query. Behind libxdp's dispatcher, whether the dispatcher is there. */
bool xdp_path_attached(const struct xdp_path *path);
/* What the program counted and holds, for the server's metrics. */
struct xdp_path_stats {
	bool attached;			  /* the interface still runs the program */
	uint64_t counters[COUNTER_COUNT]; /* summed over CPUs */
	struct cloud_name clouds[ARCHEIO_CLOUD_SLOTS];
	uint64_t conn_tags; /* tags written, not yet taken */
	uint32_t conn_tags_capacity;
};
/* Reads the maps through the fds the path holds (no pins, no privilege
 * beyond what it already has). -1 with err when the counters cannot be
 * read. Walks conn_tags: call it per scrape, not per request. */
int xdp_path_read_stats(struct xdp_path *path, struct xdp_path_stats *out, char *err,
			size_t errlen);
/* Detaches and unpins, unless options->keep. NULL is a no-op. */
void xdp_path_close(struct xdp_path *path);

#endif
