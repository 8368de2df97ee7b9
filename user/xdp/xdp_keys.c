/* Conversions between archeio address types and BPF map layouts. */
#include "xdp_keys.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

_Static_assert(ARCHEIO_AF_INET == AF_INET, "bpf_shared.h AF_INET differs from the host's");
_Static_assert(ARCHEIO_AF_INET6 == AF_INET6, "bpf_shared.h AF_INET6 differs from the host's");
_Static_assert(sizeof(struct conn_key) == 40, "conn_key must have no implicit padding");
_Static_assert(sizeof(struct lpm_v4_key) == 8, "lpm_v4_key must have no implicit padding");
_Static_assert(sizeof(struct lpm_v6_key) == 20, "lpm_v6_key must have no implicit padding");

/* Spare region ids for reloads that add regions without a restart. */
#define REGIONS_MIN 1024u
/* Spare trie entries; each reload creates fresh tries sized for its data. */
#define LPM_HEADROOM 64u
#define LISTEN_PORTS_MIN 16u

void xdp_lpm_v4_key_for_prefix(const struct ip_prefix *prefix, struct lpm_v4_key *key)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = prefix->len > 32 ? 32 : prefix->len;
	memcpy(key->addr, prefix->addr.bytes, sizeof(key->addr));
}

void xdp_lpm_v6_key_for_prefix(const struct ip_prefix *prefix, struct lpm_v6_key *key)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = prefix->len > 128 ? 128 : prefix->len;
	memcpy(key->addr, prefix->addr.bytes, sizeof(key->addr));
}

void xdp_lpm_v4_key_for_addr(const struct ip_addr *addr, struct lpm_v4_key *key)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = 32;
	memcpy(key->addr, addr->bytes, sizeof(key->addr));
}

void xdp_lpm_v6_key_for_addr(const struct ip_addr *addr, struct lpm_v6_key *key)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = 128;
	memcpy(key->addr, addr->bytes, sizeof(key->addr));
}

bool xdp_conn_key_from_tuple(const struct conn_tuple *tuple, struct conn_key *key)
{
	size_t len;

	if (tuple->peer.family != tuple->local.family)
		return false;
	if (tuple->peer.family == AF_INET)
		len = 4;
	else if (tuple->peer.family == AF_INET6)
		len = 16;
	else
		return false;
	memset(key, 0, sizeof(*key));
	key->family = tuple->peer.family;
	memcpy(key->saddr, tuple->peer.bytes, len);
	memcpy(key->daddr, tuple->local.bytes, len);
	key->sport = htons(tuple->peer_port);
	key->dport = htons(tuple->local_port);
	return true;
}

static uint32_t find_slot(const struct cloud_name *clouds, uint32_t used, const char *cloud)
{
	for (uint32_t i = 0; i < used; i++)
		if (strncmp(clouds[i].name, cloud, sizeof(clouds[i].name)) == 0)
			return i;
	return used;
}

uint32_t xdp_cloud_slots(const struct region_table *regions, uint32_t *cloud_idx,
			 struct cloud_name clouds[ARCHEIO_CLOUD_SLOTS])
{
	uint32_t used = 0;

	memset(clouds, 0, sizeof(struct cloud_name) * ARCHEIO_CLOUD_SLOTS);
	if (regions->count > 0)
		cloud_idx[0] = ARCHEIO_CLOUD_OTHER;
	for (uint32_t id = 1; id < regions->count; id++) {
		const char *cloud = regions->names[id].cloud;
		uint32_t slot = find_slot(clouds, used, cloud);

		if (slot == used) {
			if (used == ARCHEIO_CLOUD_OTHER) {
				cloud_idx[id] = ARCHEIO_CLOUD_OTHER;
				continue;
			}
			memcpy(clouds[slot].name, cloud, sizeof(clouds[slot].name) - 1);
			used++;
		}
		cloud_idx[id] = slot;
	}
	if (used == ARCHEIO_CLOUD_OTHER)
		strcpy(clouds[ARCHEIO_CLOUD_OTHER].name, "other");
	return used;
}

void xdp_count_families(const struct range_set *set, size_t *v4, size_t *v6)
{
	*v4 = 0;
	*v6 = 0;
	for (size_t i = 0; i < set->count; i++) {
		if (set->entries[i].prefix.addr.family == AF_INET)
			(*v4)++;
		else if (set->entries[i].prefix.addr.family == AF_INET6)
			(*v6)++;
	}
}

static uint32_t clamp_u32(size_t value)
{
	return value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
}

void xdp_map_sizes_for(const struct range_set *set, const struct region_table *regions,
		       size_t listen_port_count, uint32_t conn_tag_capacity,
		       struct xdp_map_sizes *sizes)
{
	size_t v4, v6;
	size_t region_count = regions->count > 0 ? regions->count : 1;

	xdp_count_families(set, &v4, &v6);
	sizes->lpm_v4 = clamp_u32(v4 + LPM_HEADROOM);
	sizes->lpm_v6 = clamp_u32(v6 + LPM_HEADROOM);
	sizes->regions = clamp_u32(region_count * 2 > REGIONS_MIN ? region_count * 2 : REGIONS_MIN);
	sizes->conn_tags = conn_tag_capacity ? conn_tag_capacity : XDP_CONN_TAGS_DEFAULT;
	sizes->listen_ports =
	    clamp_u32(listen_port_count > LISTEN_PORTS_MIN ? listen_port_count : LISTEN_PORTS_MIN);
}
