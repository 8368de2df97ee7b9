/* The provider ranges as a sorted table of address intervals, for
 * longest-prefix lookups in userspace: what answers when XDP/BPF is not in
 * use, and the reference the BPF LPM tries are tested against. Immutable once
 * built, so any number of threads may look up concurrently. */
#ifndef ARCHEIO_RANGE_TABLE_H
#define ARCHEIO_RANGE_TABLE_H

#include <stdint.h>

#include "archeio/core/ip.h"
#include "archeio/geo/ranges.h"

struct range_table;

/* NULL on allocation failure. O(n log n) in the number of entries; does not
 * reference `set` afterwards. Entries with REGION_NONE are ignored; of
 * identical prefixes the one loaded last (later in `set`) wins. */
struct range_table *range_table_build(const struct range_set *set);
void range_table_free(struct range_table *table);
/* Region id of the longest prefix containing addr, or REGION_NONE. */
uint32_t range_table_lookup(const struct range_table *table, const struct ip_addr *addr);

#endif
