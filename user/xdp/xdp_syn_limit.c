#include "xdp_syn_limit.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NS_PER_S 1000000000ull

int xdp_syn_limit_set(struct xdp_obj *obj, uint32_t rate, uint32_t burst, uint64_t now_ns,
		      char *err, size_t errlen)
{
	uint32_t zero = 0;
	struct syn_limit_config cfg = {.on = rate > 0, .now_ns = now_ns};
	if (rate) {
		cfg.interval_ns = NS_PER_S / rate;
		cfg.tolerance_ns = (uint64_t)(burst ? burst - 1 : 0) * cfg.interval_ns;
	}
	/* One array value, replaced whole: the program sees the old limit or
	 * the new one. */
	if (bpf_map_update_elem(xdp_obj_map_fd(obj, "syn_limit_cfg"), &zero, &cfg, BPF_ANY) != 0) {
		snprintf(err, errlen, "cannot set the XDP SYN limit: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int add_exempt(struct xdp_obj *obj, const struct ip_prefix *p)
{
	uint8_t one = 1;
	if (p->addr.family == AF_INET) {
		struct lpm_v4_key key = {.prefixlen = p->len};
		memcpy(key.addr, p->addr.bytes, 4);
		return bpf_map_update_elem(xdp_obj_map_fd(obj, "syn_exempt4"), &key, &one, BPF_ANY);
	}
	struct lpm_v6_key key = {.prefixlen = p->len};
	memcpy(key.addr, p->addr.bytes, 16);
	return bpf_map_update_elem(xdp_obj_map_fd(obj, "syn_exempt6"), &key, &one, BPF_ANY);
}

int xdp_syn_limit_exempt(struct xdp_obj *obj, const struct ip_prefix *exempt, size_t count,
			 char *err, size_t errlen)
{
	for (size_t i = 0; i < count; i++) {
		if (add_exempt(obj, &exempt[i]) != 0) {
			char text[64];
			snprintf(err, errlen, "cannot add %s/%u to the XDP SYN exempt trie: %s",
				 ip_format(&exempt[i].addr, text, sizeof(text)),
				 (unsigned)exempt[i].len, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Whether key (an lpm_v4_key or lpm_v6_key of family) is one of exempt. */
static bool wanted(const struct ip_prefix *exempt, size_t count, int family, const void *key)
{
	const struct lpm_v4_key *k4 = key;
	const struct lpm_v6_key *k6 = key;
	for (size_t i = 0; i < count; i++) {
		const struct ip_prefix *p = &exempt[i];
		if (p->addr.family != family)
			continue;
		if (family == AF_INET && k4->prefixlen == p->len &&
		    memcmp(k4->addr, p->addr.bytes, 4) == 0)
			return true;
		if (family == AF_INET6 && k6->prefixlen == p->len &&
		    memcmp(k6->addr, p->addr.bytes, 16) == 0)
			return true;
	}
	return false;
}

/* Deletes the trie's keys that are not in exempt. Keys are collected first:
 * deleting while walking would restart the walk. */
static int remove_stale(int fd, int family, size_t key_size, const struct ip_prefix *exempt,
			size_t count)
{
	typedef uint8_t key_bytes[sizeof(struct lpm_v6_key)];
	key_bytes *keys = calloc(ARCHEIO_SYN_EXEMPT_MAX, sizeof(*keys));
	key_bytes key, next;
	size_t n = 0;
	const void *prev = NULL;
	if (!keys) {
		errno = ENOMEM;
		return -1;
	}
	while (n < ARCHEIO_SYN_EXEMPT_MAX && bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(keys[n++], next, key_size);
		memcpy(key, next, key_size);
		prev = key;
	}
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!wanted(exempt, count, family, keys[i]) &&
		    bpf_map_delete_elem(fd, keys[i]) != 0 && errno != ENOENT)
			rc = -1;
	free(keys);
	return rc;
}

int xdp_syn_limit_exempt_replace(struct xdp_obj *obj, const struct ip_prefix *exempt, size_t count,
				 char *err, size_t errlen)
{
	if (xdp_syn_limit_exempt(obj, exempt, count, err, errlen) != 0)
		return -1;
	if (remove_stale(xdp_obj_map_fd(obj, "syn_exempt4"), AF_INET, sizeof(struct lpm_v4_key),
			 exempt, count) != 0 ||
	    remove_stale(xdp_obj_map_fd(obj, "syn_exempt6"), AF_INET6, sizeof(struct lpm_v6_key),
			 exempt, count) != 0) {
		snprintf(err, errlen, "cannot remove an entry from the XDP SYN exempt trie: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}
