/* Reads the cache's layout from inside the mirrorcheck subsystem. */
#include "mirror_cache_size.h"

#include "mirrorcheck/mirror_cache_internal.h"

size_t mirror_cache_size(const struct mirror_cache *cache)
{
	return cache ? cache->size : 0;
}

size_t mirror_cache_entries_walked(const struct mirror_cache *cache)
{
	return cache ? cache->entries_walked : 0;
}
