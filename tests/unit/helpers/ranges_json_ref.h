/* The jansson-based ranges JSON reader production used before the token
 * tape (json_tape.c), kept for the differential tests. */
#ifndef ARCHEIO_TESTS_RANGES_JSON_REF_H
#define ARCHEIO_TESTS_RANGES_JSON_REF_H

#include <stddef.h>

#include "geo/ranges_internal.h"

/* ranges_parse_buffer_stamped() as it was: jansson's json_loadb() and its
 * tree for JSON, ranges_parse_text() for the operator format. */
int ranges_ref_parse_buffer(struct range_set *set, struct region_table *regions, const char *name,
			    const char *buf, size_t len, struct ranges_stamp *stamp, char *err,
			    size_t errlen);

#endif
