/* Reads the cache's layout from inside the mirrorcheck subsystem. */
#include "mirror_cache_size.h"

#include "mirrorcheck/mirror_cache_internal.h"

size_t mirror_cache_size(const struct mirror_cache *cache)
{
	return cache ? cache->size : 0;
}
