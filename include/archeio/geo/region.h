/* Region identities: a small integer id for each (cloud, region) pair.
 *
 * Ids are what the range table and the BPF tries store; names are what mirror rules
 * match. Id 0 means "no region" (address not in any range). A table only ever
 * grows: reloading ranges into the same table keeps existing ids stable, so a
 * connection tagged before a reload still names the same region after it. */
#ifndef ARCHEIO_REGION_H
#define ARCHEIO_REGION_H

#include <stddef.h>
#include <stdint.h>

#include "archeio/bpf_shared.h"

#define REGION_NONE 0u

struct region_table {
	struct region_name *names; /* names[id]; names[0] is unused */
	uint32_t count;		   /* ids are 1..count-1 */
	uint32_t cap;
	/* Hash index over names, so interning stays near-linear with tens of
	 * thousands of regions: open addressing, slots hold ids (0 = empty),
	 * at most half full. NULL until the first intern; rebuilt from names
	 * when missing (a table built by hand, a copy). */
	uint32_t *index;
	uint32_t index_mask; /* slot count - 1 */
};

void region_table_init(struct region_table *table);
void region_table_free(struct region_table *table);
/* Returns the id of (cloud, region), adding it if new; 0 when the names do
 * not fit (see REGION_CLOUD_MAX / REGION_NAME_MAX) or allocation failed. */
uint32_t region_table_intern(struct region_table *table, const char *cloud, const char *region);
/* NULL for REGION_NONE or an unknown id. */
const struct region_name *region_table_get(const struct region_table *table, uint32_t id);
/* Replaces dst (initialised, empty or not) with a copy of src; 0 or -1 when
 * allocation failed, leaving dst unchanged. */
int region_table_copy(struct region_table *dst, const struct region_table *src);

#endif
