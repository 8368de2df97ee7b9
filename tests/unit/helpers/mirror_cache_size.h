/* Entries a mirror cache holds, pending ones included (0 for NULL): what the
 * cache tests check bounds and eviction with; and how many entries its walks
 * visited, what they check O(1) forgetting with. */
#ifndef ARCHEIO_TESTS_MIRROR_CACHE_SIZE_H
#define ARCHEIO_TESTS_MIRROR_CACHE_SIZE_H

#include <stddef.h>

#include "archeio/mirrorcheck/mirror_cache.h"

size_t mirror_cache_size(const struct mirror_cache *cache);
/* Entries visited so far by whole-cache walks (0 for NULL). */
size_t mirror_cache_entries_walked(const struct mirror_cache *cache);

#endif
