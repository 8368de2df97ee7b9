/* Bytes a range table holds on the heap: the tests compare sizes to see that
 * neighbouring intervals of one region merge. */
#ifndef ARCHEIO_TESTS_RANGE_TABLE_MEMORY_H
#define ARCHEIO_TESTS_RANGE_TABLE_MEMORY_H

#include <stddef.h>

#include "archeio/geo/range_table.h"

size_t range_table_memory_bytes(const struct range_table *table);

#endif
