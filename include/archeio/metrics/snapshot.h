/* Everything /metrics reports, as plain numbers and names gathered at one
 * scrape (server/metrics_collect.c fills it from the workers' counters, the
 * serve state, TLS, XDP and /proc), and its formatting as Prometheus text.
 * The formatting is pure, so its exact text is a unit test. Names and
 * strings are borrowed for the duration of metrics_format(). */
#ifndef ARCHEIO_METRICS_SNAPSHOT_H
#define ARCHEIO_METRICS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/buf.h"
#include "archeio/metrics/process.h"
#include "archeio/metrics/request_counters.h"

/* Why connections closed and which errors the HTTP layer answered itself:
 * the same order as http's enum http_close_reason and enum
 * http_error_status (the collector checks the counts at compile time). */
#define METRICS_CLOSE_REASONS 5
#define METRICS_HTTP_ERRORS 5
extern const char *const metrics_close_reason_names[METRICS_CLOSE_REASONS];
extern const char *const metrics_http_error_names[METRICS_HTTP_ERRORS];
/* PROXY protocol refusals: untrusted, malformed, timeout (http's enum
 * http_proxy_refusal order). */
#define METRICS_PROXY_REFUSALS 3
extern const char *const metrics_proxy_refusal_names[METRICS_PROXY_REFUSALS];

/* Mirror check results: present, absent, error, timeout (mirrorcheck's
 * order). */
#define METRICS_CHECK_RESULTS 4
extern const char *const metrics_check_result_names[METRICS_CHECK_RESULTS];
#define METRICS_LATENCY_BOUNDS_MAX 16

struct metrics_region_redirects {
	const char *cloud; /* NULL: the client is in no range ("unlisted") */
	const char *region;
	uint64_t mirror, upstream;
};

struct metrics_origin_checks {
	const char *origin; /* "https://host[:port]", or "other" */
	uint64_t results[METRICS_CHECK_RESULTS];
};

struct metrics_cloud_prefixes {
	const char *cloud;
	uint64_t v4, v6;
};

struct metrics_ranges_file {
	const char *path;
	const char *format;
	uint64_t prefixes;
	int64_t modified;
	int64_t published;	 /* 0: the format has none */
	long long change_number; /* -1: none */
};

#define METRICS_XDP_CLOUDS 16

struct metrics_xdp {
	bool on;       /* --xdp-iface given: the rest is reported */
	bool attached; /* the interface runs the program */
	uint64_t packets, syns, tagged, untagged, tag_errors;
	uint64_t syn_drops; /* over --xdp-syn-limit: XDP_DROP */
	struct {
		const char *cloud;
		uint64_t tagged;
		uint64_t syn_drops; /* dropped SYNs from this cloud's ranges */
	} clouds[METRICS_XDP_CLOUDS];
	size_t cloud_count;
	uint64_t conn_tags, conn_tags_capacity;
};

/* Requests refused by --rate-limit from clients of one cloud. */
#define METRICS_LIMITED_CLOUDS 32
struct metrics_cloud_limited {
	const char *cloud; /* NULL: the client is in no range ("unlisted") */
	uint64_t limited;
};

struct metrics_snapshot {
	const char *version;
	bool ready;
	unsigned workers;
	struct metrics_process process;
	/* requests (summed over workers) */
	uint64_t requests[METRICS_ROUTE_COUNT][METRICS_STATUS_COUNT];
	uint64_t redirects[METRICS_TARGET_COUNT];
	const struct metrics_region_redirects *regions; /* only regions with a redirect */
	size_t region_count;
	/* connections */
	uint64_t accepted, accept_errors;
	uint64_t closed[METRICS_CLOSE_REASONS];
	uint64_t http_errors[METRICS_HTTP_ERRORS];
	uint64_t proxy_refused[METRICS_PROXY_REFUSALS]; /* by the PROXY stage */
	/* TLS (zero without it) */
	uint64_t tls_handshake_failures, tls_plain_http, tls_reload_failures;
	/* mirror checks */
	uint64_t cache_present, cache_absent, cache_misses, check_joins, checks_not_made;
	const struct metrics_origin_checks *origins;
	size_t origin_count;
	const uint64_t *latency_bounds_us;
	size_t latency_bound_count; /* at most METRICS_LATENCY_BOUNDS_MAX */
	uint64_t latency[METRICS_LATENCY_BOUNDS_MAX + 1];
	uint64_t latency_sum_us;
	/* ranges */
	const struct metrics_cloud_prefixes *clouds;
	size_t cloud_count;
	uint64_t regions_known;
	uint64_t generation;
	int64_t loaded_at; /* Unix seconds */
	const struct metrics_ranges_file *files;
	size_t file_count;
	bool has_data_time; /* some file was read */
	int64_t data_time;  /* newest publication stamp, else newest mtime */
	int64_t now;
	uint64_t max_age_s; /* 0: staleness is not checked */
	uint64_t reloads_ok, reloads_failed;
	struct metrics_xdp xdp;
	/* --rate-limit given: the 429s it answered, by the client's cloud (only
	 * clouds with one; past METRICS_LIMITED_CLOUDS, counted in the last). */
	bool rate_limit_on;
	struct metrics_cloud_limited limited[METRICS_LIMITED_CLOUDS];
	/* --limits-file given: its SIGHUP reloads by result. */
	bool limits_file;
	uint64_t limits_reloads_ok, limits_reloads_failed;
	size_t limited_count;
};

/* The rule for stale ranges, shared by /metrics and the log's warning: data
 * made at data_time is stale at now when older than max_age_s (0: never).
 * *age_s (may be NULL) gets its age, 0 when unknown or in the future. */
bool metrics_ranges_too_old(bool has_data_time, int64_t data_time, int64_t now, uint64_t max_age_s,
			    uint64_t *age_s);
/* The data's age at snapshot->now, and whether it is over max_age_s. */
uint64_t metrics_ranges_age(const struct metrics_snapshot *s);
bool metrics_ranges_stale(const struct metrics_snapshot *s);

/* Appends the exposition text; false when memory ran out (or a name is
 * invalid, which a test catches). */
bool metrics_format(const struct metrics_snapshot *snapshot, struct buf *out);

#endif
