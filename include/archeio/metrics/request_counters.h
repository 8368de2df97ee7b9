/* What one worker counts about the requests it answers: by route and
 * status, redirects by target, and blob redirects by the client's region.
 * The worker's thread is the only writer (core/counter.h): the hot path is
 * one or two increments of plain memory, no lock, no atomic read-modify-
 * write, no hashing (the region is an index: region ids are small, dense
 * and stable). Any thread may read; the metrics sum the workers' counters
 * when scraped. */
#ifndef ARCHEIO_METRICS_REQUEST_COUNTERS_H
#define ARCHEIO_METRICS_REQUEST_COUNTERS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "archeio/core/counter.h"

/* The route label: which pull endpoint a request named. */
enum metrics_route {
	METRICS_ROUTE_PING, /* /v2/ */
	METRICS_ROUTE_MANIFEST,
	METRICS_ROUTE_BLOB,
	METRICS_ROUTE_TAGS,
	METRICS_ROUTE_REFERRERS,
	METRICS_ROUTE_SIGNATURE, /* sent to the signature upstream */
	METRICS_ROUTE_OTHER,	 /* anything else: /, /privacy, 404s, 405s ... */
	METRICS_ROUTE_COUNT,
};

/* The status label: the statuses a request handler answers with, and one
 * slot for any other (none today). */
enum metrics_status {
	METRICS_STATUS_200,
	METRICS_STATUS_307,
	METRICS_STATUS_400,
	METRICS_STATUS_404,
	METRICS_STATUS_405,
	METRICS_STATUS_414,
	METRICS_STATUS_500,
	METRICS_STATUS_503,
	METRICS_STATUS_OTHER,
	METRICS_STATUS_COUNT,
};

/* Where a 307 sends the client. */
enum metrics_target {
	METRICS_TARGET_MIRROR,
	METRICS_TARGET_UPSTREAM,
	METRICS_TARGET_SIGNATURE,
	METRICS_TARGET_PAGE, /* the info and privacy pages (/ and /privacy) */
	METRICS_TARGET_COUNT,
};

/* Blob redirects by region: region ids index chunks that are allocated the
 * first time a region in them is counted, so the worker never reallocates
 * what a reader may be reading. Ids past the last chunk are not counted. */
#define METRICS_REGION_CHUNK 256
#define METRICS_REGION_CHUNKS 1024
#define METRICS_REGION_MAX ((uint32_t)METRICS_REGION_CHUNK * METRICS_REGION_CHUNKS)

struct metrics_region_chunk {
	counter_t blob[METRICS_REGION_CHUNK][2]; /* [id % CHUNK][mirror ? 0 : 1] */
	counter_t limited[METRICS_REGION_CHUNK]; /* 429s of --rate-limit, [id % CHUNK] */
};

struct metrics_requests {
	counter_t by_route[METRICS_ROUTE_COUNT][METRICS_STATUS_COUNT];
	counter_t redirects[METRICS_TARGET_COUNT];
	struct metrics_region_chunk *_Atomic chunks[METRICS_REGION_CHUNKS];
};

const char *metrics_route_name(enum metrics_route route);
const char *metrics_target_name(enum metrics_target target);
enum metrics_status metrics_status_slot(int status);
/* "200", ..., "503", "other". */
const char *metrics_status_name(enum metrics_status slot);

/* The worker's thread only. */
static inline void metrics_count_request(struct metrics_requests *m, enum metrics_route route,
					 int status)
{
	counter_inc(&m->by_route[route][metrics_status_slot(status)]);
}

static inline void metrics_count_redirect(struct metrics_requests *m, enum metrics_target target)
{
	counter_inc(&m->redirects[target]);
}

/* A blob's 307 for a client in region_id (0: in no range). Allocates the
 * region's chunk the first time; out of memory, it is not counted. */
void metrics_count_blob_redirect(struct metrics_requests *m, uint32_t region_id, bool mirror);

/* A request refused by --rate-limit (429) for a client in region_id (0: in
 * no range); like metrics_count_blob_redirect(). */
void metrics_count_limited(struct metrics_requests *m, uint32_t region_id);

/* Any thread. */
uint64_t metrics_blob_redirects(const struct metrics_requests *m, uint32_t region_id, bool mirror);
uint64_t metrics_limited(const struct metrics_requests *m, uint32_t region_id);

/* After the writer stopped: frees the chunks. */
void metrics_requests_free(struct metrics_requests *m);

#endif
