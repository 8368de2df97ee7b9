/* Which ranges format a buffer holds, decided the way ranges_parse_buffer()
 * dispatches, so the tests can name the format they expect a file to be
 * read as. Production never needs the answer on its own: it parses. */
#ifndef ARCHEIO_TESTS_RANGES_DETECT_H
#define ARCHEIO_TESTS_RANGES_DETECT_H

#include <stddef.h>

#include "geo/ranges_internal.h"

enum ranges_format ranges_detect_format(const char *buf, size_t len);
/* "aws", "gcp", "azure", "text" or "unknown", for test messages. */
const char *ranges_format_name(enum ranges_format format);

#endif
