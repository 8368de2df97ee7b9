/* Cache of mirror HEAD answers: "present" kept for a TTL, "absent" briefly,
 * bounded in entries (least recently used evicted), and a pending state so
 * that many concurrent requests for one blob wait on a single check.
 * Pure logic: the clock is passed in, no I/O. */
#ifndef ARCHEIO_MIRROR_CACHE_H
#define ARCHEIO_MIRROR_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mirror_cache;

struct mirror_cache_options {
	size_t max_entries;         /* default 65536 */
	uint64_t present_ttl_ms;    /* default 1 h */
	uint64_t absent_ttl_ms;     /* default 10 s */
};

enum mirror_cache_state {
	MIRROR_CACHE_MISS,    /* caller must start a check (entry now pending) */
	MIRROR_CACHE_PENDING, /* a check is in flight; caller was queued */
	MIRROR_CACHE_PRESENT,
	MIRROR_CACHE_ABSENT,
};

typedef void (*mirror_cache_waiter_fn)(void *arg, bool present);

struct mirror_cache *mirror_cache_new(const struct mirror_cache_options *options);
void mirror_cache_free(struct mirror_cache *cache);
/* Looks url up at time now_ms. On MISS the entry becomes pending and the
 * waiter is queued on it; on PENDING the waiter is queued; on PRESENT/ABSENT
 * nothing is queued and the caller answers at once. */
enum mirror_cache_state mirror_cache_lookup(struct mirror_cache *cache, const char *url,
					    uint64_t now_ms, mirror_cache_waiter_fn fn, void *arg);
/* Records the answer of the check for url and calls every queued waiter once. */
void mirror_cache_complete(struct mirror_cache *cache, const char *url, bool present,
			   uint64_t now_ms);
size_t mirror_cache_size(const struct mirror_cache *cache);

#endif
