/* Walks the source registry into a plan: the repositories' tags (or the
 * given references), each manifest, image indexes down to their child
 * manifests, and every config and layer blob. Images whose manifest is
 * recorded in the state are counted as skipped and not walked (unless
 * records are ignored, for --verify). References are walked by up to
 * `concurrency` threads at once, each on its own HTTP handle, so the run
 * waits on many manifests at a time, under the registry client's --rps. */
#ifndef ARCHEIO_MIRROR_DISCOVER_H
#define ARCHEIO_MIRROR_DISCOVER_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "failures.h"
#include "plan.h"
#include "registry.h"
#include "state.h"

#define DISCOVER_MAX_DEPTH 4 /* index -> index -> ... nesting allowed */

struct discover_ctx {
	struct registry *registry;
	const struct mirror_state *state;
	bool ignore_records; /* --verify: walk recorded images too */
	struct plan *plan;
	pthread_mutex_t *plan_lock; /* guards plan and notes */
	struct failures *failures;
	FILE *notes; /* "skip ..." lines for --dry-run, or NULL */
};

/* The references to walk, gathered before walking: each owns its strings. */
struct ref_list {
	struct discover_ref {
		char *repo;
		char *ref;
	} * items;
	size_t count;
};

/* Appends repo's refs, or every tag of repo when ref_count is 0 (listing
 * problems are added to failures). False only when out of memory. */
bool discover_list_refs(struct discover_ctx *ctx, CURL *easy, const char *repo, char *const *refs,
			size_t ref_count, struct ref_list *out);
void ref_list_free(struct ref_list *list);

/* Walks every reference of list with up to concurrency threads; problems
 * are added to failures. */
void discover_refs(struct discover_ctx *ctx, const struct ref_list *list, unsigned concurrency);

#endif
