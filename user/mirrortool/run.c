#include "archeio/mirrortool/run.h"
#include "auth_file.h"
#include "copy.h"
#include "dest.h"
#include "discover.h"
#include "failures.h"
#include "interrupt.h"
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

/* One --to and what happened there; counters guarded by progress.lock. */
struct run_dest {
	struct dest *dest;
	const char *name; /* as given to --to */
	size_t copied, present, failed, would_copy;
};

struct run {
	const struct mirror_options *o;
	FILE *out;
	struct registry *registry;
	struct run_dest *dests;
	size_t dest_count;
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

/* The destinations that lack the blob become targets; a failed check
 * counts against that destination. *why collects the failures. */
static size_t find_targets(struct run *r, CURL *easy, const struct plan_blob *b,
			   struct copy_target *targets, size_t *target_dest, char *why,
			   size_t whylen)
{
	size_t n = 0, used = strlen(why);
	for (size_t i = 0; i < r->dest_count; i++) {
		char err[768] = "";
		bool present = false;
		struct run_dest *d = &r->dests[i];
		bool checked = dest_has_blob(d->dest, easy, b->digest, &present, err, sizeof(err));
		pthread_mutex_lock(&r->progress.lock);
		d->present += checked && present;
		d->failed += !checked;
		pthread_mutex_unlock(&r->progress.lock);
		if (!checked && used < whylen)
			used += (size_t)snprintf(why + used, whylen - used,
						 "%sto %s: checking destination: %s",
						 used ? "; " : "", d->name, err);
		if (checked && !present) {
			targets[n].dest = d->dest;
			target_dest[n++] = i;
		}
	}
	return n;
}

static void list_would_copy(struct run *r, const struct plan_blob *b, const size_t *target_dest,
			    size_t n)
{
	pthread_mutex_lock(&r->next_lock);
	for (size_t i = 0; i < n; i++) {
		char where[4096];
		dest_describe(r->dests[target_dest[i]].dest, b->digest, where, sizeof(where));
		fprintf(r->out, "would copy %s@%s (%lld bytes) to %s\n", b->repo, b->digest,
			(long long)b->size, where);
	}
	pthread_mutex_unlock(&r->next_lock);
	pthread_mutex_lock(&r->progress.lock);
	for (size_t i = 0; i < n; i++)
		r->dests[target_dest[i]].would_copy++;
	pthread_mutex_unlock(&r->progress.lock);
}

/* Files each target's outcome; returns how many failed. */
static size_t file_outcomes(struct run *r, const struct copy_target *targets,
			    const size_t *target_dest, size_t n, bool source_ok, char *why,
			    size_t whylen)
{
	size_t failed = 0, used = strlen(why);
	pthread_mutex_lock(&r->progress.lock);
	for (size_t i = 0; i < n; i++) {
		struct run_dest *d = &r->dests[target_dest[i]];
		/* A source failure is no destination's. */
		bool dest_failed = source_ok && !targets[i].ok;
		d->copied += targets[i].ok;
		d->failed += dest_failed;
		failed += dest_failed;
		if (source_ok && !targets[i].ok && used < whylen)
			used += (size_t)snprintf(why + used, whylen - used, "%sto %s: %s",
						 used ? "; " : "", d->name, targets[i].err);
	}
	pthread_mutex_unlock(&r->progress.lock);
	return failed;
}

/* One line per failed blob, whichever destinations it failed in, so the
 * summary's count and the list agree. */
static void handle_blob(struct run *r, CURL *easy, struct plan_blob *b)
{
	char why[2048] = "";
	struct copy_target *targets = calloc(r->dest_count, sizeof(*targets));
	size_t *target_dest = calloc(r->dest_count, sizeof(*target_dest));
	if (!targets || !target_dest) {
		free(targets);
		free(target_dest);
		failures_add(&r->failures, FAILURE_BLOB, "%s@%s: out of memory", b->repo,
			     b->digest);
		finish_blob(r, b, BLOB_FAILED);
		return;
	}
	size_t n = find_targets(r, easy, b, targets, target_dest, why, sizeof(why));
	bool checks_failed = why[0] != '\0';
	enum blob_status status = checks_failed ? BLOB_FAILED : BLOB_PRESENT;
	if (n && r->o->dry_run) {
		list_would_copy(r, b, target_dest, n);
		status = checks_failed ? BLOB_FAILED : BLOB_WOULD_COPY;
	} else if (n) {
		char err[1024] = "";
		bool source_ok = copy_blob(r->registry, easy, &r->progress, b->repo, b->digest,
					   b->size, targets, n, err, sizeof(err));
		size_t failed =
		    file_outcomes(r, targets, target_dest, n, source_ok, why, sizeof(why));
		if (!source_ok)
			snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s",
				 checks_failed ? "; " : "", err);
		status = failed || checks_failed || !source_ok ? BLOB_FAILED : BLOB_COPIED;
	}
	if (status == BLOB_FAILED)
		failures_add(&r->failures, FAILURE_BLOB, "%s@%s: %s", b->repo, b->digest, why);
	free(targets);
	free(target_dest);
	finish_blob(r, b, status);
}

/* One line per repaired blob and destination, between redraws of the live
 * line. */
static void report_repair(struct run *r, const struct plan_blob *b, const struct dest *dest,
			  enum dest_blob_state was, const char *verb)
{
	char where[4096];
	dest_describe(dest, b->digest, where, sizeof(where));
	pthread_mutex_lock(&r->progress.lock);
	if (r->progress.live)
		fprintf(r->progress.out, "\r\033[K");
	fprintf(r->progress.out, "%s %s@%s (%s) at %s\n", verb, b->repo, b->digest,
		dest_blob_state_name(was), where);
	pthread_mutex_unlock(&r->progress.lock);
}

/* --verify's check in every destination: those where the blob is missing or
 * damaged become targets (their state in target_state); a failed check
 * counts against that destination. *why collects the failures. */
static size_t find_damaged(struct run *r, CURL *easy, const struct plan_blob *b,
			   struct copy_target *targets, size_t *target_dest,
			   enum dest_blob_state *target_state, char *why, size_t whylen)
{
	size_t n = 0, used = strlen(why);
	bool deep = r->o->verify == MIRROR_VERIFY_DIGEST;
	for (size_t i = 0; i < r->dest_count; i++) {
		char err[768] = "";
		enum dest_blob_state state = DEST_BLOB_ABSENT;
		struct run_dest *d = &r->dests[i];
		bool checked = dest_check_blob(d->dest, easy, b->digest, b->size, deep, &state, err,
					       sizeof(err));
		bool intact = checked && state == DEST_BLOB_INTACT;
		pthread_mutex_lock(&r->progress.lock);
		d->present += intact;
		d->failed += !checked;
		pthread_mutex_unlock(&r->progress.lock);
		if (!checked && used < whylen)
			used += (size_t)snprintf(why + used, whylen - used,
						 "%sto %s: checking destination: %s",
						 used ? "; " : "", d->name, err);
		if (checked && !intact) {
			targets[n].dest = d->dest;
			target_state[n] = state;
			target_dest[n++] = i;
		}
	}
	return n;
}

/* Copies b again from the source (one read, the fan-out's copy path) to the
 * n targets where it is missing or damaged; reports each repair. */
static enum blob_status repair(struct run *r, CURL *easy, const struct plan_blob *b,
			       struct copy_target *targets, const size_t *target_dest,
			       const enum dest_blob_state *target_state, size_t n, char *why,
			       size_t whylen)
{
	bool checks_failed = why[0] != '\0';
	char err[1024] = "";
	bool source_ok = copy_blob(r->registry, easy, &r->progress, b->repo, b->digest, b->size,
				   targets, n, err, sizeof(err));
	bool repaired = false;
	for (size_t i = 0; source_ok && i < n; i++) {
		if (targets[i].ok) {
			report_repair(r, b, targets[i].dest, target_state[i], "repaired");
			repaired = true;
			continue;
		}
		/* Name what the failed target was being repaired of. The error's
		 * end gives way to the prefix (a bounded precision, which also
		 * keeps gcc's -Wformat-truncation quiet at -O0 in coverage builds). */
		char was[sizeof(targets[i].err)];
		snprintf(was, sizeof(was), "repairing (%s): %.*s",
			 dest_blob_state_name(target_state[i]), (int)sizeof(was) - 64,
			 targets[i].err);
		snprintf(targets[i].err, sizeof(targets[i].err), "%s", was);
	}
	size_t failed = file_outcomes(r, targets, target_dest, n, source_ok, why, whylen);
	if (!source_ok)
		snprintf(why + strlen(why), whylen - strlen(why), "%srepairing: %s",
			 checks_failed ? "; " : "", err);
	pthread_mutex_lock(&r->progress.lock);
	r->progress.counts.blobs_repaired += repaired;
	pthread_mutex_unlock(&r->progress.lock);
	return failed || checks_failed || !source_ok ? BLOB_FAILED : BLOB_COPIED;
}

/* --verify: a blob intact in every destination is present; where it is
 * missing or damaged it is copied again from the source (one read, the
 * fan-out's copy path) to just those destinations, and each repair is
 * reported. */
static void verify_blob(struct run *r, CURL *easy, struct plan_blob *b)
{
	char why[2048] = "";
	struct copy_target *targets = calloc(r->dest_count, sizeof(*targets));
	size_t *target_dest = calloc(r->dest_count, sizeof(*target_dest));
	enum dest_blob_state *target_state = calloc(r->dest_count, sizeof(*target_state));
	if (!targets || !target_dest || !target_state) {
		free(targets);
		free(target_dest);
		free(target_state);
		failures_add(&r->failures, FAILURE_BLOB, "%s@%s: out of memory", b->repo,
			     b->digest);
		finish_blob(r, b, BLOB_FAILED);
		return;
	}
	size_t n = find_damaged(r, easy, b, targets, target_dest, target_state, why, sizeof(why));
	bool checks_failed = why[0] != '\0';
	enum blob_status status = checks_failed ? BLOB_FAILED : BLOB_PRESENT;
	if (n && r->o->dry_run) {
		for (size_t i = 0; i < n; i++)
			report_repair(r, b, targets[i].dest, target_state[i], "would repair");
		pthread_mutex_lock(&r->progress.lock);
		for (size_t i = 0; i < n; i++)
			r->dests[target_dest[i]].would_copy++;
		pthread_mutex_unlock(&r->progress.lock);
		status = checks_failed ? BLOB_FAILED : BLOB_WOULD_COPY;
	} else if (n) {
		status =
		    repair(r, easy, b, targets, target_dest, target_state, n, why, sizeof(why));
	}
	if (status == BLOB_FAILED)
		failures_add(&r->failures, FAILURE_BLOB, "%s@%s: %s", b->repo, b->digest, why);
	free(targets);
	free(target_dest);
	free(target_state);
	finish_blob(r, b, status);
}

static void *worker(void *arg)
{
	struct run *r = arg;
	CURL *easy = curl_easy_init();
	if (!easy) {
		failures_add(&r->failures, FAILURE_SETUP, "cannot create an HTTP handle");
		return NULL;
	}
	while (!interrupt_pending()) {
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

/* " | 1: 3+2 2: 1+2!1": per destination (numbered as the exit status
 * counts them) copied + present, and failed after a '!'. */
static void dest_progress(struct run *r, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	if (r->dest_count < 2)
		return;
	pthread_mutex_lock(&r->progress.lock);
	for (size_t i = 0; i < r->dest_count && o < len; i++) {
		const struct run_dest *d = &r->dests[i];
		o += (size_t)snprintf(buf + o, len - o, "%s%zu: %zu+%zu", i ? " " : " | ", i + 1,
				      d->copied, d->present);
		if (d->failed && o < len)
			o += (size_t)snprintf(buf + o, len - o, "!%zu", d->failed);
	}
	pthread_mutex_unlock(&r->progress.lock);
}

static void *ticker(void *arg)
{
	struct run *r = arg;
	const struct timespec interval = {.tv_sec = 0, .tv_nsec = 250 * 1000 * 1000};
	char suffix[256];
	while (!atomic_load(&r->stop_ticker)) {
		dest_progress(r, suffix, sizeof(suffix));
		progress_draw_with(&r->progress, suffix);
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
	for (size_t i = 0; ok && i < r->o->repo_count && !interrupt_pending(); i++)
		ok = discover_list_refs(&ctx, easy, r->o->repos[i], r->o->refs, r->o->ref_count,
					&refs);
	char err[1024];
	char **repos = NULL;
	size_t count = 0;
	if (ok && r->o->catalog &&
	    !registry_catalog(r->registry, easy, &repos, &count, err, sizeof(err)))
		failures_add(&r->failures, FAILURE_LISTING, "_catalog: %s", err);
	for (size_t i = 0; ok && i < count && !interrupt_pending(); i++) {
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

/* Opens one --to. S3 settings of the destination itself win over
 * --s3-endpoint and --s3-region. */
static struct dest *open_dest(const struct mirror_options *o, const struct mirror_dest *md,
			      struct http_client *s3_http, char *err, size_t errlen)
{
	if (md->kind == MIRROR_DEST_DIR)
		return dest_dir_open(md->dir, o->dry_run, err, errlen);
	const char *region = md->region ? md->region : o->s3_region;
	struct s3_config cfg = {.bucket = md->bucket,
				.prefix = md->prefix,
				.endpoint = md->endpoint ? md->endpoint : o->s3_endpoint,
				.region = region ? region : "us-east-1",
				.access_key = getenv("AWS_ACCESS_KEY_ID"),
				.secret_key = getenv("AWS_SECRET_ACCESS_KEY"),
				.session_token = getenv("AWS_SESSION_TOKEN"),
				.part_size = o->s3_part_size,
				.part_concurrency = o->s3_part_concurrency};
	if (!cfg.access_key || !*cfg.access_key || !cfg.secret_key || !*cfg.secret_key) {
		snprintf(err, errlen,
			 "S3 destination needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
		return NULL;
	}
	if (cfg.session_token && !*cfg.session_token)
		cfg.session_token = NULL;
	return dest_s3_open(&cfg, s3_http, err, errlen);
}

static bool open_dests(struct run *r, struct http_client *s3_http, FILE *log)
{
	r->dests = calloc(r->o->dest_count, sizeof(*r->dests));
	if (!r->dests) {
		fprintf(log, "archeio-mirror: out of memory\n");
		return false;
	}
	for (size_t i = 0; i < r->o->dest_count; i++, r->dest_count++) {
		char err[1024];
		struct run_dest *d = &r->dests[i];
		d->name = r->o->dests[i].text;
		d->dest = open_dest(r->o, &r->o->dests[i], s3_http, err, sizeof(err));
		if (!d->dest) {
			fprintf(log, "archeio-mirror: %s: %s\n", d->name, err);
			return false;
		}
	}
	return true;
}

/* Records live beside the copy only when there is one destination, a
 * directory: with several, a record would claim more than that place holds,
 * so they need --state-dir. */
static char *default_state_dir(const struct mirror_options *o)
{
	if (o->state_dir)
		return strdup(o->state_dir);
	if (o->dest_count != 1 || o->dests[0].kind != MIRROR_DEST_DIR)
		return NULL;
	size_t len = strlen(o->dests[0].dir) + sizeof("/.archeio-mirror");
	char *dir = malloc(len);
	if (dir)
		snprintf(dir, len, "%s/.archeio-mirror", o->dests[0].dir);
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

/* With several destinations, one line each after the run's summary. */
static void print_dest_summaries(struct run *r, FILE *log)
{
	pthread_mutex_lock(&r->progress.lock);
	for (size_t i = 0; i < r->dest_count; i++) {
		const struct run_dest *d = &r->dests[i];
		char would[48] = "";
		if (r->o->dry_run)
			snprintf(would, sizeof(would), ", %zu would copy", d->would_copy);
		fprintf(log, "  to %s: %zu copied, %zu present, %zu failed%s\n", d->name, d->copied,
			d->present, d->failed, would);
	}
	pthread_mutex_unlock(&r->progress.lock);
}

/* 128 + signal when interrupted; 64 + a bit per failed destination; 1 for
 * failures of the source alone. */
static int exit_status(struct run *r)
{
	if (interrupt_signal())
		return 128 + interrupt_signal();
	int mask = 0;
	pthread_mutex_lock(&r->progress.lock);
	for (size_t i = 0; i < r->dest_count; i++)
		if (r->dests[i].failed)
			mask |= 1 << (i < MIRROR_EXIT_DEST_BITS ? i : MIRROR_EXIT_DEST_BITS - 1);
	pthread_mutex_unlock(&r->progress.lock);
	if (mask)
		return MIRROR_EXIT_DEST_FAILED + mask;
	return failures_count(&r->failures) ? MIRROR_EXIT_FAILED : MIRROR_EXIT_OK;
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
	if (r->dest_count > 1)
		print_dest_summaries(r, log);
	failures_print(&r->failures, log);
	return exit_status(r);
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
	interrupt_install();
	char err[1024];
	char *state_dir = default_state_dir(o);
	struct mirror_state state = {0};
	int rc = MIRROR_EXIT_USAGE;
	r.registry = registry_new(o->from, &source_http);
	if (!r.registry)
		fprintf(log, "archeio-mirror: out of memory\n");
	else if (!load_credentials(o, r.registry, err, sizeof(err)))
		fprintf(log, "archeio-mirror: %s\n", err);
	else if (!open_dests(&r, &s3_http, log))
		;
	else if (o->state_dir && !state_dir)
		fprintf(log, "archeio-mirror: out of memory\n");
	else if (!mirror_state_open(&state, state_dir, !o->dry_run, err, sizeof(err)))
		fprintf(log, "archeio-mirror: state: %s\n", err);
	else
		rc = run_with(&r, &state, log);
	interrupt_uninstall();
	mirror_state_close(&state);
	for (size_t i = 0; i < r.dest_count; i++)
		dest_free(r.dests[i].dest);
	free(r.dests);
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
