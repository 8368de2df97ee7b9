/* A growable byte buffer: the one both binaries use for output that may not
 * fit where it is made (a connection's unsent response bytes, a registry
 * answer's body). Doubling growth from 4 KiB; `limit` bounds what one buffer
 * may ever hold, so a peer cannot make it grow without end. */
#ifndef ARCHEIO_CORE_BUF_H
#define ARCHEIO_CORE_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len; /* bytes held */
	size_t cap; /* bytes allocated */
};

/* Makes room for `extra` more bytes past len; false when that would pass
 * `limit` (0: no limit) or memory ran out. The buffer is unchanged then. */
bool buf_reserve(struct buf *b, size_t extra, size_t limit);
/* Appends len bytes (reserving as above); false leaves the buffer unchanged. */
bool buf_append(struct buf *b, const void *data, size_t len, size_t limit);
/* Forgets the first n bytes (n <= len), keeping the rest at the front. */
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

#endif
