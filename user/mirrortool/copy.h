/* Copies one blob: download into a temp file in the destination's staging
 * directory while hashing, refuse it unless digest (and size, when known)
 * match, then publish it with dest_commit. Never leaves a temp file behind. */
#ifndef ARCHEIO_MIRROR_COPY_H
#define ARCHEIO_MIRROR_COPY_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dest.h"
#include "progress.h"
#include "registry.h"

/* expected_size < 0: unknown. */
bool copy_blob(struct registry *r, struct dest *d, CURL *easy, struct progress *progress,
	       const char *repo, const char *digest, int64_t expected_size, char *err,
	       size_t errlen);

#endif
