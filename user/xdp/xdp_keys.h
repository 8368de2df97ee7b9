/* Pure conversions between archeio's address types and the BPF map layouts
 * in bpf_shared.h, and the sizing of the maps from the data. No syscalls:
 * everything here is tested without BPF. */
#ifndef ARCHEIO_XDP_KEYS_H
#define ARCHEIO_XDP_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/bpf_shared.h"
#include "archeio/core/conn_tuple.h"
#include "archeio/core/ip.h"
#include "archeio/geo/ranges.h"
#include "archeio/geo/region.h"

#define XDP_CONN_TAGS_DEFAULT 65536u

struct xdp_map_sizes {
	uint32_t lpm_v4;
	uint32_t lpm_v6;
	uint32_t regions;
	uint32_t conn_tags;
	uint32_t listen_ports;
};

/* Exact-address keys (prefixlen 32/128) for a lookup, prefix keys for a fill. */
void xdp_lpm_v4_key_for_prefix(const struct ip_prefix *prefix, struct lpm_v4_key *key);
void xdp_lpm_v6_key_for_prefix(const struct ip_prefix *prefix, struct lpm_v6_key *key);
void xdp_lpm_v4_key_for_addr(const struct ip_addr *addr, struct lpm_v4_key *key);
void xdp_lpm_v6_key_for_addr(const struct ip_addr *addr, struct lpm_v6_key *key);

/* The key XDP wrote for this connection's SYN (peer = source, local =
 * destination). False when the two addresses' families differ or are not
 * AF_INET/AF_INET6. */
bool xdp_conn_key_from_tuple(const struct conn_tuple *tuple, struct conn_key *key);

/* Assigns each cloud a slot in order of its first region id, so the slots are
 * stable while the table only grows. cloud_idx must hold regions->count
 * entries (cloud_idx[0] is set to ARCHEIO_CLOUD_OTHER); clouds receives the
 * slot names (clouds past the last slot share ARCHEIO_CLOUD_OTHER, named
 * "other"). Returns the number of slots used. */
uint32_t xdp_cloud_slots(const struct region_table *regions, uint32_t *cloud_idx,
			 struct cloud_name clouds[ARCHEIO_CLOUD_SLOTS]);

/* Map sizes for this data, with headroom: tries sized for the data at hand
 * (each reload creates fresh tries), the regions table for growth across
 * reloads. conn_tag_capacity 0 means XDP_CONN_TAGS_DEFAULT. */
void xdp_map_sizes_for(const struct range_set *set, const struct region_table *regions,
		       size_t listen_port_count, uint32_t conn_tag_capacity,
		       struct xdp_map_sizes *sizes);

/* Number of IPv4 and IPv6 entries in set. */
void xdp_count_families(const struct range_set *set, size_t *v4, size_t *v6);

#endif
