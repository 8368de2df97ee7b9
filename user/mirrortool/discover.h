/* Walks the source registry into a plan: the repositories' tags (or the
 * given references), each manifest, image indexes down to their child
 * manifests, and every config and layer blob. Images whose manifest is
 * recorded in the state are counted as skipped and not walked. */
#ifndef ARCHEIO_MIRROR_DISCOVER_H
#define ARCHEIO_MIRROR_DISCOVER_H

#include <curl/curl.h>
#include <stdio.h>

#include "failures.h"
#include "plan.h"
#include "registry.h"
#include "state.h"

#define DISCOVER_MAX_DEPTH 4 /* index -> index -> ... nesting allowed */

struct discover_ctx {
	struct registry *registry;
	CURL *easy;
	const struct mirror_state *state;
	struct plan *plan;
	struct failures *failures;
	FILE *notes; /* "skip ..." lines for --dry-run, or NULL */
};

/* refs NULL/empty: every tag. Problems are added to failures. */
void discover_repo(struct discover_ctx *ctx, const char *repo, char *const *refs, size_t ref_count);

#endif
