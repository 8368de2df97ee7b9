/* `archeio xdp detach`: the kept program, then its pins. */
#include "archeio/xdp/xdp_detach.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xdp_bpffs.h"
#include "xdp_kept.h"
#include "xdp_pins.h"

/* What the pin directory says, read under its lock. */
struct pinned_state {
	bool dir_exists;
	bool have_info; /* attach_info read, describing an attachment */
	struct attach_info info;
	int lock; /* -1 when the directory does not exist */
};

static int read_pins(const char *dir, struct pinned_state *st, char *err, size_t errlen)
{
	struct stat sb;
	int rc;

	memset(st, 0, sizeof(*st));
	st->lock = -1;
	/* Under `ip netns exec` the directory is simply missing: that is no
	 * proof that nothing is pinned. */
	if (!xdp_bpffs_visible(dir)) {
		snprintf(err, errlen,
			 "%s is not on a bpf filesystem here (`ip netns exec` hides bpffs: use "
			 "`nsenter --net=/run/netns/NAME`); nothing was removed",
			 dir);
		return -1;
	}
	st->dir_exists = stat(dir, &sb) == 0;
	if (!st->dir_exists)
		return 0;
	st->lock = xdp_bpffs_lock(dir, err, errlen);
	if (st->lock < 0)
		return -1;
	rc = xdp_kept_read_info(dir, &st->info, err, errlen);
	if (rc < 0)
		return -1;
	st->have_info = rc == 1 && st->info.mode != ARCHEIO_ATTACH_NONE && st->info.ifname[0];
	return 0;
}

/* Whether the program the pins name still exists anywhere: when it does not,
 * its interface is gone and the pins are stale. */
static bool program_exists(uint32_t prog_id)
{
	int fd;

	if (prog_id == 0)
		return false;
	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return errno != ENOENT; /* no permission: it may exist */
	close(fd);
	return true;
}

static void say_not_found(FILE *out, const char *iface, const struct xdp_kept *kept)
{
	if (kept->other_id)
		fprintf(out, "no %s on %s (it runs %s, program id %u, not archeio's)\n",
			XDP_KEPT_PROG_NAME, iface, kept->other_name, kept->other_id);
	else
		fprintf(out, "no %s on %s (no XDP program attached)\n", XDP_KEPT_PROG_NAME, iface);
}

/* Detaches archeio_xdp (prog_id, or any id when 0) from iface. */
static int detach_program(const char *iface, uint32_t prog_id, bool recorded, FILE *out, char *err,
			  size_t errlen)
{
	unsigned ifindex = if_nametoindex(iface);
	struct xdp_kept kept;

	if (ifindex == 0) {
		if (recorded && !program_exists(prog_id)) {
			fprintf(out, "no %s on %s (the interface and its program are gone)\n",
				XDP_KEPT_PROG_NAME, iface);
			return 0;
		}
		snprintf(err, errlen,
			 "no network interface '%s' in this network namespace%s; nothing was "
			 "removed",
			 iface,
			 recorded ? " (the pins record it): run this where archeio served, "
				    "e.g. `nsenter --net=/run/netns/NAME`"
				  : "");
		return -1;
	}
	xdp_kept_find((int)ifindex, prog_id, &kept);
	if (kept.prog_id == 0) {
		say_not_found(out, iface, &kept);
		return 0;
	}
	if (xdp_kept_detach((int)ifindex, iface, &kept, err, errlen) != 0)
		return -1;
	fprintf(out, "detached %s (program id %u) from %s\n", XDP_KEPT_PROG_NAME, kept.prog_id,
		iface);
	return 0;
}

struct removed_list {
	char names[512];
};

static void note_removed(void *ctx, const char *name)
{
	struct removed_list *list = ctx;
	size_t used = strlen(list->names);

	snprintf(list->names + used, sizeof(list->names) - used, "%s%s", used ? " " : "", name);
}

static int detach_and_unpin(const char *dir, const char *iface, const struct pinned_state *st,
			    FILE *out, char *err, size_t errlen)
{
	const char *target = iface ? iface : st->have_info ? st->info.ifname : NULL;
	bool recorded = st->have_info && strcmp(target ? target : "", st->info.ifname) == 0;
	struct removed_list removed = {.names = ""};
	size_t count;

	if (iface && st->have_info && !recorded) {
		snprintf(err, errlen,
			 "the pins in %s belong to %s on %s, not on %s: name that interface, or "
			 "another --bpffs; nothing was removed",
			 dir, XDP_KEPT_PROG_NAME, st->info.ifname, iface);
		return -1;
	}
	if (!target && !st->dir_exists) {
		fprintf(out, "nothing to remove: no archeio pins in %s\n", dir);
		return 0;
	}
	if (target && detach_program(target, recorded ? st->info.prog_id : 0, recorded, out, err,
				     errlen) != 0)
		return -1;
	count = st->dir_exists ? xdp_pins_remove(dir, true, note_removed, &removed) : 0;
	if (count)
		fprintf(out, "removed %zu pins from %s (%s)\n", count, dir, removed.names);
	else
		fprintf(out, "%sno archeio pins in %s\n", target ? "" : "nothing to remove: ", dir);
	return 0;
}

int xdp_detach_run(const char *bpffs_dir, const char *iface, FILE *out, char *err, size_t errlen)
{
	const char *dir = bpffs_dir ? bpffs_dir : XDP_BPFFS_DEFAULT_DIR;
	struct pinned_state st;
	int rc = read_pins(dir, &st, err, errlen);

	if (rc == 0)
		rc = detach_and_unpin(dir, iface && *iface ? iface : NULL, &st, out, err, errlen);
	if (st.lock >= 0)
		close(st.lock);
	return rc;
}
