// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* archeio_xdp: tags each new TCP connection to a listening port with the
 * region of its source address, for the server to read after accept().
 *
 * It never redirects or changes a frame, and every path returns XDP_PASS
 * but one: with the SYN limit on (syn_limit_cfg.on, off by default) a SYN to
 * a listening port from a source over its limit is dropped.
 * Every header read is bounds-checked against data_end first, so a truncated
 * or odd frame simply passes untagged.
 *
 * Ranges live in LPM tries reached through one-slot ARRAY_OF_MAPS maps. The
 * loader builds a complete new trie and swaps it into the slot with a single
 * map update, so a lookup sees the whole old set or the whole new set. */
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "archeio/bpf_shared.h"

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IP_OFFSET_MASK 0x1FFF
#define TCP_FLAGS_OFFSET 13
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10
#define MAX_VLAN_TAGS 2

/* Placeholder sizes: the loader sets every size from the data before load. */
struct lpm4_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, struct lpm_value);
};

struct lpm6_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6_key);
	__type(value, struct lpm_value);
};

/* Empty placeholders that fill the slots until the loader installs the first
 * real trie. Declaring them (rather than only the inner type) also gives the
 * key and value types full BTF, which the loader reuses for every trie it
 * creates, so bpftool prints the tries' keys and values readably. */
struct lpm4_inner lpm4_empty SEC(".maps");
struct lpm6_inner lpm6_empty SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct lpm4_inner);
} lpm4_outer SEC(".maps") = {
    .values = {[0] = &lpm4_empty},
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct lpm6_inner);
} lpm6_outer SEC(".maps") = {
    .values = {[0] = &lpm6_empty},
};

/* Read by people and userspace only (bpftool shows the names). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct region_name);
} regions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ARCHEIO_CLOUD_SLOTS);
	__type(key, __u32);
	__type(value, struct cloud_name);
} clouds SEC(".maps");

/* The common LRU (one list shared by the CPUs): per-CPU lists
 * (BPF_F_NO_COMMON_LRU) split the capacity between CPUs and were no faster
 * per tag write in bench/xdp_pieces.sh (docs/xdp.md, "Cost per packet"). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);
	__type(key, struct conn_key);
	__type(value, __u32);
} conn_tags SEC(".maps");

/* Key: port in host byte order (readable in bpftool); value unused (1). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u16);
	__type(value, __u8);
} listen_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct attach_info);
} attach_info SEC(".maps");

/* The SYN limit: its configuration (one entry, rewritten on reload without
 * reattaching), a bucket per source, and the sources it leaves alone. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct syn_limit_config);
} syn_limit_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ARCHEIO_SYN_BUCKETS);
	__type(key, struct syn_limit_key);
	__type(value, __u64);
} syn_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ARCHEIO_SYN_EXEMPT_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, __u8);
} syn_exempt4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ARCHEIO_SYN_EXEMPT_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v6_key);
	__type(value, __u8);
} syn_exempt6 SEC(".maps");

/* A small per-CPU cache of trie answers in front of the tries: a source seen
 * again (a node pulling several layers opens several connections) costs a hash
 * and a compare instead of a walk down a trie of ~27,000 prefixes (~150 ns).
 * Direct-mapped: a slot holds the last source that hashed to it. lpm_epoch,
 * written by userspace after each swap of the tries, invalidates every slot:
 * the program reads the epoch before it reads the trie, so a slot stamped with
 * the current epoch holds an answer of the current tries. Not pinned: nothing
 * outside the program reads it. */
#define LPM_CACHE_SLOTS 256

struct lpm_cache_slot {
	__u32 epoch; /* 0: empty (userspace starts at 1) */
	__u8 family;
	__u8 found; /* 0: the source is in no range */
	__u8 pad[2];
	__u64 addr[2]; /* as in conn_key.saddr */
	struct lpm_value value;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LPM_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct lpm_cache_slot);
} lpm_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} lpm_epoch SEC(".maps");

static __always_inline void count(__u32 index)
{
	__u64 *value = bpf_map_lookup_elem(&counters, &index);

	if (value)
		*value += 1; /* per-CPU slot: no other writer */
}

static __always_inline struct lpm_value *lookup_v4(const void *addr)
{
	struct lpm_v4_key key = {.prefixlen = 32};
	__u32 slot = 0;
	void *trie = bpf_map_lookup_elem(&lpm4_outer, &slot);

	if (!trie)
		return NULL;
	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	return bpf_map_lookup_elem(trie, &key);
}

static __always_inline struct lpm_value *lookup_v6(const void *addr)
{
	struct lpm_v6_key key = {.prefixlen = 128};
	__u32 slot = 0;
	void *trie = bpf_map_lookup_elem(&lpm6_outer, &slot);

	if (!trie)
		return NULL;
	__builtin_memcpy(key.addr, addr, sizeof(key.addr));
	return bpf_map_lookup_elem(trie, &key);
}

static __always_inline __u32 cache_slot_index(const __u64 *addr)
{
	__u64 folded = addr[0] ^ addr[1];

	/* Multiplicative hash: the top bits mix every bit of the address. */
	return (__u32)((folded * 0x9E3779B97F4A7C15ULL) >> 56) % LPM_CACHE_SLOTS;
}

/* The source's range (NULL: none), from the cache or the trie. key->saddr is
 * the full 16 bytes (IPv4: 4, the rest zero). */
static __always_inline struct lpm_value *lookup_source(const struct conn_key *key)
{
	__u64 addr[2];
	__u32 zero = 0, index;
	__u32 *epoch = bpf_map_lookup_elem(&lpm_epoch, &zero);
	struct lpm_cache_slot *slot;
	struct lpm_value *match;

	__builtin_memcpy(addr, key->saddr, sizeof(addr));
	index = cache_slot_index(addr);
	slot = bpf_map_lookup_elem(&lpm_cache, &index);
	if (!epoch || !slot) /* cannot happen: both are arrays with these slots */
		return key->family == ARCHEIO_AF_INET ? lookup_v4(key->saddr)
						      : lookup_v6(key->saddr);
#ifndef ARCHEIO_BENCH_CACHE_MISS /* bench/xdp_pieces.sh: the cost of a miss */
	if (slot->epoch == *epoch && slot->family == key->family && slot->addr[0] == addr[0] &&
	    slot->addr[1] == addr[1])
		return slot->found ? &slot->value : NULL;
#endif
	slot->epoch = *epoch;
	match = key->family == ARCHEIO_AF_INET ? lookup_v4(key->saddr) : lookup_v6(key->saddr);
	slot->family = key->family;
	slot->addr[0] = addr[0];
	slot->addr[1] = addr[1];
	slot->found = match != NULL;
	if (!match)
		return NULL;
	slot->value = *match;
	return &slot->value;
}

static __always_inline bool syn_exempt(const struct conn_key *conn)
{
	if (conn->family == ARCHEIO_AF_INET) {
		struct lpm_v4_key key = {.prefixlen = 32};

		__builtin_memcpy(key.addr, conn->saddr, sizeof(key.addr));
		return bpf_map_lookup_elem(&syn_exempt4, &key) != NULL;
	}
	struct lpm_v6_key key6 = {.prefixlen = 128};

	__builtin_memcpy(key6.addr, conn->saddr, sizeof(key6.addr));
	return bpf_map_lookup_elem(&syn_exempt6, &key6) != NULL;
}

/* true: this SYN is over its source's limit. Concurrent SYNs of one source
 * on several CPUs race on the bucket (a plain read and write, no lock): a
 * few more may pass, none that should pass is dropped for it. A new source
 * whose bucket cannot be made (cannot happen with LRU, which evicts) passes. */
static __always_inline bool syn_over_limit(const struct conn_key *conn)
{
	__u32 zero = 0;
	struct syn_limit_config *cfg = bpf_map_lookup_elem(&syn_limit_cfg, &zero);
	struct syn_limit_key key = {.family = conn->family};
	__u64 now, from, *tat;

	if (!cfg || !cfg->on)
		return false;
	if (syn_exempt(conn))
		return false;
	if (conn->family == ARCHEIO_AF_INET)
		__builtin_memcpy(key.addr, conn->saddr, 4);
	else
		__builtin_memcpy(key.addr, conn->saddr, 8);
	now = cfg->now_ns ? cfg->now_ns : bpf_ktime_get_ns();
	tat = bpf_map_lookup_elem(&syn_buckets, &key);
	if (!tat) {
		__u64 next = now + cfg->interval_ns;

		bpf_map_update_elem(&syn_buckets, &key, &next, BPF_ANY);
		return false;
	}
	from = *tat > now ? *tat : now;
	if (from - now > cfg->tolerance_ns)
		return true;
	*tat = from + cfg->interval_ns;
	return false;
}

/* Fills key's addresses from the IP header at l3 and returns the TCP header,
 * or NULL when the frame is not a complete first-fragment TCP segment. */
static __always_inline struct tcphdr *parse_ip(void *l3, void *end, __u16 proto,
					       struct conn_key *key)
{
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		__u8 version_ihl;
		__u32 header_len;

		if ((void *)(ip + 1) > end)
			return NULL;
		version_ihl = *(__u8 *)ip;
		header_len = (version_ihl & 0x0F) * 4;
		if ((version_ihl >> 4) != 4 || header_len < sizeof(*ip))
			return NULL;
		if (ip->protocol != IPPROTO_TCP || (ip->frag_off & bpf_htons(IP_OFFSET_MASK)))
			return NULL;
		key->family = ARCHEIO_AF_INET;
		__builtin_memcpy(key->saddr, &ip->saddr, 4);
		__builtin_memcpy(key->daddr, &ip->daddr, 4);
		return (struct tcphdr *)((__u8 *)l3 + header_len);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;

		if ((void *)(ip6 + 1) > end)
			return NULL;
		/* Extension headers are not walked: a SYN to us carries none. */
		if ((*(__u8 *)ip6 >> 4) != 6 || ip6->nexthdr != IPPROTO_TCP)
			return NULL;
		key->family = ARCHEIO_AF_INET6;
		__builtin_memcpy(key->saddr, &ip6->saddr, 16);
		__builtin_memcpy(key->daddr, &ip6->daddr, 16);
		return (struct tcphdr *)(ip6 + 1);
	}
	return NULL;
}

SEC("xdp")
int archeio_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct conn_key key = {};
	struct lpm_value *match;
	struct tcphdr *tcp;
	__u16 proto, port;
	void *cursor;
	__u8 flags;

	count(COUNTER_PACKETS);
	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	proto = eth->h_proto;
	cursor = eth + 1;
#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vlan = cursor;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > end)
			return XDP_PASS;
		proto = vlan->h_vlan_encapsulated_proto;
		cursor = vlan + 1;
	}

	tcp = parse_ip(cursor, end, proto, &key);
	if (!tcp || (void *)(tcp + 1) > end)
		return XDP_PASS;
	flags = *((__u8 *)tcp + TCP_FLAGS_OFFSET);
	if ((flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN)
		return XDP_PASS;
	port = bpf_ntohs(tcp->dest);
	if (!bpf_map_lookup_elem(&listen_ports, &port))
		return XDP_PASS;
	count(COUNTER_SYNS);

	key.sport = tcp->source;
	key.dport = tcp->dest;
#ifdef ARCHEIO_BENCH_SKIP_LPM /* bench/xdp_pieces.sh: what the rest costs */
	struct lpm_value listed = {.region_id = 1};
	match = key.saddr[0] == 192 ? NULL : &listed;
#else
	match = lookup_source(&key);
#endif
	if (syn_over_limit(&key)) {
		count(COUNTER_SYN_DROPS);
		if (match && match->region_id != 0)
			count(COUNTER_DROP_CLOUD_BASE + (match->cloud_idx < ARCHEIO_CLOUD_SLOTS
							     ? match->cloud_idx
							     : ARCHEIO_CLOUD_OTHER));
		return XDP_DROP;
	}
	if (!match || match->region_id == 0) {
		count(COUNTER_UNTAGGED);
		return XDP_PASS;
	}
#ifdef ARCHEIO_BENCH_SKIP_TAG /* bench/xdp_pieces.sh: what the tag write costs */
	if (key.family == 0) {
#else
	if (bpf_map_update_elem(&conn_tags, &key, &match->region_id, BPF_ANY) != 0) {
#endif
		count(COUNTER_TAG_ERRORS);
		return XDP_PASS;
	}
	count(COUNTER_TAGGED);
	count(COUNTER_CLOUD_BASE +
	      (match->cloud_idx < ARCHEIO_CLOUD_SLOTS ? match->cloud_idx : ARCHEIO_CLOUD_OTHER));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
