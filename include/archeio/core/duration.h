/* Durations as operators write them in flags: "7d", "12h", "30m", "3600s" or
 * plain seconds ("3600"). Pure. */
#ifndef ARCHEIO_CORE_DURATION_H
#define ARCHEIO_CORE_DURATION_H

#include <stdbool.h>
#include <stdint.h>

/* Digits, then at most one unit (s, m, h, d; none: seconds). No sign, no
 * spaces, no fractions, no combinations ("1h30m"). False for anything else
 * and for a value over max_seconds. */
bool duration_parse_seconds(const char *text, uint64_t max_seconds, uint64_t *seconds);

#endif
