/* The mirror cache's layout: shared by mirror_cache.c and the unit tests that
 * count what a cache holds; everyone else uses
 * archeio/mirrorcheck/mirror_cache.h. */
#ifndef ARCHEIO_MIRROR_CACHE_INTERNAL_H
#define ARCHEIO_MIRROR_CACHE_INTERNAL_H

#include <stddef.h>

#include "archeio/core/siphash.h"
#include "archeio/mirrorcheck/mirror_cache.h"

struct cache_entry;

struct mirror_cache {
	struct mirror_cache_options options;
	struct siphash_key key;
	struct cache_entry **buckets;
	size_t bucket_mask;
	struct cache_entry *lru_head; /* most recently used */
	struct cache_entry *lru_tail; /* next to evict */
	size_t size;		      /* entries held, pending ones included */
};

#endif
