/* What a run will copy: unique blobs (deduplicated by digest across images
 * and repositories) and the images they belong to, so that an image's
 * manifests are recorded only when all of its blobs made it. Pure data
 * structure; filled by discover.c, consumed by run.c. */
#ifndef ARCHEIO_MIRROR_PLAN_H
#define ARCHEIO_MIRROR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum blob_status {
	BLOB_PENDING,
	BLOB_COPIED,
	BLOB_PRESENT,	 /* already in the destination */
	BLOB_WOULD_COPY, /* --dry-run */
	BLOB_FAILED,
};

struct plan_blob {
	char *digest;
	char *repo; /* the first repository that references it: fetched from there */
	int64_t size;
	enum blob_status status;
};

struct plan_image {
	char *repo;
	char *ref;
	char **manifests; /* the tagged manifest first, then index children */
	size_t manifest_count;
	size_t *blobs; /* indexes into plan.blobs */
	size_t blob_count;
};

struct plan {
	struct plan_blob *blobs;
	size_t blob_count;
	struct plan_image *images;
	size_t image_count;
	size_t images_skipped; /* already recorded */
	/* digest -> blob index (open addressing; slot holds index + 1, 0 = empty) */
	size_t *slots;
	size_t slot_count;
};

void plan_init(struct plan *p);
void plan_free(struct plan *p);
/* Starts a new image; returns it, NULL on allocation failure. */
struct plan_image *plan_add_image(struct plan *p, const char *repo, const char *ref);
bool plan_image_add_manifest(struct plan_image *img, const char *digest);
/* Adds a blob to img, shared with any earlier image that has it. */
bool plan_image_add_blob(struct plan *p, struct plan_image *img, const char *digest, int64_t size,
			 const char *repo);
/* Drops the last image (when walking it failed half way). */
void plan_drop_last_image(struct plan *p);
/* Adds img of the plan from (walked on its own, e.g. by one discovery
 * thread) to p as a new image: its manifests and blobs, deduplicated with
 * p's. False on allocation failure (the image is then dropped). */
bool plan_merge_image(struct plan *p, const struct plan *from, const struct plan_image *img);
/* True when every blob of img is copied or present (and it has manifests). */
bool plan_image_complete(const struct plan *p, const struct plan_image *img);
uint64_t plan_total_bytes(const struct plan *p);

#endif
