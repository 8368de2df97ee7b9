/* The estimate of time left that the live progress line shows. Pure. */
#ifndef ARCHEIO_MIRROR_ETA_H
#define ARCHEIO_MIRROR_ETA_H

#include <stddef.h>
#include <stdint.h>

/* "about 42s left", "about 4m05s left", "about 2h03m left" for
 * remaining_bytes at bytes_per_s; "" when nothing remains or no rate is
 * known yet (no estimate beats a wild one). Longer than 99 hours reads
 * "more than 99h left". */
void eta_format(uint64_t remaining_bytes, double bytes_per_s, char *buf, size_t len);

#endif
