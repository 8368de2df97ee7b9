#include "archeio/geo/region.h"

#include <stdlib.h>
#include <string.h>

void region_table_init(struct region_table *table)
{
	table->names = NULL;
	table->count = 1; /* id 0 is REGION_NONE and never handed out */
	table->cap = 0;
}

void region_table_free(struct region_table *table)
{
	free(table->names);
	region_table_init(table);
}

/* Length of s when it is 1..max-1 bytes long, else 0. */
static size_t fitting_length(const char *s, size_t max)
{
	if (s == NULL)
		return 0;
	size_t n = strnlen(s, max);
	return n < max ? n : 0;
}

static int grow(struct region_table *table)
{
	if (table->count < table->cap)
		return 0;
	uint32_t cap = table->cap ? table->cap * 2 : 64;
	if (cap <= table->cap)
		return -1;
	struct region_name *names = realloc(table->names, (size_t)cap * sizeof(*names));
	if (names == NULL)
		return -1;
	if (table->names == NULL)
		memset(&names[0], 0, sizeof(names[0])); /* keeps copies fully defined */
	table->names = names;
	table->cap = cap;
	return 0;
}

uint32_t region_table_intern(struct region_table *table, const char *cloud, const char *region)
{
	size_t cloud_len = fitting_length(cloud, REGION_CLOUD_MAX);
	size_t region_len = fitting_length(region, REGION_NAME_MAX);
	if (cloud_len == 0 || region_len == 0)
		return REGION_NONE;
	/* A few hundred names at most, interned once per parsed entry: a linear
	 * scan costs less than maintaining a hash index. */
	for (uint32_t id = 1; id < table->count; id++) {
		const struct region_name *name = &table->names[id];
		if (strcmp(name->cloud, cloud) == 0 && strcmp(name->region, region) == 0)
			return id;
	}
	if (table->count == UINT32_MAX || grow(table) != 0)
		return REGION_NONE;
	struct region_name *name = &table->names[table->count];
	memset(name, 0, sizeof(*name));
	memcpy(name->cloud, cloud, cloud_len);
	memcpy(name->region, region, region_len);
	return table->count++;
}

const struct region_name *region_table_get(const struct region_table *table, uint32_t id)
{
	if (id == REGION_NONE || id >= table->count || table->names == NULL)
		return NULL;
	return &table->names[id];
}

int region_table_copy(struct region_table *dst, const struct region_table *src)
{
	struct region_name *names = NULL;
	if (src->cap > 0) {
		names = calloc(src->cap, sizeof(*names));
		if (names == NULL)
			return -1;
		memcpy(names, src->names, (size_t)src->count * sizeof(*names));
	}
	free(dst->names);
	dst->names = names;
	dst->count = src->count;
	dst->cap = src->cap;
	return 0;
}
