/* Finding and detaching an archeio_xdp that an earlier run left attached. */
#include "xdp_kept.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xdp_bpffs.h"
#include "xdp_pins.h"

static int value_size_of(int fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? (int)info.value_size : -1;
}

int xdp_kept_read_info(const char *dir, struct attach_info *info, char *err, size_t errlen)
{
	char path[PATH_MAX];
	uint32_t zero = 0;
	int fd, rc;

	if (xdp_bpffs_path(path, sizeof(path), dir, "attach_info", err, errlen) != 0)
		return -1;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	/* A map of another size is not this version's: reading it into ours
	 * would overflow, and it describes nothing this version can take over. */
	rc = value_size_of(fd) == (int)sizeof(*info) ? 1 : 0;
	if (rc == 1 && bpf_map_lookup_elem(fd, &zero, info) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		rc = -1;
	}
	close(fd);
	if (rc == 1)
		info->ifname[sizeof(info->ifname) - 1] = '\0';
	return rc;
}

static bool is_wanted(struct xdp_program *prog, uint32_t prog_id)
{
	const char *name = xdp_program__name(prog);

	return name && strcmp(name, XDP_KEPT_PROG_NAME) == 0 &&
	       (prog_id == 0 || xdp_program__id(prog) == prog_id);
}

void xdp_kept_find(int ifindex, uint32_t prog_id, struct xdp_kept *kept)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *main_prog, *prog = NULL;

	memset(kept, 0, sizeof(*kept));
	if (!mp || libxdp_get_error(mp))
		return; /* nothing attached */
	kept->mode = xdp_multiprog__attach_mode(mp);
	main_prog = xdp_multiprog__main_prog(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		if (main_prog && is_wanted(main_prog, prog_id))
			prog = main_prog;
	} else {
		/* Behind the dispatcher archeio_xdp is one program among others. */
		for (struct xdp_program *p = xdp_multiprog__next_prog(NULL, mp); p && !prog;
		     p = xdp_multiprog__next_prog(p, mp))
			if (is_wanted(p, prog_id))
				prog = p;
	}
	if (prog) {
		kept->prog_id = xdp_program__id(prog);
	} else if (main_prog) {
		kept->other_id = xdp_program__id(main_prog);
		snprintf(kept->other_name, sizeof(kept->other_name), "%s",
			 xdp_program__name(main_prog) ? xdp_program__name(main_prog) : "?");
	}
	xdp_multiprog__close(mp);
}

int xdp_kept_detach(int ifindex, const char *ifname, const struct xdp_kept *kept, char *err,
		    size_t errlen)
{
	struct xdp_program *prog = xdp_program__from_id(kept->prog_id);
	char reason[128];
	int rc = (int)libxdp_get_error(prog);

	if (rc || !prog) {
		libxdp_strerror(rc ? rc : -ENOENT, reason, sizeof(reason));
		snprintf(err, errlen, "cannot open %s (program id %u) on %s: %s",
			 XDP_KEPT_PROG_NAME, kept->prog_id, ifname, reason);
		return -1;
	}
	/* libxdp removes a program running alone, and rebuilds the dispatcher
	 * without it (or removes the dispatcher) when it runs behind one. */
	rc = xdp_program__detach(prog, ifindex, kept->mode, 0);
	xdp_program__close(prog);
	if (rc) {
		libxdp_strerror(rc, reason, sizeof(reason));
		snprintf(err, errlen, "cannot detach %s (program id %u) from %s: %s",
			 XDP_KEPT_PROG_NAME, kept->prog_id, ifname, reason);
		return -1;
	}
	return 0;
}

int xdp_kept_take_over(const char *dir, int ifindex, const char *ifname, xdp_path_log_fn log,
		       void *log_ctx, char *err, size_t errlen)
{
	struct attach_info info;
	struct xdp_kept kept;
	char line[512];
	int rc = xdp_kept_read_info(dir, &info, err, errlen);

	if (rc <= 0)
		return rc;
	/* Pins of another interface, or of no attachment: the new pins replace them. */
	if (info.mode == ARCHEIO_ATTACH_NONE || info.prog_id == 0 ||
	    info.ifindex != (uint32_t)ifindex || strcmp(info.ifname, ifname) != 0)
		return 0;
	xdp_kept_find(ifindex, info.prog_id, &kept);
	if (kept.prog_id == 0)
		return 0; /* gone, or replaced by a program the attach will refuse */
	if (xdp_kept_detach(ifindex, ifname, &kept, err, errlen) != 0)
		return -1;
	/* Its pins describe nothing now: gone at once, so that a start failing
	 * after this point leaves no stale pins (the directory stays: the
	 * caller holds it). */
	xdp_pins_remove(dir, false, NULL, NULL);
	snprintf(line, sizeof(line),
		 "took over %s (program id %u) left attached to %s by an earlier run "
		 "(--xdp-keep or a crash): detached it and removed its pins from %s; a new "
		 "program and maps replace it",
		 XDP_KEPT_PROG_NAME, kept.prog_id, ifname, dir);
	if (log)
		log(log_ctx, line);
	return 0;
}
