/* Entries a mirror cache holds, pending ones included (0 for NULL): what the
 * cache tests check bounds and eviction with. */
#ifndef ARCHEIO_TESTS_MIRROR_CACHE_SIZE_H
#define ARCHEIO_TESTS_MIRROR_CACHE_SIZE_H

#include <stddef.h>

#include "archeio/mirrorcheck/mirror_cache.h"

size_t mirror_cache_size(const struct mirror_cache *cache);

#endif
