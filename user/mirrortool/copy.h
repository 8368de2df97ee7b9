/* Copies one blob into several destinations from one source read: the
 * bytes stream once from the registry, are hashed once, and are written by
 * each destination's writer as they arrive (a tee). A writer that fails is
 * dropped for this blob while the others go on; the blob is published in
 * each remaining destination only after its digest (and size, when known)
 * matched. Nothing partial is left behind anywhere. */
#ifndef ARCHEIO_MIRROR_COPY_H
#define ARCHEIO_MIRROR_COPY_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dest.h"
#include "progress.h"
#include "registry.h"

struct copy_target {
	struct dest *dest;
	bool ok;       /* out: published there */
	char err[768]; /* out: why not (when the destination itself failed) */
};

/* expected_size < 0: unknown. Returns false when the source failed (the
 * download, the digest or the size; err says why): then no target got the
 * blob. Otherwise each target's ok and err tell how it went. */
bool copy_blob(struct registry *r, CURL *easy, struct progress *progress, const char *repo,
	       const char *digest, int64_t expected_size, struct copy_target *targets,
	       size_t target_count, char *err, size_t errlen);

#endif
