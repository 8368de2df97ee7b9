/* Mirror ids: a small integer for each mirror base URL the rules have named
 * since the process started. The mirror cache keys its answers by (mirror id,
 * digest) instead of by URL, which is only sound if an id never names two
 * base URLs: like region ids, a table only grows, and each reload starts from
 * a copy of the previous one, so an id keeps its base URL for the life of the
 * process and the workers' caches stay valid across reloads. Pure. */
#ifndef ARCHEIO_MIRROR_IDS_H
#define ARCHEIO_MIRROR_IDS_H

#include <stdint.h>

/* Not an id: what mirror_ids_intern() returns when memory ran out. */
#define MIRROR_ID_NONE UINT32_MAX

struct mirror_ids {
	char **bases; /* bases[id] */
	uint32_t count;
};

void mirror_ids_init(struct mirror_ids *ids);
void mirror_ids_free(struct mirror_ids *ids);
/* The id of base, adding it when new; MIRROR_ID_NONE when out of memory.
 * Linear in the bases named so far: called at load, once per rule. */
uint32_t mirror_ids_intern(struct mirror_ids *ids, const char *base);
/* Replaces dst (initialised) with a copy of src; 0, or -1 when out of memory
 * (dst unchanged). */
int mirror_ids_copy(struct mirror_ids *dst, const struct mirror_ids *src);

#endif
