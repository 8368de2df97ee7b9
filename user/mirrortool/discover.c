#include "discover.h"
#include "interrupt.h"
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

/* One reference being walked by one thread: into a plan of its own, merged
 * into the shared one at the end, so threads only meet at the merge. */
struct walker {
	const struct discover_ctx *ctx;
	CURL *easy;
	struct plan local;
};

static bool walk(struct walker *w, struct plan_image *img, const char *repo, const char *ref,
		 int depth, char *err, size_t errlen);

static bool is_recorded(const struct discover_ctx *ctx, const char *digest)
{
	return !ctx->ignore_records && mirror_state_has(ctx->state, digest);
}

/* Walks the children of an index into img. */
static bool walk_children(struct walker *w, struct plan_image *img, const char *repo,
			  const struct manifest *m, int depth, char *err, size_t errlen)
{
	bool ok = true;
	for (size_t i = 0; ok && i < m->child_count; i++) {
		const char *child = m->children[i].digest;
		/* A child recorded by an earlier run needs no walking. */
		if (is_recorded(w->ctx, child)) {
			ok = plan_image_add_manifest(img, child);
			if (!ok)
				snprintf(err, errlen, "out of memory");
		} else if (depth + 1 >= DISCOVER_MAX_DEPTH) {
			snprintf(err, errlen, "%s: index nesting deeper than %d", child,
				 DISCOVER_MAX_DEPTH);
			ok = false;
		} else {
			ok = walk(w, img, repo, child, depth + 1, err, errlen);
		}
	}
	return ok;
}

/* Adds the blobs of the fetched manifest fm (and of its children) to img. */
static bool walk_fetched(struct walker *w, struct plan_image *img, const char *repo,
			 const struct fetched_manifest *fm, int depth, char *err, size_t errlen)
{
	struct manifest m;
	if (!manifest_parse(fm->body, fm->len, fm->content_type, &m, err, errlen))
		return false;
	bool ok = plan_image_add_manifest(img, fm->digest);
	for (size_t i = 0; ok && i < m.blob_count; i++)
		ok = plan_image_add_blob(&w->local, img, m.blobs[i].digest, m.blobs[i].size, repo);
	if (!ok)
		snprintf(err, errlen, "out of memory");
	ok = ok && walk_children(w, img, repo, &m, depth, err, errlen);
	manifest_free(&m);
	return ok;
}

static bool walk(struct walker *w, struct plan_image *img, const char *repo, const char *ref,
		 int depth, char *err, size_t errlen)
{
	struct fetched_manifest fm;
	if (!registry_manifest(w->ctx->registry, w->easy, repo, ref, &fm, err, errlen))
		return false;
	bool ok = walk_fetched(w, img, repo, &fm, depth, err, errlen);
	fetched_manifest_free(&fm);
	return ok;
}

static void note_skip(const struct discover_ctx *ctx, const char *repo, const char *ref,
		      const char *digest)
{
	pthread_mutex_lock(ctx->plan_lock);
	ctx->plan->images_skipped++;
	if (ctx->notes && digest)
		fprintf(ctx->notes, "skip %s:%s %s (recorded)\n", repo, ref, digest);
	else if (ctx->notes)
		fprintf(ctx->notes, "skip %s@%s (recorded)\n", repo, ref);
	pthread_mutex_unlock(ctx->plan_lock);
}

/* Walks the image top points to into w->local, then merges it into the
 * shared plan. */
static void walk_image(struct walker *w, const char *repo, const char *ref,
		       const struct fetched_manifest *top)
{
	const struct discover_ctx *ctx = w->ctx;
	char err[1024] = "";
	struct plan_image *img = plan_add_image(&w->local, repo, ref);
	bool ok = img != NULL;
	if (!ok)
		snprintf(err, sizeof(err), "out of memory");
	ok = ok && walk_fetched(w, img, repo, top, 0, err, sizeof(err));
	if (ok) {
		pthread_mutex_lock(ctx->plan_lock);
		ok = plan_merge_image(ctx->plan, &w->local, img);
		pthread_mutex_unlock(ctx->plan_lock);
		if (!ok)
			snprintf(err, sizeof(err), "out of memory");
	}
	if (!ok)
		failures_add(ctx->failures, FAILURE_IMAGE, "%s:%s: %s", repo, ref, err);
}

static void discover_one(struct walker *w, const char *repo, const char *ref)
{
	const struct discover_ctx *ctx = w->ctx;
	char err[1024] = "";
	/* A digest reference that is recorded needs no request at all. */
	if (strchr(ref, ':') && is_recorded(ctx, ref)) {
		note_skip(ctx, repo, ref, NULL);
		return;
	}
	struct fetched_manifest top;
	if (!registry_manifest(ctx->registry, w->easy, repo, ref, &top, err, sizeof(err))) {
		failures_add(ctx->failures, FAILURE_IMAGE, "%s:%s: %s", repo, ref, err);
		return;
	}
	if (is_recorded(ctx, top.digest))
		note_skip(ctx, repo, ref, top.digest);
	else
		walk_image(w, repo, ref, &top);
	fetched_manifest_free(&top);
}

static bool ref_list_add(struct ref_list *list, const char *repo, const char *ref)
{
	struct discover_ref *grown = realloc(list->items, (list->count + 1) * sizeof(*grown));
	if (!grown)
		return false;
	list->items = grown;
	grown[list->count].repo = strdup(repo);
	grown[list->count].ref = strdup(ref);
	if (!grown[list->count].repo || !grown[list->count].ref) {
		free(grown[list->count].repo);
		free(grown[list->count].ref);
		return false;
	}
	list->count++;
	return true;
}

void ref_list_free(struct ref_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].repo);
		free(list->items[i].ref);
	}
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

bool discover_list_refs(struct discover_ctx *ctx, CURL *easy, const char *repo, char *const *refs,
			size_t ref_count, struct ref_list *out)
{
	char err[1024] = "";
	char **tags = NULL;
	size_t tag_count = 0;
	if (ref_count == 0) {
		if (!registry_tags(ctx->registry, easy, repo, &tags, &tag_count, err,
				   sizeof(err))) {
			failures_add(ctx->failures, FAILURE_LISTING, "%s: listing tags: %s", repo,
				     err);
			return true;
		}
		refs = tags;
		ref_count = tag_count;
	}
	bool ok = true;
	for (size_t i = 0; ok && i < ref_count; i++)
		ok = ref_list_add(out, repo, refs[i]);
	registry_free_list(tags, tag_count);
	return ok;
}

/* The threads of discover_refs share the list and its cursor. */
struct discover_pool {
	const struct discover_ctx *ctx;
	const struct ref_list *list;
	pthread_mutex_t lock; /* guards next */
	size_t next;
};

static void *discover_worker(void *arg)
{
	struct discover_pool *pool = arg;
	struct walker w = {.ctx = pool->ctx, .easy = curl_easy_init()};
	if (!w.easy) {
		failures_add(pool->ctx->failures, FAILURE_SETUP, "cannot create an HTTP handle");
		return NULL;
	}
	/* After SIGINT/SIGTERM no new reference is started. */
	while (!interrupt_pending()) {
		pthread_mutex_lock(&pool->lock);
		size_t i = pool->next < pool->list->count ? pool->next++ : SIZE_MAX;
		pthread_mutex_unlock(&pool->lock);
		if (i == SIZE_MAX)
			break;
		plan_init(&w.local);
		discover_one(&w, pool->list->items[i].repo, pool->list->items[i].ref);
		plan_free(&w.local);
	}
	curl_easy_cleanup(w.easy);
	return NULL;
}

void discover_refs(struct discover_ctx *ctx, const struct ref_list *list, unsigned concurrency)
{
	struct discover_pool pool = {.ctx = ctx, .list = list};
	pthread_mutex_init(&pool.lock, NULL);
	size_t n = concurrency ? concurrency : 1;
	if (n > list->count)
		n = list->count;
	pthread_t *threads = calloc(n ? n : 1, sizeof(*threads));
	size_t started = 0;
	for (size_t i = 0; threads && i < n; i++)
		if (pthread_create(&threads[started], NULL, discover_worker, &pool) == 0)
			started++;
	/* References no thread could take are walked here. */
	if (started == 0)
		discover_worker(&pool);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	pthread_mutex_destroy(&pool.lock);
}
