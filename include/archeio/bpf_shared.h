/* Layouts shared by the XDP program (bpf/) and userspace (user/).
 * Plain fixed-size types only: this header is compiled by clang -target bpf
 * and by the host compiler. Every struct is padded explicitly so that a key
 * built by userspace is byte-identical to the one the program builds. */
#ifndef ARCHEIO_BPF_SHARED_H
#define ARCHEIO_BPF_SHARED_H

#ifdef __bpf__
#include "vmlinux.h"
typedef __u8 archeio_u8;
typedef __u16 archeio_u16;
typedef __u32 archeio_u32;
typedef __u64 archeio_u64;
#else
#include <stdint.h>
typedef uint8_t archeio_u8;
typedef uint16_t archeio_u16;
typedef uint32_t archeio_u32;
typedef uint64_t archeio_u64;
#endif

#define REGION_CLOUD_MAX 16 /* including NUL */
#define REGION_NAME_MAX 48  /* including NUL */

/* Value of the regions table (id -> names), readable in `bpftool map dump`. */
struct region_name {
	char cloud[REGION_CLOUD_MAX];
	char region[REGION_NAME_MAX];
};

/* Address families as Linux numbers them; vmlinux.h has no AF_* macros. */
#define ARCHEIO_AF_INET 2
#define ARCHEIO_AF_INET6 10

/* LPM trie keys: prefixlen first, as BPF_MAP_TYPE_LPM_TRIE requires. */
struct lpm_v4_key {
	archeio_u32 prefixlen;
	archeio_u8 addr[4];
};

struct lpm_v6_key {
	archeio_u32 prefixlen;
	archeio_u8 addr[16];
};

/* LPM value: the region and its cloud slot, so the program counts by cloud
 * with the one lookup it already makes. */
struct lpm_value {
	archeio_u32 region_id;
	archeio_u32 cloud_idx; /* index into the clouds map, < ARCHEIO_CLOUD_SLOTS */
};

/* conn_tags key: the SYN's addresses. saddr/daddr hold 4 bytes (IPv4, rest
 * zero) or 16 (IPv6); ports are in network byte order as on the wire. From
 * the server's side after accept: saddr = peer, daddr = local. */
struct conn_key {
	archeio_u8 family; /* ARCHEIO_AF_INET or ARCHEIO_AF_INET6 */
	archeio_u8 pad[3];
	archeio_u8 saddr[16];
	archeio_u8 daddr[16];
	archeio_u16 sport;
	archeio_u16 dport;
};

/* Clouds get a small index in order of their first region id, stable across
 * reloads because region ids are. Clouds past the last slot share it. */
#define ARCHEIO_CLOUD_SLOTS 16
#define ARCHEIO_CLOUD_OTHER (ARCHEIO_CLOUD_SLOTS - 1)

struct cloud_name {
	char name[REGION_CLOUD_MAX];
};

/* Indices of the per-CPU counters map. */
enum archeio_counter {
	COUNTER_PACKETS = 0, /* every frame the program saw */
	COUNTER_SYNS,	     /* SYN without ACK to a listening port */
	COUNTER_TAGGED,	     /* ... whose source matched a range: tag written */
	COUNTER_UNTAGGED,    /* ... whose source matched no range */
	COUNTER_TAG_ERRORS,  /* ... matched, but the conn_tags update failed */
	COUNTER_SYN_DROPS,   /* ... over the SYN limit: XDP_DROP */
	COUNTER_CLOUD_BASE,  /* + cloud_idx: tagged SYNs per cloud */
	COUNTER_DROP_CLOUD_BASE = COUNTER_CLOUD_BASE + ARCHEIO_CLOUD_SLOTS, /* + cloud_idx */
	COUNTER_COUNT = COUNTER_DROP_CLOUD_BASE + ARCHEIO_CLOUD_SLOTS,
};

/* The SYN limit (--xdp-syn-limit): value of the one-entry syn_limit_cfg
 * array. on = 0 (the default) skips the limit entirely. A token bucket per
 * source written as a time (GCRA): a SYN passes when the source's bucket
 * time, moved up to now, is at most tolerance_ns ahead of now, and moves it
 * on by interval_ns. now_ns: 0 reads bpf_ktime_get_ns(); tests set a clock. */
struct syn_limit_config {
	archeio_u32 on;
	archeio_u32 pad;
	archeio_u64 interval_ns;  /* 1 s / rate */
	archeio_u64 tolerance_ns; /* (burst - 1) * interval_ns */
	archeio_u64 now_ns;
};

/* syn_buckets key: IPv4 /32 (addr[0..3]) or IPv6 /64 (addr[0..7]). */
struct syn_limit_key {
	archeio_u32 family; /* ARCHEIO_AF_INET or ARCHEIO_AF_INET6 */
	archeio_u8 addr[8];
};

#define ARCHEIO_SYN_BUCKETS 65536 /* LRU: the least recently seen source goes */
#define ARCHEIO_SYN_EXEMPT_MAX 1024

/* Written by the loader into the one-entry attach_info map, so that
 * `archeio xdp status` can report the attachment and the loaded data from
 * the pins alone. */
#define ARCHEIO_ATTACH_NONE 0
#define ARCHEIO_ATTACH_NATIVE 1
#define ARCHEIO_ATTACH_SKB 2

struct attach_info {
	archeio_u32 ifindex;
	archeio_u32 mode;    /* ARCHEIO_ATTACH_* */
	archeio_u32 prog_id; /* the archeio_xdp program */
	archeio_u32 legacy;  /* 1: attached alone, libxdp dispatcher unavailable */
	char ifname[16];
	archeio_u32 generation; /* 0 at load, +1 per reload */
	archeio_u32 v4_prefixes;
	archeio_u32 v6_prefixes;
	archeio_u32 pad;
};

#endif
