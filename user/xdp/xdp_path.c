/* The XDP path: xdp_obj (maps) + xdp_attach (interface) + pins. */
#include "archeio/xdp/xdp_path.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archeio/bpf_shared.h"
#include "xdp_attach.h"
#include "xdp_bpffs.h"
#include "xdp_kept.h"
#include "xdp_map_read.h"
#include "xdp_obj.h"
#include "xdp_repin.h"
#include "xdp_syn_limit.h"

struct xdp_path {
	struct xdp_obj *obj;
	struct xdp_attachment attachment;
	bool keep;
	int dir_lock; /* the pin directory is this process's while it is open */
	char *dir;
	char *iface;
	xdp_path_log_fn log;
	void *log_ctx;
};

int xdp_path_set_syn_limit(struct xdp_path *path, uint32_t rate, uint32_t burst, char *err,
			   size_t errlen)
{
	return xdp_syn_limit_set(path->obj, rate, burst, 0, err, errlen);
}

int xdp_path_set_syn_exempt(struct xdp_path *path, const struct ip_prefix *exempt, size_t count,
			    char *err, size_t errlen)
{
	return xdp_syn_limit_exempt_replace(path->obj, exempt, count, err, errlen);
}

bool xdp_path_mode_parse(const char *text, enum xdp_path_mode *mode)
{
	if (strcmp(text, "auto") == 0)
		*mode = XDP_PATH_MODE_AUTO;
	else if (strcmp(text, "native") == 0)
		*mode = XDP_PATH_MODE_NATIVE;
	else if (strcmp(text, "skb") == 0)
		*mode = XDP_PATH_MODE_SKB;
	else
		return false;
	return true;
}

const char *xdp_path_mode_name(enum xdp_path_mode mode)
{
	switch (mode) {
	case XDP_PATH_MODE_NATIVE:
		return "native";
	case XDP_PATH_MODE_SKB:
		return "skb";
	default:
		return "auto";
	}
}

static void log_line(const struct xdp_path_options *options, const char *message)
{
	if (options->log)
		options->log(options->log_ctx, message);
}

/* The operator must learn from the exit log that XDP outlives the process. */
static void log_kept(const struct xdp_path *path)
{
	char line[512];

	if (!path->log)
		return;
	snprintf(line, sizeof(line),
		 "kept %s (program id %u) attached to %s and its maps pinned in %s (--xdp-keep); "
		 "the next start with this --xdp-iface and --bpffs takes it over, `archeio xdp "
		 "detach --bpffs %s` removes it",
		 XDP_KEPT_PROG_NAME, path->attachment.prog_id, path->iface, path->dir, path->dir);
	path->log(path->log_ctx, line);
}

static void destroy(struct xdp_path *path)
{
	char why[256];

	if (path->keep && path->attachment.prog)
		log_kept(path);
	xdp_attach_release(&path->attachment, path->keep);
	if (!path->keep) {
		if (path->obj)
			xdp_obj_unpin(path->obj);
		/* a failed start's empty directory (kept pins stay), unless the
		 * path names another directory now */
		if (path->dir_lock >= 0 &&
		    xdp_bpffs_same_dir(path->dir, path->dir_lock, why, sizeof(why)) != 0)
			rmdir(path->dir);
	}
	xdp_obj_close(path->obj);
	if (path->dir_lock >= 0)
		close(path->dir_lock); /* after unpinning: the next owner finds no stale pins */
	free(path->dir);
	free(path->iface);
	free(path);
}

static int attach_fill_pin(struct xdp_path *path, const struct xdp_path_options *options,
			   unsigned ifindex, const char *dir, const struct range_set *set,
			   const struct region_table *regions, char *err, size_t errlen)
{
	struct xdp_attachment *at = &path->attachment;
	char line[512];

	if (xdp_attach_program(xdp_obj_bpf_object(path->obj), (int)ifindex, options->iface,
			       options->mode, options->log, options->log_ctx, at, err, errlen) != 0)
		return -1;
	/* libxdp loads the object while attaching, so the maps are filled just
	 * after; until then SYNs pass untagged and the server falls back to its
	 * own lookup. */
	if (xdp_obj_fill(path->obj, options->listen_ports, options->listen_port_count, set, regions,
			 err, errlen) != 0 ||
	    xdp_obj_set_attach_info(path->obj, ifindex, options->iface,
				    at->mode == XDP_PATH_MODE_SKB ? ARCHEIO_ATTACH_SKB
								  : ARCHEIO_ATTACH_NATIVE,
				    at->prog_id, at->legacy) != 0 ||
	    xdp_syn_limit_exempt(path->obj, options->syn_exempt, options->syn_exempt_count, err,
				 errlen) != 0 ||
	    xdp_syn_limit_set(path->obj, options->syn_limit, options->syn_burst, 0, err, errlen) !=
		0 ||
	    xdp_obj_pin(path->obj, dir, err, errlen) != 0)
		return -1;
	snprintf(line, sizeof(line),
		 "archeio_xdp (program id %u) attached to %s in %s mode; maps pinned in %s",
		 at->prog_id, options->iface, xdp_path_mode_name(at->mode), dir);
	log_line(options, line);
	return 0;
}

static struct xdp_path *new_path(const struct xdp_path_options *options, const char *dir, char *err,
				 size_t errlen)
{
	struct xdp_path *path = calloc(1, sizeof(*path));

	if (path) {
		path->dir_lock = -1;
		path->dir = strdup(dir);
		path->iface = strdup(options->iface);
		path->log = options->log;
		path->log_ctx = options->log_ctx;
	}
	if (!path || !path->dir || !path->iface) {
		snprintf(err, errlen, "out of memory");
		if (path)
			destroy(path);
		return NULL;
	}
	return path;
}

/* Everything but the attachment: the pin directory taken for this process, a
 * program an earlier run left there taken over, the object opened and sized. */
static int prepare(struct xdp_path *path, const struct xdp_path_options *options, unsigned ifindex,
		   const struct range_set *set, const struct region_table *regions, char *err,
		   size_t errlen)
{
	if (xdp_bpffs_prepare_dir(path->dir, err, errlen) != 0)
		return -1;
	path->dir_lock = xdp_bpffs_lock(path->dir, err, errlen);
	if (path->dir_lock < 0 ||
	    xdp_kept_take_over(path->dir, (int)ifindex, options->iface, options->log,
			       options->log_ctx, err, errlen) != 0)
		return -1;
	path->obj = xdp_obj_open(set, regions, options->listen_port_count,
				 options->conn_tag_capacity, err, errlen);
	return path->obj ? 0 : -1;
}

struct xdp_path *xdp_path_open(const struct xdp_path_options *options, const struct range_set *set,
			       const struct region_table *regions, char *err, size_t errlen)
{
	const char *dir = options->bpffs_dir ? options->bpffs_dir : XDP_BPFFS_DEFAULT_DIR;
	struct xdp_path *path;
	unsigned ifindex;

	if (!options->iface || !*options->iface) {
		snprintf(err, errlen, "no interface given");
		return NULL;
	}
	ifindex = if_nametoindex(options->iface);
	if (ifindex == 0) {
		snprintf(err, errlen, "no such network interface '%s' (in this network namespace)",
			 options->iface);
		return NULL;
	}
	path = new_path(options, dir, err, errlen);
	if (!path)
		return NULL;
	if (prepare(path, options, ifindex, set, regions, err, errlen) != 0 ||
	    attach_fill_pin(path, options, ifindex, dir, set, regions, err, errlen) != 0) {
		path->keep = false; /* a failed start leaves nothing behind */
		destroy(path);
		return NULL;
	}
	path->keep = options->keep;
	return path;
}

int xdp_path_reload(struct xdp_path *path, const struct range_set *set,
		    const struct region_table *regions, char *err, size_t errlen)
{
	return xdp_obj_reload(path->obj, set, regions, err, errlen);
}

int xdp_path_repin(struct xdp_path *path, char *err, size_t errlen)
{
	return xdp_repin_missing(path->obj, err, errlen);
}

bool xdp_path_take_conn_tag(struct xdp_path *path, const struct conn_tuple *tuple,
			    uint32_t *region_id)
{
	return xdp_obj_take_conn_tag(path->obj, tuple, region_id);
}

uint32_t xdp_path_lookup(struct xdp_path *path, const struct ip_addr *addr)
{
	return xdp_obj_lookup(path->obj, addr);
}

enum xdp_path_mode xdp_path_attached_mode(const struct xdp_path *path)
{
	return path->attachment.mode;
}

uint32_t xdp_path_prog_id(const struct xdp_path *path)
{
	return path->attachment.prog_id;
}

int xdp_path_give_pins(struct xdp_path *path, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	return xdp_obj_give_pins(path->obj, uid, gid, err, errlen);
}

void xdp_path_leave_attached(struct xdp_path *path)
{
	path->keep = true;
}

/* Alone, the interface runs our program's id; behind libxdp's dispatcher it
 * runs the dispatcher (whose presence is what can be checked cheaply). */
bool xdp_path_attached(const struct xdp_path *path)
{
	const struct xdp_attachment *at = &path->attachment;
	int flags = at->mode == XDP_PATH_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	uint32_t id = 0;
	if (!at->prog || bpf_xdp_query_id(at->ifindex, flags, &id) != 0)
		return false;
	return at->legacy ? id == at->prog_id : id != 0;
}

int xdp_path_read_stats(struct xdp_path *path, struct xdp_path_stats *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->attached = xdp_path_attached(path);
	int clouds = xdp_obj_map_fd(path->obj, "clouds");
	for (uint32_t slot = 0; clouds >= 0 && slot < ARCHEIO_CLOUD_SLOTS; slot++)
		if (bpf_map_lookup_elem(clouds, &slot, &out->clouds[slot]) != 0)
			memset(&out->clouds[slot], 0, sizeof(out->clouds[slot]));
	int tags = xdp_obj_map_fd(path->obj, "conn_tags");
	if (tags >= 0) {
		out->conn_tags_capacity = xdp_map_max_entries(tags);
		out->conn_tags =
		    xdp_map_count_keys(tags, out->conn_tags_capacity, sizeof(struct conn_key));
	}
	int counters = xdp_obj_map_fd(path->obj, "counters");
	if (counters < 0) {
		snprintf(err, errlen, "no counters map");
		return -1;
	}
	return xdp_map_sum_counters(counters, out->counters, err, errlen);
}

void xdp_path_close(struct xdp_path *path)
{
	if (path)
		destroy(path);
}
