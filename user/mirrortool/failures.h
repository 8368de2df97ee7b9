/* The list of what failed in a run, one line each, printed at the end.
 * Guarded by its lock: copy threads add to it concurrently. */
#ifndef ARCHEIO_MIRROR_FAILURES_H
#define ARCHEIO_MIRROR_FAILURES_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

struct failures {
	pthread_mutex_t lock;
	char **items;
	size_t count;
	size_t dropped; /* lines lost to allocation failure (still counted) */
};

void failures_init(struct failures *f);
void failures_destroy(struct failures *f);
void failures_add(struct failures *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t failures_count(struct failures *f);
void failures_print(struct failures *f, FILE *out);

#endif
