#include "copy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The download's sink: verifies and fans out every chunk. */
struct tee {
	struct copy_target *targets;
	struct dest_writer **writers; /* NULL once dropped */
	size_t count;
	size_t live;
	struct digest_verifier *verifier;
	struct progress *progress;
	int64_t written;
	int64_t limit; /* stop a source that sends more than the manifest said */
	bool over_limit;
};

static void drop(struct tee *t, size_t i)
{
	dest_writer_abort(t->writers[i]);
	t->writers[i] = NULL;
	t->live--;
}

static bool tee_write(void *arg, const char *data, size_t len)
{
	struct tee *t = arg;
	if (t->limit >= 0 && t->written + (int64_t)len > t->limit) {
		t->over_limit = true;
		return false;
	}
	for (size_t i = 0; i < t->count; i++)
		if (t->writers[i] && !dest_writer_write(t->writers[i], data, len, t->targets[i].err,
							sizeof(t->targets[i].err)))
			drop(t, i);
	t->written += (int64_t)len;
	progress_add_bytes(t->progress, (int64_t)len);
	/* With every destination gone there is nothing to read for. */
	return t->live > 0 && digest_verifier_update(t->verifier, data, len);
}

static bool tee_reset(void *arg)
{
	struct tee *t = arg;
	progress_add_bytes(t->progress, -t->written);
	t->written = 0;
	t->over_limit = false;
	for (size_t i = 0; i < t->count; i++)
		if (t->writers[i] &&
		    !dest_writer_reset(t->writers[i], t->targets[i].err, sizeof(t->targets[i].err)))
			drop(t, i);
	return t->live > 0 && digest_verifier_reset(t->verifier);
}

static bool download(struct registry *r, struct tee *t, CURL *easy, const char *repo,
		     const struct digest_ref *ref, unsigned char sha256[DIGEST_SHA256_LEN],
		     char *err, size_t errlen)
{
	struct http_sink sink = {tee_write, tee_reset, t};
	if (!registry_blob(r, easy, repo, ref->text, &sink, err, errlen)) {
		if (t->over_limit)
			snprintf(err, errlen,
				 "source sent more than the %lld bytes the manifest "
				 "declares",
				 (long long)t->limit);
		return false;
	}
	char actual[DIGEST_TEXT_MAX];
	if (!digest_verifier_finish(t->verifier, actual, sha256)) {
		snprintf(err, errlen, "digest mismatch: content is %s (%lld bytes), not stored",
			 actual, (long long)t->written);
		return false;
	}
	if (t->limit >= 0 && t->written != t->limit) {
		snprintf(err, errlen, "size mismatch: got %lld bytes, manifest says %lld",
			 (long long)t->written, (long long)t->limit);
		return false;
	}
	return true;
}

static bool open_writers(struct tee *t, const char *digest, int64_t expected_size)
{
	for (size_t i = 0; i < t->count; i++) {
		t->targets[i].ok = false;
		t->targets[i].err[0] = '\0';
		t->writers[i] = dest_writer_open(t->targets[i].dest, digest, expected_size,
						 t->targets[i].err, sizeof(t->targets[i].err));
		t->live += t->writers[i] != NULL;
	}
	return t->live > 0;
}

/* After the source delivered a verified blob: publish it everywhere. */
static void commit_all(struct tee *t, const unsigned char sha256[DIGEST_SHA256_LEN])
{
	for (size_t i = 0; i < t->count; i++) {
		if (!t->writers[i])
			continue;
		t->targets[i].ok = dest_writer_commit(t->writers[i], t->written, sha256,
						      t->targets[i].err, sizeof(t->targets[i].err));
		t->writers[i] = NULL;
	}
}

bool copy_blob(struct registry *r, CURL *easy, struct progress *progress, const char *repo,
	       const char *digest, int64_t expected_size, struct copy_target *targets,
	       size_t target_count, char *err, size_t errlen)
{
	struct digest_ref ref;
	if (!digest_parse(digest, &ref)) {
		snprintf(err, errlen, "unsupported digest %s", digest);
		return false;
	}
	struct tee t = {.targets = targets,
			.writers = calloc(target_count ? target_count : 1, sizeof(*t.writers)),
			.count = target_count,
			.verifier = digest_verifier_new(&ref),
			.progress = progress,
			.limit = expected_size};
	bool source_ok = true;
	if (!t.writers || !t.verifier) {
		snprintf(err, errlen, "out of memory");
		source_ok = false;
	} else if (open_writers(&t, digest, expected_size)) {
		unsigned char sha256[DIGEST_SHA256_LEN];
		/* Every writer dropped mid-way is the destinations' failure. */
		source_ok = download(r, &t, easy, repo, &ref, sha256, err, errlen) || t.live == 0;
		if (source_ok && t.live)
			commit_all(&t, sha256);
	}
	for (size_t i = 0; i < target_count && t.writers; i++)
		if (t.writers[i])
			drop(&t, i);
	bool any = false;
	for (size_t i = 0; i < target_count; i++)
		any = any || targets[i].ok;
	if (!any)
		progress_add_bytes(progress, -t.written);
	digest_verifier_free(t.verifier);
	free(t.writers);
	return source_ok;
}
