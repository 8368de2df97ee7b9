#include "xdp_syn_limit.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
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
