/* Reads the table's layout from inside the geo subsystem. */
#include "range_table_memory.h"

#include "geo/range_table_internal.h"

size_t range_table_memory_bytes(const struct range_table *table)
{
	return sizeof(*table) +
	       table->v4_count * (sizeof(*table->v4_starts) + sizeof(*table->v4_regions)) +
	       table->v6_count * (sizeof(*table->v6_starts) + sizeof(*table->v6_regions));
}
