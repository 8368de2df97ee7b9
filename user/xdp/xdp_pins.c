/* The pin names and their removal. */
#include "xdp_pins.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "xdp_bpffs.h"

const char *const xdp_pinned_map_names[] = {
    "lpm4_outer", "lpm6_outer",	 "regions",	  "clouds",	 "conn_tags",	"listen_ports",
    "counters",	  "attach_info", "syn_limit_cfg", "syn_buckets", "syn_exempt4", "syn_exempt6",
};
const size_t xdp_pinned_map_count = sizeof(xdp_pinned_map_names) / sizeof(xdp_pinned_map_names[0]);

const char *const xdp_trie_pin_names[2] = {"lpm4", "lpm6"};
const char *const xdp_trie_next_pin_names[2] = {"lpm4_next", "lpm6_next"};

static size_t remove_one(const char *dir, const char *name, xdp_pin_removed_fn removed, void *ctx)
{
	char path[PATH_MAX], ignored[128];

	if (xdp_bpffs_path(path, sizeof(path), dir, name, ignored, sizeof(ignored)) != 0 ||
	    unlink(path) != 0)
		return 0;
	if (removed)
		removed(ctx, name);
	return 1;
}

size_t xdp_pins_remove(const char *dir, bool remove_dir, xdp_pin_removed_fn removed, void *ctx)
{
	size_t count = 0;

	for (size_t i = 0; i < xdp_pinned_map_count; i++)
		count += remove_one(dir, xdp_pinned_map_names[i], removed, ctx);
	for (size_t which = 0; which < 2; which++) {
		count += remove_one(dir, xdp_trie_pin_names[which], removed, ctx);
		count += remove_one(dir, xdp_trie_next_pin_names[which], removed, ctx);
	}
	if (remove_dir)
		rmdir(dir); /* only succeeds when nothing else is pinned there */
	return count;
}

size_t xdp_pins_remove_at(int dirfd)
{
	size_t count = 0;

	for (size_t i = 0; i < xdp_pinned_map_count; i++)
		count += unlinkat(dirfd, xdp_pinned_map_names[i], 0) == 0;
	for (size_t which = 0; which < 2; which++) {
		count += unlinkat(dirfd, xdp_trie_pin_names[which], 0) == 0;
		count += unlinkat(dirfd, xdp_trie_next_pin_names[which], 0) == 0;
	}
	return count;
}
