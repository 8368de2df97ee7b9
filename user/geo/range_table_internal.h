/* The range table's layout: shared by range_table.c and the unit tests that
 * measure what a table holds; everyone else uses archeio/geo/range_table.h. */
#ifndef ARCHEIO_RANGE_TABLE_INTERNAL_H
#define ARCHEIO_RANGE_TABLE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#ifndef __SIZEOF_INT128__
#error "the range table needs unsigned __int128 (GCC or clang on a 64-bit target)"
#endif

/* An IPv6 address as a number. */
__extension__ typedef unsigned __int128 range_u128;

/* One table per family: starts[i] begins an interval of regions[i] that runs
 * up to starts[i + 1]. Starts and regions are kept apart so that the search
 * touches only the starts. */
struct range_table {
	uint32_t *v4_starts;
	uint32_t *v4_regions;
	size_t v4_count;
	range_u128 *v6_starts;
	uint32_t *v6_regions;
	size_t v6_count;
};

#endif
