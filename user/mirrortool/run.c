#include "archeio/mirrortool/run.h"
#include "auth_file.h"
#include "copy.h"
#include "dest.h"
#include "discover.h"
#include "failures.h"
#include "plan.h"
#include "progress.h"
#include "registry.h"
#include "state.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct run {
	const struct mirror_options *o;
	FILE *out;
	struct registry *registry;
	struct dest *dest;
	struct plan plan;
	struct progress progress;
	struct failures failures;
	pthread_mutex_t next_lock; /* guards next, writes to out and (in discovery) plan */
	size_t next;
	atomic_bool stop_ticker;
};

static void finish_blob(struct run *r, struct plan_blob *b, enum blob_status status)
{
	pthread_mutex_lock(&r->progress.lock);
	b->status = status;
	struct progress_counts *c = &r->progress.counts;
	if (status == BLOB_COPIED)
		c->blobs_copied++;
	else if (status == BLOB_PRESENT) {
		c->blobs_skipped++;
		c->bytes_present += b->size > 0 ? (uint64_t)b->size : 0;
	} else if (status == BLOB_WOULD_COPY)
		c->blobs_would_copy++;
	else
		c->blobs_failed++;
	pthread_mutex_unlock(&r->progress.lock);
}

static void handle_blob(struct run *r, CURL *easy, struct plan_blob *b)
{
	char err[1024] = "";
	bool present = false;
	if (!dest_has_blob(r->dest, easy, b->digest, &present, err, sizeof(err))) {
		failures_add(&r->failures, FAILURE_BLOB, "%s@%s: checking destination: %s", b->repo,
			     b->digest, err);
		finish_blob(r, b, BLOB_FAILED);
	} else if (present) {
		finish_blob(r, b, BLOB_PRESENT);
	} else if (r->o->dry_run) {
		char where[4096];
		dest_describe(r->dest, b->digest, where, sizeof(where));
		pthread_mutex_lock(&r->next_lock);
		fprintf(r->out, "would copy %s@%s (%lld bytes) to %s\n", b->repo, b->digest,
			(long long)b->size, where);
		pthread_mutex_unlock(&r->next_lock);
		finish_blob(r, b, BLOB_WOULD_COPY);
	} else if (copy_blob(r->registry, r->dest, easy, &r->progress, b->repo, b->digest, b->size,
			     err, sizeof(err))) {
		finish_blob(r, b, BLOB_COPIED);
	} else {
		failures_add(&r->failures, FAILURE_BLOB, "%s@%s: %s", b->repo, b->digest, err);
		finish_blob(r, b, BLOB_FAILED);
	}
}

/* One line per repaired blob, between redraws of the live line. */
static void report_repair(struct run *r, const struct plan_blob *b, enum dest_blob_state was,
			  const char *verb)
{
	char where[4096];
	dest_describe(r->dest, b->digest, where, sizeof(where));
	pthread_mutex_lock(&r->progress.lock);
	if (r->progress.live)
		fprintf(r->progress.out, "\r\033[K");
	fprintf(r->progress.out, "%s %s@%s (%s) at %s\n", verb, b->repo, b->digest,
		dest_blob_state_name(was), where);
	if (strcmp(verb, "repaired") == 0)
		r->progress.counts.blobs_repaired++;
	pthread_mutex_unlock(&r->progress.lock);
}

/* --verify: a blob that is intact is present; one missing or damaged is
 * copied again from the source, and the repair reported. */
static void verify_blob(struct run *r, CURL *easy, struct plan_blob *b)
{
	char err[1024] = "";
	enum dest_blob_state state;
	bool deep = r->o->verify == MIRROR_VERIFY_DIGEST;
	if (!dest_check_blob(r->dest, easy, b->digest, b->size, deep, &state, err, sizeof(err))) {
		failures_add(&r->failures, FAILURE_BLOB, "%s@%s: checking destination: %s", b->repo,
			     b->digest, err);
		finish_blob(r, b, BLOB_FAILED);
	} else if (state == DEST_BLOB_INTACT) {
		finish_blob(r, b, BLOB_PRESENT);
	} else if (r->o->dry_run) {
		report_repair(r, b, state, "would repair");
		finish_blob(r, b, BLOB_WOULD_COPY);
	} else if (copy_blob(r->registry, r->dest, easy, &r->progress, b->repo, b->digest, b->size,
			     err, sizeof(err))) {
		report_repair(r, b, state, "repaired");
		finish_blob(r, b, BLOB_COPIED);
	} else {
		failures_add(&r->failures, FAILURE_BLOB, "%s@%s: repairing (%s): %s", b->repo,
			     b->digest, dest_blob_state_name(state), err);
		finish_blob(r, b, BLOB_FAILED);
	}
}

static void *worker(void *arg)
{
	struct run *r = arg;
	CURL *easy = curl_easy_init();
	if (!easy) {
		failures_add(&r->failures, FAILURE_SETUP, "cannot create an HTTP handle");
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&r->next_lock);
		size_t i = r->next < r->plan.blob_count ? r->next++ : SIZE_MAX;
		pthread_mutex_unlock(&r->next_lock);
		if (i == SIZE_MAX)
			break;
		if (r->o->verify != MIRROR_VERIFY_OFF)
			verify_blob(r, easy, &r->plan.blobs[i]);
		else
			handle_blob(r, easy, &r->plan.blobs[i]);
	}
	curl_easy_cleanup(easy);
	return NULL;
}

static void *ticker(void *arg)
{
	struct run *r = arg;
	const struct timespec interval = {.tv_sec = 0, .tv_nsec = 250 * 1000 * 1000};
	while (!atomic_load(&r->stop_ticker)) {
		progress_draw(&r->progress);
		nanosleep(&interval, NULL);
	}
	return NULL;
}

/* Runs the workers over every planned blob. Blobs whose worker could not be
 * started are taken by the others (or by this thread when none started). */
static void copy_all(struct run *r)
{
	size_t n = r->o->concurrency;
	if (n > r->plan.blob_count)
		n = r->plan.blob_count;
	pthread_t *threads = calloc(n ? n : 1, sizeof(*threads));
	size_t started = 0;
	pthread_t tick;
	bool ticking = r->progress.live && pthread_create(&tick, NULL, ticker, r) == 0;
	for (size_t i = 0; threads && i < n; i++)
		if (pthread_create(&threads[started], NULL, worker, r) == 0)
			started++;
	if (started == 0)
		worker(r);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
	if (ticking) {
		atomic_store(&r->stop_ticker, true);
		pthread_join(tick, NULL);
	}
}

static void record_images(struct run *r, const struct mirror_state *state)
{
	for (size_t i = 0; i < r->plan.image_count; i++) {
		const struct plan_image *img = &r->plan.images[i];
		if (!plan_image_complete(&r->plan, img))
			continue;
		char note[1024], err[1024];
		snprintf(note, sizeof(note), "%s:%s", img->repo, img->ref);
		/* Children first: a recorded top manifest implies its children. */
		for (size_t m = img->manifest_count; m-- > 0;)
			if (!mirror_state_record(state, img->manifests[m], note, err, sizeof(err)))
				failures_add(&r->failures, FAILURE_RECORD, "%s: %s", note, err);
	}
}

/* Gathers every reference (the given repositories', then the catalog's),
 * then walks them concurrently. */
static void discover_all(struct run *r, CURL *easy, const struct mirror_state *state)
{
	struct discover_ctx ctx = {.registry = r->registry,
				   .state = state,
				   .ignore_records = r->o->verify != MIRROR_VERIFY_OFF,
				   .plan = &r->plan,
				   .plan_lock = &r->next_lock,
				   .failures = &r->failures,
				   .notes = r->o->dry_run ? r->out : NULL};
	struct ref_list refs = {0};
	bool ok = true;
	for (size_t i = 0; ok && i < r->o->repo_count; i++)
		ok = discover_list_refs(&ctx, easy, r->o->repos[i], r->o->refs, r->o->ref_count,
					&refs);
	char err[1024];
	char **repos = NULL;
	size_t count = 0;
	if (ok && r->o->catalog &&
	    !registry_catalog(r->registry, easy, &repos, &count, err, sizeof(err)))
		failures_add(&r->failures, FAILURE_LISTING, "_catalog: %s", err);
	for (size_t i = 0; ok && i < count; i++) {
		bool given = false;
		for (size_t j = 0; j < r->o->repo_count && !given; j++)
			given = strcmp(r->o->repos[j], repos[i]) == 0;
		if (!given)
			ok = discover_list_refs(&ctx, easy, repos[i], r->o->refs, r->o->ref_count,
						&refs);
	}
	registry_free_list(repos, count);
	if (!ok)
		failures_add(&r->failures, FAILURE_SETUP, "out of memory listing references");
	discover_refs(&ctx, &refs, r->o->concurrency);
	ref_list_free(&refs);
}

/* Opens the destination; *staging_tmp is set when a temp staging directory
 * was made (removed at the end). Returns NULL with a message on failure. */
static struct dest *open_dest(const struct mirror_options *o, struct http_client *s3_http,
			      char **staging_tmp, char *err, size_t errlen)
{
	*staging_tmp = NULL;
	if (o->dest_kind == MIRROR_DEST_DIR)
		return dest_dir_open(o->dest_dir, o->dry_run, err, errlen);
	struct s3_config cfg = {.bucket = o->s3_bucket,
				.prefix = o->s3_prefix,
				.endpoint = o->s3_endpoint,
				.region = o->s3_region ? o->s3_region : "us-east-1",
				.access_key = getenv("AWS_ACCESS_KEY_ID"),
				.secret_key = getenv("AWS_SECRET_ACCESS_KEY"),
				.session_token = getenv("AWS_SESSION_TOKEN")};
	if (!cfg.access_key || !*cfg.access_key || !cfg.secret_key || !*cfg.secret_key) {
		snprintf(err, errlen,
			 "S3 destination needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
		return NULL;
	}
	if (cfg.session_token && !*cfg.session_token)
		cfg.session_token = NULL;
	char staging[4096];
	const char *tmp = getenv("TMPDIR");
	if (o->state_dir) {
		snprintf(staging, sizeof(staging), "%s/staging", o->state_dir);
	} else if (o->dry_run) {
		snprintf(staging, sizeof(staging), "%s", tmp && *tmp ? tmp : "/tmp");
	} else {
		snprintf(staging, sizeof(staging), "%s/archeio-mirror-XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(staging)) {
			snprintf(err, errlen, "cannot create a staging directory %.900s: %s",
				 staging, strerror(errno));
			return NULL;
		}
		*staging_tmp = strdup(staging);
	}
	return dest_s3_open(&cfg, s3_http, staging, o->dry_run, err, errlen);
}

static char *default_state_dir(const struct mirror_options *o)
{
	if (o->state_dir)
		return strdup(o->state_dir);
	if (o->dest_kind != MIRROR_DEST_DIR)
		return NULL;
	size_t len = strlen(o->dest_dir) + sizeof("/.archeio-mirror");
	char *dir = malloc(len);
	if (dir)
		snprintf(dir, len, "%s/.archeio-mirror", o->dest_dir);
	return dir;
}

/* The summary counts failures besides blobs from the failure list itself, so
 * the two cannot disagree. Blob failures are counted as each blob finishes. */
static void count_other_failures(struct run *r)
{
	size_t by_kind[FAILURE_KINDS];
	failures_by_kind(&r->failures, by_kind);
	pthread_mutex_lock(&r->progress.lock);
	struct progress_counts *c = &r->progress.counts;
	c->images_failed = by_kind[FAILURE_IMAGE];
	c->listings_failed = by_kind[FAILURE_LISTING];
	c->records_failed = by_kind[FAILURE_RECORD];
	c->setup_failed = by_kind[FAILURE_SETUP];
	pthread_mutex_unlock(&r->progress.lock);
}

static int run_with(struct run *r, struct mirror_state *state, FILE *log)
{
	CURL *easy = curl_easy_init();
	char err[1024];
	if (!easy) {
		fprintf(log, "archeio-mirror: cannot create an HTTP handle\n");
		return MIRROR_EXIT_FAILED;
	}
	if (!registry_ping(r->registry, easy, err, sizeof(err))) {
		fprintf(log, "archeio-mirror: source %s: %s\n", r->o->from, err);
		curl_easy_cleanup(easy);
		return MIRROR_EXIT_FAILED;
	}
	discover_all(r, easy, state);
	curl_easy_cleanup(easy);
	pthread_mutex_lock(&r->progress.lock);
	r->progress.counts.blobs_total = r->plan.blob_count;
	r->progress.counts.bytes_total = plan_total_bytes(&r->plan);
	r->progress.counts.images_skipped = r->plan.images_skipped;
	pthread_mutex_unlock(&r->progress.lock);
	count_other_failures(r);
	copy_all(r);
	if (!r->o->dry_run)
		record_images(r, state);
	count_other_failures(r);
	progress_finish(&r->progress, r->o->dry_run ? "dry run, nothing written: " : "");
	failures_print(&r->failures, log);
	return failures_count(&r->failures) ? MIRROR_EXIT_FAILED : MIRROR_EXIT_OK;
}

/* Reads the auth file (--auth-file, else $REGISTRY_AUTH_FILE as skopeo
 * does) and gives the registry the source's credentials, when it lists
 * them. False with a message (naming the file, never a secret). */
static bool load_credentials(const struct mirror_options *o, struct registry *registry, char *err,
			     size_t errlen)
{
	const char *env = getenv("REGISTRY_AUTH_FILE");
	const char *path = o->auth_file ? o->auth_file : env && *env ? env : NULL;
	if (!path)
		return true;
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0;
	if (f) {
		text = malloc(1024 * 1024);
		len = text ? fread(text, 1, 1024 * 1024, f) : 0;
		fclose(f);
	}
	if (!text) {
		snprintf(err, errlen, "auth file %.900s: %s", path,
			 f ? "out of memory" : strerror(errno));
		return false;
	}
	struct registry_credentials creds;
	bool found = false;
	char why[512] = "";
	bool ok =
	    auth_file_lookup(text, len, registry_host(registry), &creds, &found, why, sizeof(why));
	memset(text, 0, len);
	free(text);
	if (!ok)
		snprintf(err, errlen, "auth file %.900s: %s", path, why);
	else if (found && !registry_set_credentials(registry, &creds)) {
		snprintf(err, errlen, "out of memory");
		ok = false;
	}
	registry_credentials_free(&creds);
	return ok;
}

int mirror_run(const struct mirror_options *o, FILE *out, FILE *log)
{
	struct http_client source_http, s3_http;
	http_client_init(&source_http, o->rps, o->retries);
	source_http.ca_file = o->ca_file;
	http_client_init(&s3_http, 0, o->retries);
	struct run r = {.o = o, .out = out};
	plan_init(&r.plan);
	progress_init(&r.progress, log, isatty(fileno(log)));
	failures_init(&r.failures);
	pthread_mutex_init(&r.next_lock, NULL);
	atomic_init(&r.stop_ticker, false);
	char err[1024];
	char *staging_tmp = NULL;
	char *state_dir = default_state_dir(o);
	struct mirror_state state = {0};
	int rc = MIRROR_EXIT_USAGE;
	r.registry = registry_new(o->from, &source_http);
	bool authed = r.registry && load_credentials(o, r.registry, err, sizeof(err));
	r.dest = authed ? open_dest(o, &s3_http, &staging_tmp, err, sizeof(err)) : NULL;
	if (!r.registry)
		fprintf(log, "archeio-mirror: out of memory\n");
	else if (!r.dest)
		fprintf(log, "archeio-mirror: %s\n", err);
	else if ((o->state_dir || o->dest_kind == MIRROR_DEST_DIR) && !state_dir)
		fprintf(log, "archeio-mirror: out of memory\n");
	else if (!mirror_state_open(&state, state_dir, !o->dry_run, err, sizeof(err)))
		fprintf(log, "archeio-mirror: state: %s\n", err);
	else
		rc = run_with(&r, &state, log);
	mirror_state_close(&state);
	dest_free(r.dest);
	if (staging_tmp)
		rmdir(staging_tmp);
	free(staging_tmp);
	free(state_dir);
	registry_free(r.registry);
	pthread_mutex_destroy(&r.next_lock);
	failures_destroy(&r.failures);
	progress_destroy(&r.progress);
	plan_free(&r.plan);
	http_client_destroy(&s3_http);
	http_client_destroy(&source_http);
	return rc;
}
