/* Gathering `archeio xdp status` from the pinned maps. */
#include "archeio/xdp/xdp_status.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xdp_map_read.h"
#include "xdp_pinned_maps.h"

static uint64_t count_regions(int fd, uint32_t max_entries)
{
	struct region_name name;
	uint64_t used = 0;

	for (uint32_t id = 1; id < max_entries; id++)
		if (bpf_map_lookup_elem(fd, &id, &name) == 0 && name.cloud[0])
			used++;
	return used;
}

/* Whether the recorded interface still runs the program: only answerable in
 * the namespace the server attached in. */
static void check_attachment(struct xdp_status_report *r)
{
	char name[IF_NAMESIZE];
	uint32_t id = 0;
	int flags = r->info.mode == ARCHEIO_ATTACH_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	int prog_fd;

	r->attached = -1;
	if (r->info.mode == ARCHEIO_ATTACH_NONE) {
		r->attached = 0;
		return;
	}
	if (!if_indextoname(r->info.ifindex, name) ||
	    strncmp(name, r->info.ifname, sizeof(r->info.ifname)) != 0)
		return;
	if (bpf_xdp_query_id((int)r->info.ifindex, flags, &id) != 0)
		return;
	r->iface_prog_id = id;
	prog_fd = bpf_prog_get_fd_by_id(r->info.prog_id);
	if (prog_fd >= 0)
		close(prog_fd);
	/* Alone, the interface runs our id; behind libxdp's dispatcher it runs
	 * the dispatcher, which holds our program while it exists. */
	r->attached = r->info.legacy ? id == r->info.prog_id : id != 0 && prog_fd >= 0;
}

struct pinned_fds {
	int outer4, outer6, regions, conn_tags, listen_ports, counters, clouds, info;
};

static void close_fds(struct pinned_fds *fds)
{
	int *all = (int *)fds;

	for (size_t i = 0; i < sizeof(*fds) / sizeof(int); i++)
		if (all[i] >= 0)
			close(all[i]);
}

static int open_fds(const char *dir, struct pinned_fds *fds, char *err, size_t errlen)
{
	static const char *const names[] = {"lpm4_outer",   "lpm6_outer", "regions", "conn_tags",
					    "listen_ports", "counters",	  "clouds",  "attach_info"};
	int *all = (int *)fds;

	_Static_assert(sizeof(names) / sizeof(names[0]) == sizeof(*fds) / sizeof(int),
		       "one pinned map name per fd");
	for (size_t i = 0; i < sizeof(*fds) / sizeof(int); i++)
		all[i] = -1;
	for (size_t i = 0; i < sizeof(*fds) / sizeof(int); i++) {
		all[i] = xdp_pinned_map_open(dir, names[i], err, errlen);
		if (all[i] < 0) {
			if (all[i] == -ENOENT)
				xdp_pinned_describe_missing(dir, err, errlen);
			all[i] = -1;
			close_fds(fds);
			return -1;
		}
	}
	return 0;
}

static void set_map(struct xdp_status_map *map, const char *name, uint64_t entries,
		    uint32_t max_entries)
{
	map->name = name;
	map->entries = entries;
	map->max_entries = max_entries;
}

static uint32_t live_trie_max(int outer_fd)
{
	int trie = xdp_pinned_live_trie(outer_fd);
	uint32_t max = trie >= 0 ? xdp_map_max_entries(trie) : 0;

	if (trie >= 0)
		close(trie);
	return max;
}

int xdp_status_collect(const char *bpffs_dir, struct xdp_status_report *r, char *err, size_t errlen)
{
	struct pinned_fds fds;
	uint32_t zero = 0, max;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->bpffs_dir = bpffs_dir;
	if (open_fds(bpffs_dir, &fds, err, errlen) != 0)
		return -1;
	if (bpf_map_lookup_elem(fds.info, &zero, &r->info) != 0) {
		snprintf(err, errlen, "cannot read %s/attach_info", bpffs_dir);
		goto out;
	}
	r->info.ifname[sizeof(r->info.ifname) - 1] = '\0';
	check_attachment(r);
	set_map(&r->maps[0], "lpm4", r->info.v4_prefixes, live_trie_max(fds.outer4));
	set_map(&r->maps[1], "lpm6", r->info.v6_prefixes, live_trie_max(fds.outer6));
	max = xdp_map_max_entries(fds.regions);
	set_map(&r->maps[2], "regions", count_regions(fds.regions, max), max);
	max = xdp_map_max_entries(fds.conn_tags);
	set_map(&r->maps[3], "conn_tags",
		xdp_map_count_keys(fds.conn_tags, max, sizeof(struct conn_key)), max);
	max = xdp_map_max_entries(fds.listen_ports);
	set_map(&r->maps[4], "listen_ports",
		xdp_map_count_keys(fds.listen_ports, max, sizeof(uint16_t)), max);
	for (uint32_t slot = 0; slot < ARCHEIO_CLOUD_SLOTS; slot++)
		if (bpf_map_lookup_elem(fds.clouds, &slot, &r->clouds[slot]) != 0)
			memset(&r->clouds[slot], 0, sizeof(r->clouds[slot]));
	rc = xdp_map_sum_counters(fds.counters, r->counters, err, errlen);
out:
	close_fds(&fds);
	return rc;
}

int xdp_status_run(const char *bpffs_dir, bool json, FILE *out, char *err, size_t errlen)
{
	struct xdp_status_report report;

	if (xdp_status_collect(bpffs_dir, &report, err, errlen) != 0)
		return -1;
	if (xdp_status_format(&report, json, out) != 0) {
		snprintf(err, errlen, "cannot write the status");
		return -1;
	}
	return 0;
}
