/* Mirror base URL -> id, stable for the life of the process (mirror_ids.h). */
#include "archeio/mirrorcheck/mirror_ids.h"

#include <stdlib.h>
#include <string.h>

void mirror_ids_init(struct mirror_ids *ids)
{
	ids->bases = NULL;
	ids->count = 0;
}

void mirror_ids_free(struct mirror_ids *ids)
{
	for (uint32_t i = 0; i < ids->count; i++)
		free(ids->bases[i]);
	free(ids->bases);
	mirror_ids_init(ids);
}

uint32_t mirror_ids_intern(struct mirror_ids *ids, const char *base)
{
	for (uint32_t i = 0; i < ids->count; i++)
		if (strcmp(ids->bases[i], base) == 0)
			return i;
	if (ids->count == MIRROR_ID_NONE)
		return MIRROR_ID_NONE;
	char **grown = realloc(ids->bases, (ids->count + 1) * sizeof(*grown));
	if (!grown)
		return MIRROR_ID_NONE;
	ids->bases = grown;
	if (!(grown[ids->count] = strdup(base)))
		return MIRROR_ID_NONE;
	return ids->count++;
}

int mirror_ids_copy(struct mirror_ids *dst, const struct mirror_ids *src)
{
	struct mirror_ids copy;
	mirror_ids_init(&copy);
	if (src->count) {
		copy.bases = calloc(src->count, sizeof(*copy.bases));
		if (!copy.bases)
			return -1;
	}
	for (uint32_t i = 0; i < src->count; i++, copy.count++) {
		if (!(copy.bases[i] = strdup(src->bases[i]))) {
			mirror_ids_free(&copy);
			return -1;
		}
	}
	mirror_ids_free(dst);
	*dst = copy;
	return 0;
}
