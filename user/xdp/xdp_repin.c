/* Pinning again what was removed from the pin directory. */
#include "xdp_repin.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "xdp_bpffs.h"
#include "xdp_pins.h"

/* 1 pinned again, 0 still there (or nothing to pin), -1 failed. */
static int repin_one(const struct xdp_obj *obj, int dir_fd, const char *name, char *err,
		     size_t errlen)
{
	struct stat st;
	char path[64];
	int fd = xdp_obj_pin_fd(obj, name);

	if (fd < 0 || fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
		return 0;
	/* Through the open directory (bpf_obj_pin takes no directory fd on
	 * older kernels): after --user its parents may be root's alone. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dir_fd, name);
	if (bpf_obj_pin(fd, path) != 0) {
		snprintf(err, errlen, "cannot pin %s again: %s", name, strerror(errno));
		return -1;
	}
	return 1;
}

int xdp_repin_missing(struct xdp_obj *obj, char *err, size_t errlen)
{
	int dir_fd, rc, count = 0;
	const char *dir = xdp_obj_pin_dir(obj, &dir_fd);
	char why[256];

	if (!dir || dir_fd < 0)
		return 0;
	/* Pinning through a directory its path no longer names would make
	 * pins nobody can see. */
	if (xdp_bpffs_same_dir(dir, dir_fd, why, sizeof(why)) == 0) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	for (size_t i = 0; i < xdp_pinned_map_count + 2; i++) {
		const char *name = i < xdp_pinned_map_count
				       ? xdp_pinned_map_names[i]
				       : xdp_trie_pin_names[i - xdp_pinned_map_count];
		rc = repin_one(obj, dir_fd, name, err, errlen);
		if (rc < 0)
			return -1;
		count += rc;
	}
	return count;
}
