#include "plan.h"

#include <stdlib.h>
#include <string.h>

void plan_init(struct plan *p)
{
	memset(p, 0, sizeof(*p));
}

static void free_image(struct plan_image *img)
{
	free(img->repo);
	free(img->ref);
	for (size_t i = 0; i < img->manifest_count; i++)
		free(img->manifests[i]);
	free(img->manifests);
	free(img->blobs);
	memset(img, 0, sizeof(*img));
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->blob_count; i++) {
		free(p->blobs[i].digest);
		free(p->blobs[i].repo);
	}
	for (size_t i = 0; i < p->image_count; i++)
		free_image(&p->images[i]);
	free(p->blobs);
	free(p->images);
	free(p->slots);
	memset(p, 0, sizeof(*p));
}

struct plan_image *plan_add_image(struct plan *p, const char *repo, const char *ref)
{
	struct plan_image *grown = realloc(p->images, (p->image_count + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	p->images = grown;
	struct plan_image *img = &grown[p->image_count];
	memset(img, 0, sizeof(*img));
	img->repo = strdup(repo);
	img->ref = strdup(ref);
	if (!img->repo || !img->ref) {
		free_image(img);
		return NULL;
	}
	p->image_count++;
	return img;
}

void plan_drop_last_image(struct plan *p)
{
	if (p->image_count > 0)
		free_image(&p->images[--p->image_count]);
}

bool plan_image_add_manifest(struct plan_image *img, const char *digest)
{
	char **grown = realloc(img->manifests, (img->manifest_count + 1) * sizeof(*grown));
	if (!grown)
		return false;
	img->manifests = grown;
	grown[img->manifest_count] = strdup(digest);
	if (!grown[img->manifest_count])
		return false;
	img->manifest_count++;
	return true;
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static size_t *find_slot(const struct plan *p, const char *digest)
{
	size_t mask = p->slot_count - 1;
	for (size_t i = hash(digest) & mask;; i = (i + 1) & mask) {
		size_t v = p->slots[i];
		if (v == 0 || strcmp(p->blobs[v - 1].digest, digest) == 0)
			return &p->slots[i];
	}
}

/* Keeps the table at most half full, so find_slot always meets an empty slot. */
static bool grow_slots(struct plan *p)
{
	if (p->slot_count && (p->blob_count + 1) * 2 <= p->slot_count)
		return true;
	size_t count = p->slot_count ? p->slot_count * 2 : 64;
	size_t *slots = calloc(count, sizeof(*slots));
	if (!slots)
		return false;
	free(p->slots);
	p->slots = slots;
	p->slot_count = count;
	for (size_t b = 0; b < p->blob_count; b++)
		*find_slot(p, p->blobs[b].digest) = b + 1;
	return true;
}

static bool image_push_blob(struct plan_image *img, size_t index)
{
	for (size_t i = 0; i < img->blob_count; i++)
		if (img->blobs[i] == index)
			return true;
	size_t *grown = realloc(img->blobs, (img->blob_count + 1) * sizeof(*grown));
	if (!grown)
		return false;
	img->blobs = grown;
	grown[img->blob_count++] = index;
	return true;
}

bool plan_image_add_blob(struct plan *p, struct plan_image *img, const char *digest, int64_t size,
			 const char *repo)
{
	if (!grow_slots(p))
		return false;
	size_t *slot = find_slot(p, digest);
	if (*slot)
		return image_push_blob(img, *slot - 1);
	struct plan_blob *grown = realloc(p->blobs, (p->blob_count + 1) * sizeof(*grown));
	if (!grown)
		return false;
	p->blobs = grown;
	struct plan_blob *b = &grown[p->blob_count];
	b->digest = strdup(digest);
	b->repo = strdup(repo);
	b->size = size;
	b->status = BLOB_PENDING;
	if (!b->digest || !b->repo) {
		free(b->digest);
		free(b->repo);
		return false;
	}
	*slot = ++p->blob_count;
	return image_push_blob(img, p->blob_count - 1);
}

bool plan_merge_image(struct plan *p, const struct plan *from, const struct plan_image *img)
{
	struct plan_image *into = plan_add_image(p, img->repo, img->ref);
	bool ok = into != NULL;
	for (size_t i = 0; ok && i < img->manifest_count; i++)
		ok = plan_image_add_manifest(into, img->manifests[i]);
	for (size_t i = 0; ok && i < img->blob_count; i++) {
		const struct plan_blob *b = &from->blobs[img->blobs[i]];
		ok = plan_image_add_blob(p, into, b->digest, b->size, b->repo);
	}
	/* Blobs added before a failure stay, unreferenced: copying them is
	 * harmless, and no image is recorded from them. */
	if (!ok && into)
		plan_drop_last_image(p);
	return ok;
}

bool plan_image_complete(const struct plan *p, const struct plan_image *img)
{
	if (img->manifest_count == 0)
		return false;
	for (size_t i = 0; i < img->blob_count; i++) {
		enum blob_status s = p->blobs[img->blobs[i]].status;
		if (s != BLOB_COPIED && s != BLOB_PRESENT)
			return false;
	}
	return true;
}

uint64_t plan_total_bytes(const struct plan *p)
{
	uint64_t total = 0;
	for (size_t i = 0; i < p->blob_count; i++)
		total += p->blobs[i].size > 0 ? (uint64_t)p->blobs[i].size : 0;
	return total;
}
