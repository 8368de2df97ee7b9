/* The mirror cache's layout: shared by mirror_cache.c and the unit tests that
 * count what a cache holds; everyone else uses
 * archeio/mirrorcheck/mirror_cache.h. */
#ifndef ARCHEIO_MIRROR_CACHE_INTERNAL_H
#define ARCHEIO_MIRROR_CACHE_INTERNAL_H

#include <stddef.h>

#include "archeio/core/siphash.h"
#include "archeio/mirrorcheck/mirror_cache.h"

struct cache_entry;
struct cache_origin;

/* Mirror origins are few (one per host in the rules): a small fixed table. */
#define MIRROR_CACHE_ORIGIN_BUCKETS 64

struct mirror_cache {
	struct mirror_cache_options options;
	struct siphash_key key;
	struct cache_entry **buckets;
	size_t bucket_mask;
	struct cache_entry *lru_head; /* most recently used */
	struct cache_entry *lru_tail; /* next to evict */
	size_t size;		      /* entries held, pending ones included */
	/* The origins of the entries held, each with its generation. */
	struct cache_origin *origins[MIRROR_CACHE_ORIGIN_BUCKETS];
	/* Entries visited by whole-cache walks (the health probe's), so the
	 * tests can check that forgetting an origin visits none. */
	size_t entries_walked;
};

#endif
