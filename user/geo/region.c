#include "archeio/geo/region.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "archeio/core/siphash.h"

#define INDEX_MIN_SLOTS 128u

void region_table_init(struct region_table *table)
{
	table->names = NULL;
	table->count = 1; /* id 0 is REGION_NONE and never handed out */
	table->cap = 0;
	table->index = NULL;
	table->index_mask = 0;
}

void region_table_free(struct region_table *table)
{
	free(table->names);
	free(table->index);
	region_table_init(table);
}

/* Names come from range files an operator chose, not from clients: a fixed
 * key is enough. The NUL between the parts keeps ("ab","c") apart from
 * ("a","bc"). */
static uint32_t name_hash(const char *cloud, size_t cloud_len, const char *region,
			  size_t region_len)
{
	static const struct siphash_key key = {0x6172636865696f21ULL, 0x726567696f6e7321ULL};
	char buf[REGION_CLOUD_MAX + REGION_NAME_MAX];
	memcpy(buf, cloud, cloud_len);
	buf[cloud_len] = '\0';
	memcpy(buf + cloud_len + 1, region, region_len);
	return (uint32_t)siphash24(&key, buf, cloud_len + 1 + region_len);
}

static bool name_equal(const struct region_name *name, const char *cloud, const char *region)
{
	return strcmp(name->cloud, cloud) == 0 && strcmp(name->region, region) == 0;
}

/* The slot holding (cloud, region), or the empty slot where it would go. */
static uint32_t *index_slot(const struct region_table *table, const char *cloud, const char *region)
{
	uint32_t i = name_hash(cloud, strlen(cloud), region, strlen(region));
	for (;; i++) {
		uint32_t *slot = &table->index[i & table->index_mask];
		if (*slot == REGION_NONE || name_equal(&table->names[*slot], cloud, region))
			return slot;
	}
}

/* Makes the index hold ids 1..count-1 with room for one more while staying
 * at most half full. 0, or -1 when allocation failed (index unchanged). */
static int index_reserve(struct region_table *table)
{
	uint64_t needed = 2 * ((uint64_t)table->count + 1);
	if (table->index && (uint64_t)table->index_mask + 1 >= needed)
		return 0;
	uint64_t slots = INDEX_MIN_SLOTS;
	while (slots < needed)
		slots <<= 1;
	if (slots > UINT32_MAX)
		return -1;
	uint32_t *index = calloc((size_t)slots, sizeof(*index));
	if (index == NULL)
		return -1;
	free(table->index);
	table->index = index;
	table->index_mask = (uint32_t)(slots - 1);
	for (uint32_t id = 1; id < table->count; id++)
		*index_slot(table, table->names[id].cloud, table->names[id].region) = id;
	return 0;
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
	/* Interned once per parsed entry, and a file may name tens of thousands
	 * of regions: a lookup in the hash index, not a scan. */
	if (index_reserve(table) != 0)
		return REGION_NONE;
	uint32_t *slot = index_slot(table, cloud, region);
	if (*slot != REGION_NONE)
		return *slot;
	if (table->count == UINT32_MAX || grow(table) != 0)
		return REGION_NONE;
	struct region_name *name = &table->names[table->count];
	memset(name, 0, sizeof(*name));
	memcpy(name->cloud, cloud, cloud_len);
	memcpy(name->region, region, region_len);
	*slot = table->count;
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
	free(dst->index);
	dst->names = names;
	dst->count = src->count;
	dst->cap = src->cap;
	/* Rebuilt by the next intern: a copy is made once per reload. */
	dst->index = NULL;
	dst->index_mask = 0;
	return 0;
}
