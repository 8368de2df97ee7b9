/* `archeio xdp status` and `archeio lookup` through the pinned maps, for a
 * process other than the server (run in the interface's network namespace,
 * with the bpffs mount visible: `nsenter --net=...`, not `ip netns exec`). */
#ifndef ARCHEIO_XDP_STATUS_H
#define ARCHEIO_XDP_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "archeio/bpf_shared.h"
#include "archeio/core/ip.h"

#define XDP_STATUS_MAP_COUNT 5

struct xdp_status_map {
	const char *name;
	uint64_t entries; /* prefixes for tries, used ids for regions, keys otherwise */
	uint32_t max_entries;
};

/* Everything status prints, gathered from the pins; formatted separately so
 * the format is tested without BPF. */
struct xdp_status_report {
	const char *bpffs_dir;
	struct attach_info info;
	int attached;		/* 1 yes, 0 no, -1 unknown (other namespace) */
	uint32_t iface_prog_id; /* what the interface runs now (dispatcher or us) */
	struct xdp_status_map maps[XDP_STATUS_MAP_COUNT];
	uint64_t counters[COUNTER_COUNT]; /* summed over CPUs */
	struct cloud_name clouds[ARCHEIO_CLOUD_SLOTS];
};

/* Prints the report: one `name value` per line, or one JSON object. */
int xdp_status_format(const struct xdp_status_report *report, bool json, FILE *out);
/* Reads the pins under bpffs_dir into report. -1 with a message (no pins,
 * not bpffs, permission). */
int xdp_status_collect(const char *bpffs_dir, struct xdp_status_report *report, char *err,
		       size_t errlen);
/* collect + format: 0, or -1 with err set. */
int xdp_status_run(const char *bpffs_dir, bool json, FILE *out, char *err, size_t errlen);

struct xdp_pinned;

/* 0 and *pinned set; 1 when no archeio maps are pinned in bpffs_dir, with
 * err saying why (bpffs not visible here, or no server pinned them); -1 with
 * err on any other failure (permission, ...). */
int xdp_pinned_open(const char *bpffs_dir, struct xdp_pinned **pinned, char *err, size_t errlen);
/* LPM lookup in the live tries; REGION_NONE (0) when nothing matches. */
uint32_t xdp_pinned_lookup(struct xdp_pinned *pinned, const struct ip_addr *addr);
/* The names of region id from the pinned regions map; false if unknown. */
bool xdp_pinned_region_name(struct xdp_pinned *pinned, uint32_t id, struct region_name *name);
void xdp_pinned_close(struct xdp_pinned *pinned);

#endif
