/* Filling a metrics snapshot from the running server (see
 * metrics_collect.h); the formatting is metrics/snapshot_format.c. */
#include "metrics_collect.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archeio/core/version.h"
#include "archeio/http/tls.h"
#include "archeio/metrics/readiness.h"
#include "archeio/metrics/snapshot.h"
#include "archeio/xdp/xdp_path.h"
#include "worker.h"

_Static_assert(METRICS_CLOSE_REASONS == HTTP_CLOSE_REASON_COUNT, "close reasons match");
_Static_assert(METRICS_HTTP_ERRORS == HTTP_ERROR_STATUS_COUNT, "HTTP errors match");
_Static_assert(METRICS_PROXY_REFUSALS == HTTP_PROXY_REFUSAL_COUNT, "PROXY refusals match");
_Static_assert(METRICS_CHECK_RESULTS == MIRROR_CHECK_RESULT_COUNT, "check results match");
_Static_assert(MIRROR_CHECK_LATENCY_BOUNDS <= METRICS_LATENCY_BOUNDS_MAX, "latency buckets fit");

#define CLOUDS_MAX 32

/* What the snapshot points into, freed after formatting. */
struct collected {
	struct serve_state *state;
	struct metrics_region_redirects *regions;
	struct metrics_origin_checks *origins;
	struct metrics_cloud_prefixes clouds[CLOUDS_MAX];
	struct ranges_cloud_count cloud_counts[CLOUDS_MAX];
	struct metrics_ranges_file *files;
	uint64_t latency_bounds_us[MIRROR_CHECK_LATENCY_BOUNDS];
	struct xdp_path_stats xdp;
};

static void sum_requests(struct metrics_snapshot *s, const struct worker *w)
{
	for (int r = 0; r < METRICS_ROUTE_COUNT; r++)
		for (int st = 0; st < METRICS_STATUS_COUNT; st++)
			s->requests[r][st] += counter_read(&w->request_counters.by_route[r][st]);
	for (int k = 0; k < METRICS_TARGET_COUNT; k++)
		s->redirects[k] += counter_read(&w->request_counters.redirects[k]);
}

static void sum_connections(struct metrics_snapshot *s, const struct worker *w)
{
	const struct http_connection_stats *c = &w->connections.stats;
	s->accepted += counter_read(&c->accepted);
	for (int i = 0; i < METRICS_CLOSE_REASONS; i++)
		s->closed[i] += counter_read(&c->closed[i]);
	for (int i = 0; i < METRICS_HTTP_ERRORS; i++)
		s->http_errors[i] += counter_read(&c->errors[i]);
	for (int i = 0; i < METRICS_PROXY_REFUSALS; i++)
		s->proxy_refused[i] += counter_read(&c->proxy_refused[i]);
	s->accept_errors += counter_read(&w->accept_errors);
}

static void sum_checks(struct metrics_snapshot *s, const struct worker *w)
{
	const struct mirror_check_stats *c = &w->check_stats;
	s->cache_present += counter_read(&c->cache_present);
	s->cache_absent += counter_read(&c->cache_absent);
	s->cache_misses += counter_read(&c->cache_misses);
	s->check_joins += counter_read(&c->joins);
	s->checks_not_made += counter_read(&c->not_made);
	for (int b = 0; b < MIRROR_CHECK_LATENCY_BUCKETS; b++)
		s->latency[b] += counter_read(&c->latency[b]);
	s->latency_sum_us += counter_read(&c->latency_sum_us);
}

/* Adds one worker's counts for one origin to the merged list (by name). */
static void merge_origin(struct metrics_origin_checks *all, size_t *count, const char *name,
			 const struct mirror_check_origin_stats *o)
{
	size_t i = 0;
	while (i < *count && strcmp(all[i].origin, name) != 0)
		i++;
	if (i == *count)
		all[(*count)++] = (struct metrics_origin_checks){.origin = name};
	for (int r = 0; r < METRICS_CHECK_RESULTS; r++)
		all[i].results[r] += counter_read(&o->results[r]);
}

static void collect_origins(const struct metrics_sources *src, struct metrics_snapshot *s,
			    struct collected *c)
{
	size_t cap = (size_t)src->worker_count * (MIRROR_CHECK_STATS_ORIGINS + 1);
	c->origins = calloc(cap ? cap : 1, sizeof(*c->origins));
	if (!c->origins)
		return;
	for (unsigned w = 0; w < src->worker_count; w++) {
		const struct mirror_check_stats *st = &src->workers[w].check_stats;
		size_t n = atomic_load_explicit(&((struct mirror_check_stats *)st)->origin_count,
						memory_order_acquire);
		for (size_t i = 0; i < n; i++)
			merge_origin(c->origins, &s->origin_count, st->origins[i].origin,
				     &st->origins[i]);
		const struct mirror_check_origin_stats *other =
		    &st->origins[MIRROR_CHECK_STATS_ORIGINS];
		for (int r = 0; r < METRICS_CHECK_RESULTS; r++)
			if (counter_read(&other->results[r])) {
				merge_origin(c->origins, &s->origin_count, "other", other);
				break;
			}
	}
	s->origins = c->origins;
}

/* Adds n refusals of --rate-limit to the client's cloud (NULL: unlisted). */
static void add_limited(struct metrics_snapshot *s, const char *cloud, uint64_t n)
{
	for (size_t i = 0; i < s->limited_count; i++) {
		const char *have = s->limited[i].cloud;
		if ((!have && !cloud) || (have && cloud && strcmp(have, cloud) == 0)) {
			s->limited[i].limited += n;
			return;
		}
	}
	if (s->limited_count == METRICS_LIMITED_CLOUDS) {
		s->limited[METRICS_LIMITED_CLOUDS - 1].limited += n;
		return;
	}
	s->limited[s->limited_count++] = (struct metrics_cloud_limited){cloud, n};
}

/* Every region id (0: unlisted) with a 429 of --rate-limit, summed by cloud. */
static void collect_limited(const struct metrics_sources *src, struct metrics_snapshot *s,
			    const struct collected *c)
{
	const struct region_table *table = &c->state->regions;
	uint32_t ids = table->count ? table->count : 1;
	/* With --limits-file a reload may turn the limit on: the family is there. */
	s->rate_limit_on = src->config->rate_limit > 0 || src->config->limits_file;
	for (uint32_t id = 0; s->rate_limit_on && id < ids; id++) {
		uint64_t n = 0;
		for (unsigned w = 0; w < src->worker_count; w++)
			n += metrics_limited(&src->workers[w].request_counters, id);
		if (!n)
			continue;
		const struct region_name *name = region_table_get(table, id);
		add_limited(s, name ? name->cloud : NULL, n);
	}
}

/* Every region id (0: unlisted) with a blob redirect from any worker. */
static void collect_regions(const struct metrics_sources *src, struct metrics_snapshot *s,
			    struct collected *c)
{
	const struct region_table *table = &c->state->regions;
	uint32_t ids = table->count ? table->count : 1;
	c->regions = calloc(ids, sizeof(*c->regions));
	if (!c->regions)
		return;
	for (uint32_t id = 0; id < ids; id++) {
		uint64_t mirror = 0, upstream = 0;
		for (unsigned w = 0; w < src->worker_count; w++) {
			mirror +=
			    metrics_blob_redirects(&src->workers[w].request_counters, id, true);
			upstream +=
			    metrics_blob_redirects(&src->workers[w].request_counters, id, false);
		}
		if (!mirror && !upstream)
			continue;
		const struct region_name *name = region_table_get(table, id);
		c->regions[s->region_count++] = (struct metrics_region_redirects){
		    .cloud = name ? name->cloud : NULL,
		    .region = name ? name->region : NULL,
		    .mirror = mirror,
		    .upstream = upstream,
		};
	}
	s->regions = c->regions;
}

static void collect_files(struct metrics_snapshot *s, struct collected *c)
{
	const struct range_set *set = &c->state->ranges;
	c->files = calloc(set->file_count ? set->file_count : 1, sizeof(*c->files));
	if (!c->files)
		return;
	for (size_t i = 0; i < set->file_count; i++) {
		const struct ranges_file *f = &set->files[i];
		c->files[i] = (struct metrics_ranges_file){.path = f->path,
							   .format = f->format,
							   .prefixes = f->prefixes,
							   .modified = f->modified,
							   .published = f->published,
							   .change_number = f->change_number};
	}
	s->files = c->files;
	s->file_count = set->file_count;
}

static void collect_ranges(const struct metrics_sources *src, struct metrics_snapshot *s,
			   struct collected *c, unsigned generation)
{
	const struct serve_state *state = c->state;
	size_t n =
	    ranges_count_by_cloud(&state->ranges, &state->regions, c->cloud_counts, CLOUDS_MAX);
	for (size_t i = 0; i < n; i++)
		c->clouds[i] = (struct metrics_cloud_prefixes){.cloud = c->cloud_counts[i].cloud,
							       .v4 = c->cloud_counts[i].v4,
							       .v6 = c->cloud_counts[i].v6};
	s->clouds = c->clouds;
	s->cloud_count = n;
	s->regions_known = state->regions.count ? state->regions.count - 1 : 0;
	s->generation = generation;
	s->loaded_at = state->loaded_at;
	collect_files(s, c);
	bool published;
	s->has_data_time = ranges_data_time(&state->ranges, &s->data_time, &published);
	s->now = (int64_t)time(NULL);
	s->max_age_s = src->config->ranges_max_age_s;
	s->reloads_ok = src->reloads_ok;
	s->reloads_failed = src->reloads_failed;
	s->limits_file = src->config->limits_file && src->limits_reloads_ok;
	if (s->limits_file) {
		s->limits_reloads_ok = *src->limits_reloads_ok;
		s->limits_reloads_failed = *src->limits_reloads_failed;
	}
}

static void collect_xdp(const struct metrics_sources *src, struct metrics_snapshot *s,
			struct collected *c)
{
	char err[256];
	struct metrics_xdp *x = &s->xdp;
	if (!src->xdp || xdp_path_read_stats(src->xdp, &c->xdp, err, sizeof(err)) != 0)
		return;
	x->on = true;
	x->attached = c->xdp.attached;
	x->packets = c->xdp.counters[COUNTER_PACKETS];
	x->syns = c->xdp.counters[COUNTER_SYNS];
	x->tagged = c->xdp.counters[COUNTER_TAGGED];
	x->untagged = c->xdp.counters[COUNTER_UNTAGGED];
	x->tag_errors = c->xdp.counters[COUNTER_TAG_ERRORS];
	x->syn_drops = c->xdp.counters[COUNTER_SYN_DROPS];
	for (int slot = 0; slot < ARCHEIO_CLOUD_SLOTS && x->cloud_count < METRICS_XDP_CLOUDS;
	     slot++) {
		struct cloud_name *name = &c->xdp.clouds[slot];
		if (!name->name[0])
			continue;
		name->name[sizeof(name->name) - 1] = '\0';
		x->clouds[x->cloud_count].cloud = name->name;
		x->clouds[x->cloud_count].syn_drops =
		    c->xdp.counters[COUNTER_DROP_CLOUD_BASE + slot];
		x->clouds[x->cloud_count++].tagged = c->xdp.counters[COUNTER_CLOUD_BASE + slot];
	}
	x->conn_tags = c->xdp.conn_tags;
	x->conn_tags_capacity = c->xdp.conn_tags_capacity;
}

static void collect_counters(const struct metrics_sources *src, struct metrics_snapshot *s,
			     struct collected *c)
{
	for (unsigned w = 0; w < src->worker_count; w++) {
		sum_requests(s, &src->workers[w]);
		sum_connections(s, &src->workers[w]);
		sum_checks(s, &src->workers[w]);
	}
	for (int b = 0; b < MIRROR_CHECK_LATENCY_BOUNDS; b++)
		c->latency_bounds_us[b] = (uint64_t)mirror_check_latency_bounds_ms[b] * 1000;
	s->latency_bounds_us = c->latency_bounds_us;
	s->latency_bound_count = MIRROR_CHECK_LATENCY_BOUNDS;
	if (src->tls) {
		s->tls_handshake_failures = atomic_load(&src->tls->handshake_failures);
		s->tls_plain_http = atomic_load(&src->tls->plain_http_refused);
		s->tls_reload_failures = atomic_load(&src->tls->reload_failures);
	}
}

bool metrics_collect_render(const struct metrics_sources *src, struct buf *out)
{
	struct metrics_snapshot *s = calloc(1, sizeof(*s));
	struct collected *c = calloc(1, sizeof(*c));
	bool ok = false;
	if (s && c) {
		char reason[256];
		unsigned generation;
		c->state = state_holder_acquire(src->states, &generation);
		s->version = archeio_version();
		s->ready = metrics_collect_ready(src, reason, sizeof(reason));
		s->workers = src->config->workers;
		metrics_process_read(&s->process);
		collect_counters(src, s, c);
		collect_origins(src, s, c);
		collect_regions(src, s, c);
		collect_limited(src, s, c);
		collect_ranges(src, s, c, generation);
		collect_xdp(src, s, c);
		ok = metrics_format(s, out);
		serve_state_release(c->state);
		free(c->regions);
		free(c->origins);
		free(c->files);
	}
	free(c);
	free(s);
	return ok;
}

static bool workers_serving(const struct metrics_sources *src)
{
	if (!src->workers || src->worker_count == 0)
		return false;
	for (unsigned w = 0; w < src->worker_count; w++)
		if (!atomic_load(&src->workers[w].serving))
			return false;
	return true;
}

bool metrics_collect_ready(const struct metrics_sources *src, char *reason, size_t cap)
{
	struct serve_state *state = state_holder_acquire(src->states, NULL);
	struct metrics_readiness in = {
	    .serving = workers_serving(src),
	    .ranges_given = src->config->ranges_count > 0,
	    .prefixes = state ? state->ranges.count : 0,
	    .xdp_iface = src->config->xdp_iface,
	    .xdp_attached = src->xdp && xdp_path_attached(src->xdp),
	};
	serve_state_release(state);
	return metrics_ready(&in, reason, cap);
}
