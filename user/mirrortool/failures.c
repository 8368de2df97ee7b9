#include "failures.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void failures_init(struct failures *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
}

void failures_destroy(struct failures *f)
{
	for (size_t i = 0; i < f->count; i++)
		free(f->items[i]);
	free(f->items);
	pthread_mutex_destroy(&f->lock);
}

void failures_add(struct failures *f, enum failure_kind kind, const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&f->lock);
	f->by_kind[kind < FAILURE_KINDS ? kind : FAILURE_SETUP]++;
	char **grown = n >= 0 ? realloc(f->items, (f->count + 1) * sizeof(*grown)) : NULL;
	if (grown) {
		f->items = grown;
		f->items[f->count++] = line;
	} else {
		if (n >= 0)
			free(line);
		f->dropped++;
	}
	pthread_mutex_unlock(&f->lock);
}

size_t failures_count(struct failures *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->count + f->dropped;
	pthread_mutex_unlock(&f->lock);
	return n;
}

void failures_by_kind(struct failures *f, size_t out[FAILURE_KINDS])
{
	pthread_mutex_lock(&f->lock);
	memcpy(out, f->by_kind, sizeof(f->by_kind));
	pthread_mutex_unlock(&f->lock);
}

void failures_print(struct failures *f, FILE *out)
{
	pthread_mutex_lock(&f->lock);
	if (f->count + f->dropped > 0)
		fprintf(out, "failures (%zu):\n", f->count + f->dropped);
	for (size_t i = 0; i < f->count; i++)
		fprintf(out, "  %s\n", f->items[i]);
	if (f->dropped)
		fprintf(out, "  (%zu more, not kept: out of memory)\n", f->dropped);
	pthread_mutex_unlock(&f->lock);
}
