/* Growable byte buffer (see buf.h). */
#include "archeio/core/buf.h"

#include <stdlib.h>
#include <string.h>

#define BUF_FIRST_CAP 4096

bool buf_reserve(struct buf *b, size_t extra, size_t limit)
{
	if (extra > (size_t)-1 - b->len)
		return false;
	size_t need = b->len + extra;
	if (limit && need > limit)
		return false;
	if (need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : BUF_FIRST_CAP;
	while (cap < need)
		cap = cap > (size_t)-1 / 2 ? need : cap * 2;
	char *grown = realloc(b->data, cap);
	if (!grown)
		return false;
	b->data = grown;
	b->cap = cap;
	return true;
}

bool buf_append(struct buf *b, const void *data, size_t len, size_t limit)
{
	if (!buf_reserve(b, len, limit))
		return false;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return true;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
