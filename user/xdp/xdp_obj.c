/* Loading, filling and reloading the XDP program's maps. */
#include "xdp_obj.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archeio.skel.h"
#include "xdp_bpffs.h"
#include "xdp_keys.h"
#include "xdp_pins.h"

enum { TRIE_V4, TRIE_V6, TRIE_COUNT };

_Static_assert(TRIE_COUNT == 2, "one pin name per trie in xdp_pins.c");

struct xdp_obj {
	struct archeio_bpf *skel;
	uint32_t regions_capacity;
	/* Guards trie_fd against a reload closing it under a lookup. */
	pthread_rwlock_t lock;
	int trie_fd[TRIE_COUNT]; /* the live generation, owned; -1 before fill */
	struct attach_info info;
	/* Stamps the program's per-CPU cache of trie answers; written after each
	 * swap of the tries so that no answer of the old ones is used again. */
	uint32_t lpm_epoch;
	char *pin_dir; /* NULL when not pinned */
	/* Open while pinned: reloads re-pin through it, so they need neither the
	 * path's parents (bpffs may be mode 0700, root's) nor the same user. */
	int pin_dir_fd;
	dev_t pin_dev; /* which directory that is, to tell it from another one */
	ino_t pin_ino; /* the path names later (bpffs unmounted, mounted again) */
};

static int fail(char *err, size_t errlen, const char *what, int error)
{
	snprintf(err, errlen, "%s: %s", what, strerror(error > 0 ? error : -error));
	return -1;
}

int xdp_obj_map_fd(const struct xdp_obj *obj, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj->skel->obj, name);

	return map ? bpf_map__fd(map) : -1;
}

int xdp_obj_pin_fd(const struct xdp_obj *obj, const char *pin_name)
{
	for (int which = 0; which < TRIE_COUNT; which++)
		if (strcmp(pin_name, xdp_trie_pin_names[which]) == 0)
			return obj->trie_fd[which];
	return xdp_obj_map_fd(obj, pin_name);
}

const char *xdp_obj_pin_dir(const struct xdp_obj *obj, int *dir_fd)
{
	*dir_fd = obj->pin_dir_fd;
	return obj->pin_dir;
}

struct bpf_object *xdp_obj_bpf_object(struct xdp_obj *obj)
{
	return obj->skel->obj;
}

int xdp_obj_prog_fd(const struct xdp_obj *obj)
{
	return bpf_program__fd(obj->skel->progs.archeio_xdp);
}

static int set_sizes(struct archeio_bpf *skel, const struct xdp_map_sizes *sizes)
{
	struct bpf_map *inner4 = bpf_map__inner_map(skel->maps.lpm4_outer);
	struct bpf_map *inner6 = bpf_map__inner_map(skel->maps.lpm6_outer);

	/* LPM inner maps may differ in size from the template; the template and
	 * placeholders stay tiny, real tries are created at fill time. */
	if (!inner4 || !inner6)
		return -EINVAL;
	if (bpf_map__set_max_entries(skel->maps.regions, sizes->regions) ||
	    bpf_map__set_max_entries(skel->maps.conn_tags, sizes->conn_tags) ||
	    bpf_map__set_max_entries(skel->maps.listen_ports, sizes->listen_ports))
		return -EINVAL;
	return 0;
}

struct xdp_obj *xdp_obj_open(const struct range_set *set, const struct region_table *regions,
			     size_t listen_port_count, uint32_t conn_tag_capacity, char *err,
			     size_t errlen)
{
	struct xdp_map_sizes sizes;
	struct xdp_obj *obj = calloc(1, sizeof(*obj));

	if (!obj) {
		snprintf(err, errlen, "out of memory opening the XDP program");
		return NULL;
	}
	obj->trie_fd[TRIE_V4] = -1;
	obj->trie_fd[TRIE_V6] = -1;
	obj->pin_dir_fd = -1;
	if (pthread_rwlock_init(&obj->lock, NULL) != 0) {
		snprintf(err, errlen, "cannot initialise the XDP map lock");
		free(obj);
		return NULL;
	}
	obj->skel = archeio_bpf__open();
	if (!obj->skel) {
		fail(err, errlen, "cannot open the embedded XDP object", errno);
		pthread_rwlock_destroy(&obj->lock);
		free(obj);
		return NULL;
	}
	xdp_map_sizes_for(set, regions, listen_port_count, conn_tag_capacity, &sizes);
	if (set_sizes(obj->skel, &sizes) != 0) {
		snprintf(err, errlen, "cannot size the XDP maps");
		xdp_obj_close(obj);
		return NULL;
	}
	obj->regions_capacity = sizes.regions;
	return obj;
}

static int create_trie(struct xdp_obj *obj, int which, size_t entries, char *err, size_t errlen)
{
	struct bpf_map *btf_carrier =
	    which == TRIE_V4 ? obj->skel->maps.lpm4_empty : obj->skel->maps.lpm6_empty;
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_NO_PREALLOC);
	size_t max = entries + 64;
	int fd;

	opts.btf_fd = bpf_object__btf_fd(obj->skel->obj);
	opts.btf_key_type_id = bpf_map__btf_key_type_id(btf_carrier);
	opts.btf_value_type_id = bpf_map__btf_value_type_id(btf_carrier);
	if (max > UINT32_MAX)
		max = UINT32_MAX;
	fd = bpf_map_create(BPF_MAP_TYPE_LPM_TRIE, xdp_trie_pin_names[which],
			    bpf_map__key_size(btf_carrier), sizeof(struct lpm_value), (uint32_t)max,
			    &opts);
	if (fd < 0)
		return fail(err, errlen, "cannot create an LPM trie map", errno);
	return fd;
}

static int fill_trie(int fd, int which, const struct range_set *set, const uint32_t *cloud_idx,
		     uint32_t region_count, char *err, size_t errlen)
{
	uint8_t family = which == TRIE_V4 ? AF_INET : AF_INET6;

	for (size_t i = 0; i < set->count; i++) {
		const struct range_entry *entry = &set->entries[i];
		struct lpm_value value = {.region_id = entry->region_id};
		struct lpm_v4_key key4;
		struct lpm_v6_key key6;
		const void *key = &key4;

		if (entry->prefix.addr.family != family)
			continue;
		if (entry->region_id == REGION_NONE || entry->region_id >= region_count) {
			snprintf(err, errlen, "range entry %zu has region id %u, not in the table",
				 i, entry->region_id);
			return -1;
		}
		value.cloud_idx = cloud_idx[entry->region_id];
		if (which == TRIE_V4)
			xdp_lpm_v4_key_for_prefix(&entry->prefix, &key4);
		else {
			xdp_lpm_v6_key_for_prefix(&entry->prefix, &key6);
			key = &key6;
		}
		if (bpf_map_update_elem(fd, key, &value, BPF_ANY) != 0)
			return fail(err, errlen, "cannot insert a prefix into the LPM trie", errno);
	}
	return 0;
}

static int write_regions(struct xdp_obj *obj, const struct region_table *regions,
			 uint32_t *cloud_idx, char *err, size_t errlen)
{
	struct cloud_name clouds[ARCHEIO_CLOUD_SLOTS];
	int regions_fd = bpf_map__fd(obj->skel->maps.regions);
	int clouds_fd = bpf_map__fd(obj->skel->maps.clouds);

	if (regions->count > obj->regions_capacity) {
		snprintf(err, errlen,
			 "%u regions do not fit the BPF regions map (%u, sized at start); "
			 "restart the server to resize it",
			 regions->count, obj->regions_capacity);
		return -1;
	}
	xdp_cloud_slots(regions, cloud_idx, clouds);
	for (uint32_t id = 1; id < regions->count; id++)
		if (bpf_map_update_elem(regions_fd, &id, &regions->names[id], BPF_ANY) != 0)
			return fail(err, errlen, "cannot write the regions map", errno);
	for (uint32_t slot = 0; slot < ARCHEIO_CLOUD_SLOTS; slot++)
		if (bpf_map_update_elem(clouds_fd, &slot, &clouds[slot], BPF_ANY) != 0)
			return fail(err, errlen, "cannot write the clouds map", errno);
	return 0;
}

static void repin_trie(struct xdp_obj *obj, int which, int fd)
{
	char next[64];

	if (obj->pin_dir_fd < 0)
		return;
	/* Best effort, for people reading the tries: the outer maps are what
	 * the program and pinned lookups use. The path goes through the open
	 * directory (a /proc/self/fd link: pinning takes no directory fd on
	 * older kernels); renameat() swaps the pin in one step. */
	snprintf(next, sizeof(next), "/proc/self/fd/%d/%s", obj->pin_dir_fd,
		 xdp_trie_next_pin_names[which]);
	unlinkat(obj->pin_dir_fd, xdp_trie_next_pin_names[which], 0);
	if (bpf_obj_pin(fd, next) == 0 && renameat(obj->pin_dir_fd, xdp_trie_next_pin_names[which],
						   obj->pin_dir_fd, xdp_trie_pin_names[which]) != 0)
		unlinkat(obj->pin_dir_fd, xdp_trie_next_pin_names[which], 0);
}

static int write_info(struct xdp_obj *obj)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(bpf_map__fd(obj->skel->maps.attach_info), &zero, &obj->info,
				   BPF_ANY);
}

/* After a trie is swapped in: the program's cached answers of the old one are
 * stale from now on (it reads the epoch before the trie). An array slot: the
 * update cannot fail short of a kernel bug. */
static int bump_lpm_epoch(struct xdp_obj *obj)
{
	uint32_t zero = 0;

	obj->lpm_epoch++;
	return bpf_map_update_elem(bpf_map__fd(obj->skel->maps.lpm_epoch), &zero, &obj->lpm_epoch,
				   BPF_ANY);
}

/* Creates and fills both tries, then swaps them in: the whole of the work that
 * can fail happens before anything becomes visible. */
static int install_tries(struct xdp_obj *obj, const struct range_set *set,
			 const struct region_table *regions, char *err, size_t errlen)
{
	int fds[TRIE_COUNT] = {-1, -1};
	int outer[TRIE_COUNT] = {bpf_map__fd(obj->skel->maps.lpm4_outer),
				 bpf_map__fd(obj->skel->maps.lpm6_outer)};
	size_t counts[TRIE_COUNT];
	uint32_t *cloud_idx = calloc(regions->count ? regions->count : 1, sizeof(*cloud_idx));
	uint32_t zero = 0;
	int rc = -1;

	if (!cloud_idx) {
		snprintf(err, errlen, "out of memory building the XDP maps");
		return -1;
	}
	if (write_regions(obj, regions, cloud_idx, err, errlen) != 0)
		goto out;
	xdp_count_families(set, &counts[TRIE_V4], &counts[TRIE_V6]);
	for (int which = 0; which < TRIE_COUNT; which++) {
		fds[which] = create_trie(obj, which, counts[which], err, errlen);
		if (fds[which] < 0 ||
		    fill_trie(fds[which], which, set, cloud_idx, regions->count, err, errlen) != 0)
			goto out;
	}
	for (int which = 0; which < TRIE_COUNT; which++) {
		if (bpf_map_update_elem(outer[which], &zero, &fds[which], BPF_ANY) != 0) {
			fail(err, errlen, "cannot swap in the new LPM trie", errno);
			if (which > 0) /* the IPv4 trie is new: so must the cache be */
				bump_lpm_epoch(obj);
			goto out;
		}
		pthread_rwlock_wrlock(&obj->lock);
		int old = obj->trie_fd[which];
		obj->trie_fd[which] = fds[which];
		pthread_rwlock_unlock(&obj->lock);
		fds[which] = old; /* closed below: the kernel frees it after readers */
		repin_trie(obj, which, obj->trie_fd[which]);
	}
	if (bump_lpm_epoch(obj) != 0) {
		fail(err, errlen, "cannot invalidate the XDP lookup cache", errno);
		goto out;
	}
	obj->info.v4_prefixes = (uint32_t)counts[TRIE_V4];
	obj->info.v6_prefixes = (uint32_t)counts[TRIE_V6];
	rc = write_info(obj) == 0 ? 0 : fail(err, errlen, "cannot write attach_info", errno);
out:
	for (int which = 0; which < TRIE_COUNT; which++)
		if (fds[which] >= 0)
			close(fds[which]);
	free(cloud_idx);
	return rc;
}

static int write_ports(struct xdp_obj *obj, const uint16_t *ports, size_t count, char *err,
		       size_t errlen)
{
	int fd = bpf_map__fd(obj->skel->maps.listen_ports);
	uint8_t one = 1;

	for (size_t i = 0; i < count; i++)
		if (bpf_map_update_elem(fd, &ports[i], &one, BPF_ANY) != 0) {
			snprintf(err, errlen, "cannot add listening port %u to the XDP map: %s",
				 ports[i], strerror(errno));
			return -1;
		}
	return 0;
}

int xdp_obj_fill(struct xdp_obj *obj, const uint16_t *listen_ports, size_t listen_port_count,
		 const struct range_set *set, const struct region_table *regions, char *err,
		 size_t errlen)
{
	if (xdp_obj_prog_fd(obj) < 0) {
		snprintf(err, errlen, "the XDP program is not loaded");
		return -1;
	}
	if (install_tries(obj, set, regions, err, errlen) != 0)
		return -1;
	return write_ports(obj, listen_ports, listen_port_count, err, errlen);
}

int xdp_obj_reload(struct xdp_obj *obj, const struct range_set *set,
		   const struct region_table *regions, char *err, size_t errlen)
{
	if (obj->trie_fd[TRIE_V4] < 0) {
		snprintf(err, errlen, "XDP maps reloaded before they were filled");
		return -1;
	}
	obj->info.generation++;
	if (install_tries(obj, set, regions, err, errlen) != 0) {
		obj->info.generation--;
		return -1;
	}
	return 0;
}

uint32_t xdp_obj_lookup(struct xdp_obj *obj, const struct ip_addr *addr)
{
	struct lpm_value value;
	struct lpm_v4_key key4;
	struct lpm_v6_key key6;
	const void *key;
	int which, rc;

	if (addr->family == AF_INET) {
		xdp_lpm_v4_key_for_addr(addr, &key4);
		key = &key4;
		which = TRIE_V4;
	} else if (addr->family == AF_INET6) {
		xdp_lpm_v6_key_for_addr(addr, &key6);
		key = &key6;
		which = TRIE_V6;
	} else {
		return REGION_NONE;
	}
	pthread_rwlock_rdlock(&obj->lock);
	rc = obj->trie_fd[which] >= 0 ? bpf_map_lookup_elem(obj->trie_fd[which], key, &value) : -1;
	pthread_rwlock_unlock(&obj->lock);
	return rc == 0 ? value.region_id : REGION_NONE;
}

bool xdp_obj_take_conn_tag(struct xdp_obj *obj, const struct conn_tuple *tuple, uint32_t *region_id)
{
	int fd = bpf_map__fd(obj->skel->maps.conn_tags);
	struct conn_key key;
	uint32_t value;

	if (fd < 0 || !xdp_conn_key_from_tuple(tuple, &key))
		return false;
	if (bpf_map_lookup_and_delete_elem(fd, &key, &value) != 0) {
		/* Kernels before 5.14 lack lookup-and-delete on hash maps. */
		if (errno == ENOENT || bpf_map_lookup_elem(fd, &key, &value) != 0)
			return false;
		bpf_map_delete_elem(fd, &key);
	}
	*region_id = value;
	return true;
}

static int pin_one(int fd, const char *dir, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (xdp_bpffs_path(path, sizeof(path), dir, name, err, errlen) != 0)
		return -1;
	/* A stale pin from an earlier run (--xdp-keep, or a crash) is replaced:
	 * this process owns the directory now. */
	if (unlink(path) != 0 && errno != ENOENT)
		return fail(err, errlen, "cannot remove a stale pin", errno);
	if (bpf_obj_pin(fd, path) != 0) {
		int error = errno;

		snprintf(err, errlen, "cannot pin %s: %s", path, strerror(error));
		return -1;
	}
	return 0;
}

int xdp_obj_pin(struct xdp_obj *obj, const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (obj->pin_dir) {
		snprintf(err, errlen, "XDP maps are already pinned in %s", obj->pin_dir);
		return -1;
	}
	obj->pin_dir = strdup(dir);
	if (!obj->pin_dir) {
		snprintf(err, errlen, "out of memory pinning the XDP maps");
		return -1;
	}
	obj->pin_dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (obj->pin_dir_fd < 0 || fstat(obj->pin_dir_fd, &st) != 0) {
		fail(err, errlen, "cannot open the bpffs pin directory", errno);
		goto fail;
	}
	obj->pin_dev = st.st_dev;
	obj->pin_ino = st.st_ino;
	for (size_t i = 0; i < xdp_pinned_map_count; i++)
		if (pin_one(xdp_obj_map_fd(obj, xdp_pinned_map_names[i]), dir,
			    xdp_pinned_map_names[i], err, errlen) != 0)
			goto fail;
	for (int which = 0; which < TRIE_COUNT; which++)
		if (obj->trie_fd[which] >= 0 &&
		    pin_one(obj->trie_fd[which], dir, xdp_trie_pin_names[which], err, errlen) != 0)
			goto fail;
	return 0;
fail:
	xdp_obj_unpin(obj);
	return -1;
}

static void close_pin_dir(struct xdp_obj *obj)
{
	if (obj->pin_dir_fd >= 0)
		close(obj->pin_dir_fd);
	obj->pin_dir_fd = -1;
}

static bool is_pin_dir(const struct xdp_obj *obj, const struct stat *st)
{
	return st->st_dev == obj->pin_dev && st->st_ino == obj->pin_ino;
}

/* Removes the pins from the directory pinned in, never from another one its
 * path names now (bpffs unmounted, or mounted again, under the server): through
 * the fd, or through the path in the exit helper (which closed the fds it
 * inherited) while the path still names it. */
static void remove_pins(const struct xdp_obj *obj)
{
	struct stat st;
	bool path_ok = stat(obj->pin_dir, &st) == 0 && is_pin_dir(obj, &st);

	if (obj->pin_dir_fd >= 0 && fstat(obj->pin_dir_fd, &st) == 0 && is_pin_dir(obj, &st)) {
		xdp_pins_remove_at(obj->pin_dir_fd);
		if (path_ok)
			rmdir(obj->pin_dir); /* only succeeds when nothing else is pinned there */
	} else if (path_ok) {
		xdp_pins_remove(obj->pin_dir, true, NULL, NULL);
	}
}

void xdp_obj_unpin(struct xdp_obj *obj)
{
	if (!obj->pin_dir)
		return;
	if (obj->pin_dir_fd >= 0)
		remove_pins(obj);
	free(obj->pin_dir);
	obj->pin_dir = NULL;
	close_pin_dir(obj);
}

int xdp_obj_give_pins(struct xdp_obj *obj, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (obj->pin_dir_fd < 0)
		return 0;
	if (fchown(obj->pin_dir_fd, uid, gid) != 0)
		return fail(err, errlen, "cannot hand the bpffs pin directory over", errno);
	return 0;
}

int xdp_obj_set_attach_info(struct xdp_obj *obj, uint32_t ifindex, const char *ifname,
			    uint32_t mode, uint32_t prog_id, bool legacy)
{
	obj->info.ifindex = ifindex;
	obj->info.mode = mode;
	obj->info.prog_id = prog_id;
	obj->info.legacy = legacy ? 1 : 0;
	memset(obj->info.ifname, 0, sizeof(obj->info.ifname));
	if (ifname)
		strncpy(obj->info.ifname, ifname, sizeof(obj->info.ifname) - 1);
	return write_info(obj);
}

void xdp_obj_close(struct xdp_obj *obj)
{
	if (!obj)
		return;
	for (int which = 0; which < TRIE_COUNT; which++)
		if (obj->trie_fd[which] >= 0)
			close(obj->trie_fd[which]);
	archeio_bpf__destroy(obj->skel);
	pthread_rwlock_destroy(&obj->lock);
	close_pin_dir(obj);
	free(obj->pin_dir);
	free(obj);
}
