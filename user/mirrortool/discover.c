#include "discover.h"
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

static bool walk(struct discover_ctx *ctx, struct plan_image *img, const char *repo,
		 const char *ref, int depth, char *err, size_t errlen);

/* Adds the blobs of the fetched manifest fm (and of its children) to img. */
static bool walk_fetched(struct discover_ctx *ctx, struct plan_image *img, const char *repo,
			 const struct fetched_manifest *fm, int depth, char *err, size_t errlen)
{
	struct manifest m;
	bool ok = manifest_parse(fm->body, fm->len, fm->content_type, &m, err, errlen);
	if (ok && !plan_image_add_manifest(img, fm->digest)) {
		snprintf(err, errlen, "out of memory");
		ok = false;
	}
	for (size_t i = 0; ok && i < m.blob_count; i++) {
		if (!plan_image_add_blob(ctx->plan, img, m.blobs[i].digest, m.blobs[i].size,
					 repo)) {
			snprintf(err, errlen, "out of memory");
			ok = false;
		}
	}
	for (size_t i = 0; ok && i < m.child_count; i++) {
		const char *child = m.children[i].digest;
		/* A child recorded by an earlier run needs no walking. */
		if (mirror_state_has(ctx->state, child)) {
			if (!plan_image_add_manifest(img, child)) {
				snprintf(err, errlen, "out of memory");
				ok = false;
			}
			continue;
		}
		if (depth + 1 >= DISCOVER_MAX_DEPTH) {
			snprintf(err, errlen, "%s: index nesting deeper than %d", child,
				 DISCOVER_MAX_DEPTH);
			ok = false;
		} else {
			ok = walk(ctx, img, repo, child, depth + 1, err, errlen);
		}
	}
	manifest_free(&m);
	return ok;
}

static bool walk(struct discover_ctx *ctx, struct plan_image *img, const char *repo,
		 const char *ref, int depth, char *err, size_t errlen)
{
	struct fetched_manifest fm;
	if (!registry_manifest(ctx->registry, ctx->easy, repo, ref, &fm, err, errlen))
		return false;
	bool ok = walk_fetched(ctx, img, repo, &fm, depth, err, errlen);
	fetched_manifest_free(&fm);
	return ok;
}

static void discover_ref(struct discover_ctx *ctx, const char *repo, const char *ref)
{
	char err[1024] = "";
	/* A digest reference that is recorded needs no request at all. */
	if (strchr(ref, ':') && mirror_state_has(ctx->state, ref)) {
		ctx->plan->images_skipped++;
		if (ctx->notes)
			fprintf(ctx->notes, "skip %s@%s (recorded)\n", repo, ref);
		return;
	}
	struct fetched_manifest top;
	if (!registry_manifest(ctx->registry, ctx->easy, repo, ref, &top, err, sizeof(err))) {
		failures_add(ctx->failures, FAILURE_IMAGE, "%s:%s: %s", repo, ref, err);
		return;
	}
	bool recorded = mirror_state_has(ctx->state, top.digest);
	if (recorded) {
		ctx->plan->images_skipped++;
		if (ctx->notes)
			fprintf(ctx->notes, "skip %s:%s %s (recorded)\n", repo, ref, top.digest);
	}
	struct plan_image *img = recorded ? NULL : plan_add_image(ctx->plan, repo, ref);
	if (!recorded && !img)
		failures_add(ctx->failures, FAILURE_IMAGE, "%s:%s: out of memory", repo, ref);
	if (img && !walk_fetched(ctx, img, repo, &top, 0, err, sizeof(err))) {
		failures_add(ctx->failures, FAILURE_IMAGE, "%s:%s: %s", repo, ref, err);
		plan_drop_last_image(ctx->plan);
	}
	fetched_manifest_free(&top);
}

void discover_repo(struct discover_ctx *ctx, const char *repo, char *const *refs, size_t ref_count)
{
	char err[1024] = "";
	char **tags = NULL;
	size_t tag_count = 0;
	if (ref_count == 0) {
		if (!registry_tags(ctx->registry, ctx->easy, repo, &tags, &tag_count, err,
				   sizeof(err))) {
			failures_add(ctx->failures, FAILURE_LISTING, "%s: listing tags: %s", repo,
				     err);
			return;
		}
		refs = tags;
		ref_count = tag_count;
	}
	for (size_t i = 0; i < ref_count; i++)
		discover_ref(ctx, repo, refs[i]);
	registry_free_list(tags, tag_count);
}
