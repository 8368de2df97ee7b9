/* The list of what failed in a run, one line each, printed at the end, and
 * how many failed of each kind, so the summary line counts every failure the
 * list shows. Guarded by its lock: copy threads add to it concurrently. */
#ifndef ARCHEIO_MIRROR_FAILURES_H
#define ARCHEIO_MIRROR_FAILURES_H

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

/* What a failure stopped: the summary line names each kind that failed. */
enum failure_kind {
	FAILURE_BLOB,	 /* checking or copying one blob */
	FAILURE_IMAGE,	 /* a tag or digest reference: its manifest, index or children */
	FAILURE_LISTING, /* a repository's tags list, or the registry's catalog */
	FAILURE_RECORD,	 /* recording a copied image in the state directory */
	FAILURE_SETUP,	 /* the run itself: e.g. an HTTP handle that cannot be made */
	FAILURE_KINDS,
};

struct failures {
	pthread_mutex_t lock;
	char **items;
	size_t count;
	size_t dropped;		       /* lines lost to allocation failure (still counted) */
	size_t by_kind[FAILURE_KINDS]; /* kept and dropped lines alike */
};

void failures_init(struct failures *f);
void failures_destroy(struct failures *f);
void failures_add(struct failures *f, enum failure_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
size_t failures_count(struct failures *f);
/* Copies the per-kind counts (FAILURE_KINDS of them) into out. */
void failures_by_kind(struct failures *f, size_t out[FAILURE_KINDS]);
void failures_print(struct failures *f, FILE *out);

#endif
