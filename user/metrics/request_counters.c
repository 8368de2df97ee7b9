/* Per-worker request counters (see request_counters.h). */
#include "archeio/metrics/request_counters.h"

#include <stdlib.h>

const char *metrics_route_name(enum metrics_route route)
{
	static const char *const names[METRICS_ROUTE_COUNT] = {
	    [METRICS_ROUTE_PING] = "ping",	     [METRICS_ROUTE_MANIFEST] = "manifest",
	    [METRICS_ROUTE_BLOB] = "blob",	     [METRICS_ROUTE_TAGS] = "tags",
	    [METRICS_ROUTE_REFERRERS] = "referrers", [METRICS_ROUTE_SIGNATURE] = "signature",
	    [METRICS_ROUTE_OTHER] = "other",
	};
	return (unsigned)route < METRICS_ROUTE_COUNT ? names[route] : "other";
}

const char *metrics_target_name(enum metrics_target target)
{
	static const char *const names[METRICS_TARGET_COUNT] = {
	    [METRICS_TARGET_MIRROR] = "mirror",
	    [METRICS_TARGET_UPSTREAM] = "upstream",
	    [METRICS_TARGET_SIGNATURE] = "signature",
	    [METRICS_TARGET_PAGE] = "page",
	};
	return (unsigned)target < METRICS_TARGET_COUNT ? names[target] : "upstream";
}

enum metrics_status metrics_status_slot(int status)
{
	switch (status) {
	case 200:
		return METRICS_STATUS_200;
	case 307:
		return METRICS_STATUS_307;
	case 400:
		return METRICS_STATUS_400;
	case 404:
		return METRICS_STATUS_404;
	case 405:
		return METRICS_STATUS_405;
	case 414:
		return METRICS_STATUS_414;
	case 500:
		return METRICS_STATUS_500;
	case 503:
		return METRICS_STATUS_503;
	default:
		return METRICS_STATUS_OTHER;
	}
}

const char *metrics_status_name(enum metrics_status slot)
{
	static const char *const names[METRICS_STATUS_COUNT] = {
	    [METRICS_STATUS_200] = "200",     [METRICS_STATUS_307] = "307",
	    [METRICS_STATUS_400] = "400",     [METRICS_STATUS_404] = "404",
	    [METRICS_STATUS_405] = "405",     [METRICS_STATUS_414] = "414",
	    [METRICS_STATUS_500] = "500",     [METRICS_STATUS_503] = "503",
	    [METRICS_STATUS_OTHER] = "other",
	};
	return (unsigned)slot < METRICS_STATUS_COUNT ? names[slot] : "other";
}

/* The writer's chunk for region_id, allocated the first time; NULL when the
 * id is past the last chunk or memory ran out. */
static struct metrics_region_chunk *chunk_to_write(struct metrics_requests *m, uint32_t region_id)
{
	if (region_id >= METRICS_REGION_MAX)
		return NULL;
	struct metrics_region_chunk *_Atomic *slot = &m->chunks[region_id / METRICS_REGION_CHUNK];
	struct metrics_region_chunk *chunk = atomic_load_explicit(slot, memory_order_relaxed);
	if (!chunk) {
		/* Once per 256 regions per worker; published (release) only
		 * when zeroed, so a reader never sees garbage. */
		chunk = calloc(1, sizeof(*chunk));
		if (!chunk)
			return NULL;
		atomic_store_explicit(slot, chunk, memory_order_release);
	}
	return chunk;
}

static const struct metrics_region_chunk *chunk_to_read(const struct metrics_requests *m,
							uint32_t region_id)
{
	if (region_id >= METRICS_REGION_MAX)
		return NULL;
	return atomic_load_explicit(
	    (struct metrics_region_chunk * _Atomic *)&m->chunks[region_id / METRICS_REGION_CHUNK],
	    memory_order_acquire);
}

void metrics_count_blob_redirect(struct metrics_requests *m, uint32_t region_id, bool mirror)
{
	struct metrics_region_chunk *chunk = chunk_to_write(m, region_id);
	if (chunk)
		counter_inc(&chunk->blob[region_id % METRICS_REGION_CHUNK][mirror ? 0 : 1]);
}

void metrics_count_limited(struct metrics_requests *m, uint32_t region_id)
{
	struct metrics_region_chunk *chunk = chunk_to_write(m, region_id);
	if (chunk)
		counter_inc(&chunk->limited[region_id % METRICS_REGION_CHUNK]);
}

uint64_t metrics_blob_redirects(const struct metrics_requests *m, uint32_t region_id, bool mirror)
{
	const struct metrics_region_chunk *chunk = chunk_to_read(m, region_id);
	return chunk ? counter_read(&chunk->blob[region_id % METRICS_REGION_CHUNK][mirror ? 0 : 1])
		     : 0;
}

uint64_t metrics_limited(const struct metrics_requests *m, uint32_t region_id)
{
	const struct metrics_region_chunk *chunk = chunk_to_read(m, region_id);
	return chunk ? counter_read(&chunk->limited[region_id % METRICS_REGION_CHUNK]) : 0;
}

void metrics_requests_free(struct metrics_requests *m)
{
	for (size_t i = 0; i < METRICS_REGION_CHUNKS; i++) {
		free(atomic_load_explicit(&m->chunks[i], memory_order_relaxed));
		atomic_store_explicit(&m->chunks[i], NULL, memory_order_relaxed);
	}
}
