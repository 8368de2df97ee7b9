/* Multibit trie with a fixed stride and controlled prefix expansion.
 *
 * Each node covers LPM_STRIDE address bits and has one slot per value of
 * those bits. A prefix of length L is stored in the node at depth
 * ceil(L / LPM_STRIDE) - 1, expanded over every slot it covers. Prefixes are
 * inserted shortest first, so a longer prefix ending in the same node
 * overwrites the slots it shares with a shorter one; prefixes ending deeper
 * are longer still, so a lookup keeps the last region it meets on its way
 * down. An IPv4 lookup touches at most 32 / LPM_STRIDE nodes, IPv6 at most
 * 128 / LPM_STRIDE, in practice 64 / LPM_STRIDE for provider data.
 *
 * Nodes live in one array and refer to children by index: building only
 * appends, and lookups stay within one allocation. */
#include "archeio/lpm.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* 8 bits: 4 node visits per IPv4 lookup, ~10 MB for the three providers'
 * ~27k prefixes. Must divide 8. */
#define LPM_STRIDE 8
#define LPM_FANOUT (1u << LPM_STRIDE)
#define LPM_ROOT_V4 0u
#define LPM_ROOT_V6 1u
#define LPM_NO_CHILD 0u /* a root is never a child, so index 0 is free to mean "none" */
#define LPM_MAX_LEN 128

struct lpm_slot {
	uint32_t region; /* longest prefix ending in this node covering this slot */
	uint32_t child;
};

struct lpm_node {
	struct lpm_slot slots[LPM_FANOUT];
};

struct lpm {
	struct lpm_node *nodes;
	uint32_t count;
	uint32_t cap;
};

/* The LPM_STRIDE bits of addr at depth. */
static unsigned chunk(const uint8_t *bytes, unsigned depth)
{
	unsigned bit = depth * LPM_STRIDE;
	unsigned shift = 8 - LPM_STRIDE - bit % 8;
	return (bytes[bit / 8] >> shift) & (LPM_FANOUT - 1);
}

static int add_node(struct lpm *trie, uint32_t *index)
{
	if (trie->count == trie->cap) {
		uint32_t cap = trie->cap ? trie->cap * 2 : 64;
		if (cap <= trie->cap)
			return -1;
		struct lpm_node *nodes = realloc(trie->nodes, (size_t)cap * sizeof(*nodes));
		if (nodes == NULL)
			return -1;
		trie->nodes = nodes;
		trie->cap = cap;
	}
	memset(&trie->nodes[trie->count], 0, sizeof(trie->nodes[0]));
	*index = trie->count++;
	return 0;
}

static int insert(struct lpm *trie, const struct range_entry *entry)
{
	const struct ip_prefix *prefix = &entry->prefix;
	unsigned len = prefix->len;
	uint32_t node = prefix->addr.family == AF_INET ? LPM_ROOT_V4 : LPM_ROOT_V6;
	unsigned last_depth = len == 0 ? 0 : (len - 1) / LPM_STRIDE;
	for (unsigned depth = 0; depth < last_depth; depth++) {
		unsigned c = chunk(prefix->addr.bytes, depth);
		uint32_t child = trie->nodes[node].slots[c].child;
		if (child == LPM_NO_CHILD) {
			if (add_node(trie, &child) != 0)
				return -1;
			trie->nodes[node].slots[c].child = child;
		}
		node = child;
	}
	unsigned span = LPM_STRIDE * (last_depth + 1) - len; /* bits the prefix leaves open */
	unsigned first = chunk(prefix->addr.bytes, last_depth) & ~((1u << span) - 1);
	for (unsigned k = 0; k < (1u << span); k++)
		trie->nodes[node].slots[first + k].region = entry->region_id;
	return 0;
}

static bool usable(const struct range_entry *entry)
{
	uint8_t family = entry->prefix.addr.family;
	return entry->region_id != REGION_NONE && (family == AF_INET || family == AF_INET6) &&
	       entry->prefix.len <= ip_max_prefix(family);
}

/* Entry indexes ordered by prefix length, keeping load order within a
 * length so that the later of two identical prefixes is inserted last and
 * wins, as in ranges_finish(). A counting sort: stable and linear. */
static size_t *order_by_length(const struct range_set *set)
{
	size_t starts[LPM_MAX_LEN + 2] = {0};
	for (size_t i = 0; i < set->count; i++)
		if (usable(&set->entries[i]))
			starts[set->entries[i].prefix.len + 1]++;
	for (unsigned len = 1; len < LPM_MAX_LEN + 2; len++)
		starts[len] += starts[len - 1];
	size_t *order = malloc((set->count ? set->count : 1) * sizeof(*order));
	if (order == NULL)
		return NULL;
	for (size_t i = 0; i < set->count; i++)
		if (usable(&set->entries[i]))
			order[starts[set->entries[i].prefix.len]++] = i;
	return order;
}

struct lpm *lpm_build(const struct range_set *set)
{
	struct lpm *trie = calloc(1, sizeof(*trie));
	if (trie == NULL)
		return NULL;
	uint32_t root;
	if (add_node(trie, &root) != 0 || add_node(trie, &root) != 0) {
		lpm_free(trie);
		return NULL;
	}
	size_t *order = order_by_length(set);
	if (order == NULL) {
		lpm_free(trie);
		return NULL;
	}
	size_t usable_count = 0;
	for (size_t i = 0; i < set->count; i++)
		usable_count += usable(&set->entries[i]);
	for (size_t i = 0; i < usable_count; i++) {
		if (insert(trie, &set->entries[order[i]]) != 0) {
			free(order);
			lpm_free(trie);
			return NULL;
		}
	}
	free(order);
	return trie;
}

void lpm_free(struct lpm *trie)
{
	if (trie == NULL)
		return;
	free(trie->nodes);
	free(trie);
}

uint32_t lpm_lookup(const struct lpm *trie, const struct ip_addr *addr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	const uint8_t *bytes = addr->bytes;
	uint32_t node = LPM_ROOT_V4;
	unsigned depths = 32 / LPM_STRIDE;
	if (addr->family == AF_INET6) {
		/* ip_parse() already normalises mapped IPv4; this covers callers
		 * that filled an ip_addr by hand. */
		if (memcmp(bytes, mapped, sizeof(mapped)) == 0) {
			bytes += sizeof(mapped);
		} else {
			node = LPM_ROOT_V6;
			depths = 128 / LPM_STRIDE;
		}
	} else if (addr->family != AF_INET) {
		return REGION_NONE;
	}
	uint32_t best = REGION_NONE;
	for (unsigned depth = 0; depth < depths; depth++) {
		const struct lpm_slot *slot = &trie->nodes[node].slots[chunk(bytes, depth)];
		if (slot->region != REGION_NONE)
			best = slot->region;
		node = slot->child;
		if (node == LPM_NO_CHILD)
			break;
	}
	return best;
}
