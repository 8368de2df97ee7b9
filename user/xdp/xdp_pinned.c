/* Opening archeio's pinned maps from another process (lookup, status). */
#include "xdp_pinned_maps.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "archeio/geo/region.h"
#include "xdp_bpffs.h"
#include "xdp_keys.h"
#include "archeio/xdp/xdp_status.h"

int xdp_pinned_map_open(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd, error;

	if (xdp_bpffs_path(path, sizeof(path), dir, name, err, errlen) != 0)
		return -1;
	fd = bpf_obj_get(path);
	if (fd >= 0)
		return fd;
	error = errno;
	if (error == ENOENT)
		snprintf(err, errlen,
			 "no archeio map pinned at %s (is `archeio serve --xdp-iface` running "
			 "with this --bpffs, and is bpffs visible here?)",
			 path);
	else if (error == EPERM || error == EACCES)
		snprintf(err, errlen, "cannot open %s: %s (needs CAP_BPF or root)", path,
			 strerror(error));
	else
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(error));
	return -error;
}

int xdp_pinned_live_trie(int outer_fd)
{
	uint32_t zero = 0, id = 0;

	if (bpf_map_lookup_elem(outer_fd, &zero, &id) != 0 || id == 0)
		return -1;
	return bpf_map_get_fd_by_id(id);
}

struct xdp_pinned {
	int outer_fd[2]; /* lpm4_outer, lpm6_outer */
	int regions_fd;
};

void xdp_pinned_close(struct xdp_pinned *pinned)
{
	if (!pinned)
		return;
	for (int i = 0; i < 2; i++)
		if (pinned->outer_fd[i] >= 0)
			close(pinned->outer_fd[i]);
	if (pinned->regions_fd >= 0)
		close(pinned->regions_fd);
	free(pinned);
}

void xdp_pinned_describe_missing(const char *dir, char *err, size_t errlen)
{
	if (!xdp_bpffs_visible(dir))
		snprintf(err, errlen,
			 "no archeio maps pinned in %s (it is not on a bpf filesystem here: is "
			 "bpffs mounted? `ip netns exec` hides it, use `nsenter "
			 "--net=/run/netns/NAME`)",
			 dir);
	else if (xdp_bpffs_locked(dir))
		snprintf(err, errlen,
			 "no archeio maps pinned in %s (a running archeio holds it: its pins were "
			 "removed; SIGHUP makes it pin them again)",
			 dir);
	else
		snprintf(err, errlen,
			 "no archeio maps pinned in %s (no `archeio serve --xdp-iface` with this "
			 "--bpffs is running)",
			 dir);
}

int xdp_pinned_open(const char *bpffs_dir, struct xdp_pinned **out, char *err, size_t errlen)
{
	static const char *const names[] = {"lpm4_outer", "lpm6_outer", "regions"};
	struct xdp_pinned *pinned = malloc(sizeof(*pinned));
	int fds[3];

	*out = NULL;
	if (!pinned) {
		snprintf(err, errlen, "out of memory opening pinned maps");
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		fds[i] = xdp_pinned_map_open(bpffs_dir, names[i], err, errlen);
		if (fds[i] < 0) {
			int missing = fds[i] == -ENOENT;

			for (int j = 0; j < i; j++)
				close(fds[j]);
			free(pinned);
			if (missing)
				xdp_pinned_describe_missing(bpffs_dir, err, errlen);
			return missing ? 1 : -1;
		}
	}
	pinned->outer_fd[0] = fds[0];
	pinned->outer_fd[1] = fds[1];
	pinned->regions_fd = fds[2];
	*out = pinned;
	return 0;
}

uint32_t xdp_pinned_lookup(struct xdp_pinned *pinned, const struct ip_addr *addr)
{
	struct lpm_value value;
	struct lpm_v4_key key4;
	struct lpm_v6_key key6;
	const void *key = &key4;
	int which = 0, trie, rc;

	if (addr->family == AF_INET) {
		xdp_lpm_v4_key_for_addr(addr, &key4);
	} else if (addr->family == AF_INET6) {
		xdp_lpm_v6_key_for_addr(addr, &key6);
		key = &key6;
		which = 1;
	} else {
		return REGION_NONE;
	}
	/* The live trie is read from the slot at each lookup: a reload in the
	 * server swaps it. */
	trie = xdp_pinned_live_trie(pinned->outer_fd[which]);
	if (trie < 0)
		return REGION_NONE;
	rc = bpf_map_lookup_elem(trie, key, &value);
	close(trie);
	return rc == 0 ? value.region_id : REGION_NONE;
}

bool xdp_pinned_region_name(struct xdp_pinned *pinned, uint32_t id, struct region_name *name)
{
	if (id == REGION_NONE || bpf_map_lookup_elem(pinned->regions_fd, &id, name) != 0)
		return false;
	name->cloud[sizeof(name->cloud) - 1] = '\0';
	name->region[sizeof(name->region) - 1] = '\0';
	return name->cloud[0] != '\0';
}
