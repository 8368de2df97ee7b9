#include "rate_limit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "archeio/core/siphash.h"

#define NS_PER_S 1000000000ull
/* Slots a key may live in, from its hash on: short enough that a miss costs
 * a few cache lines, long enough that a full table evicts an idle bucket. */
#define PROBE_WINDOW 8u

static void set_rate(struct rate_limiter *limiter, unsigned rate, unsigned burst)
{
	limiter->interval_ns = NS_PER_S / (rate ? rate : 1);
	limiter->tolerance_ns = (uint64_t)(burst ? burst - 1 : 0) * limiter->interval_ns;
}

int rate_limiter_init(struct rate_limiter *limiter, unsigned rate, unsigned burst, size_t entries,
		      unsigned v6_prefix)
{
	size_t slots = PROBE_WINDOW;
	while (slots < entries)
		slots <<= 1;
	memset(limiter, 0, sizeof(*limiter));
	struct rate_table *table = calloc(1, sizeof(*table));
	if (!table || !(table->slots = calloc(slots, sizeof(*table->slots)))) {
		free(table);
		return -1;
	}
	atomic_init(&table->refs, 1);
	table->mask = slots - 1;
	table->v6_prefix = v6_prefix < 1 ? 1 : v6_prefix > 64 ? 64 : v6_prefix;
	limiter->table = table;
	set_rate(limiter, rate, burst);
	return 0;
}

void rate_limiter_share(struct rate_limiter *limiter, unsigned rate, unsigned burst,
			const struct rate_limiter *from)
{
	memset(limiter, 0, sizeof(*limiter));
	limiter->table = from->table;
	atomic_fetch_add_explicit(&limiter->table->refs, 1, memory_order_relaxed);
	set_rate(limiter, rate, burst);
}

void rate_limiter_free(struct rate_limiter *limiter)
{
	struct rate_table *table = limiter->table;
	limiter->table = NULL;
	if (!table || atomic_fetch_sub_explicit(&table->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(table->slots);
	free(table);
}

uint64_t rate_limit_key(const struct ip_addr *client, unsigned v6_prefix)
{
	uint64_t key = 0;
	if (client->family == AF_INET) {
		for (int i = 0; i < 4; i++)
			key = key << 8 | client->bytes[i];
		return 0xfffffffe00000000ull | key;
	}
	for (int i = 0; i < 8; i++)
		key = key << 8 | client->bytes[i];
	return v6_prefix >= 64 ? key : key & ~(~0ull >> v6_prefix);
}

/* A fixed SipHash key: the slot index need not be secret from clients, an
 * address that collides only shares a probe window, never a bucket. */
static size_t slot_of(const struct rate_table *table, uint64_t key)
{
	static const struct siphash_key sip_key = {.k0 = 0x61726368656f2d72ull,
						   .k1 = 0x6174656c696d6974ull};
	return (size_t)siphash24(&sip_key, &key, sizeof(key)) & table->mask;
}

/* The slot holding stored (key + 1): found, else an empty slot claimed, else
 * the idlest bucket of the window taken over (its time reset: the new client
 * starts with a full burst). */
static struct rate_slot *find_slot(struct rate_table *table, uint64_t stored)
{
	size_t first = slot_of(table, stored);
	struct rate_slot *idlest = NULL;
	uint64_t idlest_tat = UINT64_MAX;
	for (unsigned i = 0; i < PROBE_WINDOW; i++) {
		struct rate_slot *slot = &table->slots[(first + i) & table->mask];
		uint64_t seen = atomic_load_explicit(&slot->key, memory_order_acquire);
		if (seen == stored)
			return slot;
		if (seen == 0) {
			if (atomic_compare_exchange_strong(&slot->key, &seen, stored))
				return slot;
			if (seen == stored) /* another worker claimed it for us */
				return slot;
			continue;
		}
		uint64_t tat = atomic_load_explicit(&slot->tat, memory_order_relaxed);
		if (tat < idlest_tat) {
			idlest_tat = tat;
			idlest = slot;
		}
	}
	if (!idlest)
		return NULL;
	uint64_t old = atomic_load_explicit(&idlest->key, memory_order_acquire);
	if (old != stored && !atomic_compare_exchange_strong(&idlest->key, &old, stored))
		return old == stored ? idlest : NULL;
	atomic_store_explicit(&idlest->tat, 0, memory_order_relaxed);
	return idlest;
}

bool rate_limiter_take(struct rate_limiter *limiter, const struct ip_addr *client, uint64_t now_ns,
		       uint64_t *retry_after_ns)
{
	uint64_t stored = rate_limit_key(client, limiter->table->v6_prefix) + 1;
	/* Only ffff:ffff:ffff:ffff::/64 (multicast, never a real client) wraps. */
	if (!stored)
		stored = 1;
	struct rate_slot *slot = find_slot(limiter->table, stored);
	/* Lost every race for a slot in its window: let it through rather than
	 * refuse a client the table could not track. */
	if (!slot)
		return true;
	uint64_t tat = atomic_load_explicit(&slot->tat, memory_order_relaxed);
	for (;;) {
		uint64_t from = tat > now_ns ? tat : now_ns;
		if (from - now_ns > limiter->tolerance_ns) {
			if (retry_after_ns)
				*retry_after_ns = from - now_ns - limiter->tolerance_ns;
			return false;
		}
		if (atomic_compare_exchange_weak_explicit(
			&slot->tat, &tat, from + limiter->interval_ns, memory_order_relaxed,
			memory_order_relaxed))
			return true;
	}
}

unsigned rate_limit_retry_seconds(uint64_t retry_after_ns)
{
	uint64_t s = (retry_after_ns + NS_PER_S - 1) / NS_PER_S;
	return s < 1 ? 1 : s > 86400 ? 86400 : (unsigned)s;
}
