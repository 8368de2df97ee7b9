/* Asynchronous mirror existence checks: HTTP HEAD through libcurl's multi
 * interface driven by a libevent loop (never blocks the loop), in front of a
 * mirror_cache. One checker per event loop (worker).
 *
 * The process must call curl_global_init(CURL_GLOBAL_DEFAULT) once at start,
 * before any thread runs (main and the unit tests do); the checker does not.
 *
 * Only status 200 is "present": redirects are not followed (a 3xx is absent),
 * only http and https URLs are fetched, HTTPS certificates and host names are
 * verified, and proxy environment variables (http_proxy, ...) are ignored so
 * checks never travel through a proxy nobody configured for them. */
#ifndef ARCHEIO_MIRROR_CHECK_H
#define ARCHEIO_MIRROR_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "archeio/core/counter.h"
#include "archeio/core/log.h"
#include "archeio/mirrorcheck/mirror_cache.h"
#include "archeio/mirrorcheck/mirror_health.h"

struct event_base;
struct mirror_checker;

/* How a mirror check ended, for the operator's counters: 200; any other
 * answer below 500; a transport failure or a 5xx; the timeout. */
enum mirror_check_result {
	MIRROR_CHECK_PRESENT,
	MIRROR_CHECK_ABSENT,
	MIRROR_CHECK_ERROR,
	MIRROR_CHECK_TIMEOUT,
	MIRROR_CHECK_RESULT_COUNT,
};

/* "present", "absent", "error", "timeout". */
const char *mirror_check_result_name(enum mirror_check_result result);

/* Origins counted by name; checks of any further origin share the slot
 * after them ("other"). Rules name a few dozen mirrors at most. */
#define MIRROR_CHECK_STATS_ORIGINS 32
#define MIRROR_CHECK_ORIGIN_MAX 256
/* Latency histogram: upper bounds in ms, then one bucket for the rest. */
#define MIRROR_CHECK_LATENCY_BOUNDS 11
#define MIRROR_CHECK_LATENCY_BUCKETS (MIRROR_CHECK_LATENCY_BOUNDS + 1)
extern const uint32_t mirror_check_latency_bounds_ms[MIRROR_CHECK_LATENCY_BOUNDS];

struct mirror_check_origin_stats {
	char origin[MIRROR_CHECK_ORIGIN_MAX]; /* "https://host[:port]", no trailing slash */
	counter_t results[MIRROR_CHECK_RESULT_COUNT];
};

/* What a checker counts, written by its event loop's thread only
 * (core/counter.h) and readable from any thread. Checks include the health
 * probe's. */
struct mirror_check_stats {
	counter_t cache_present; /* answered from the cache: present */
	counter_t cache_absent;	 /* answered from the cache: absent */
	counter_t cache_misses;	 /* a check had to be made */
	counter_t joins;	 /* waited for a check already in flight */
	/* Answered absent without a HEAD: over the in-flight limit, or the
	 * request could not be set up (out of memory, a URL libcurl refuses). */
	counter_t not_made;
	/* HEAD requests made, by duration: per bucket (not cumulative). */
	counter_t latency[MIRROR_CHECK_LATENCY_BUCKETS];
	counter_t latency_sum_us;
	/* Origins named so far; a reader loads it (acquire) and then reads
	 * that many names, each written before the count moved past it. */
	_Atomic size_t origin_count;
	struct mirror_check_origin_stats origins[MIRROR_CHECK_STATS_ORIGINS + 1];
};

/* A field left 0 (or NULL) takes its default. */
struct mirror_checker_options {
	struct mirror_cache_options cache;
	uint32_t timeout_ms;	/* whole request: DNS, connect, TLS, answer; default 2000 */
	const char *ca_file;	/* NULL: system trust store */
	uint32_t max_in_flight; /* HEAD requests at once; beyond, answer absent; default 256 */
	/* Health probe: this often, the most recent "present" blob of each mirror
	 * origin is checked again; a failure forgets that origin's answers, a 404
	 * forgets that blob. Bounds how long clients are sent to a mirror that
	 * died after answering. Default 5000. */
	uint32_t probe_interval_ms;
	/* Where checks are told: each finished check is a debug line; an origin
	 * that fails (transport error or 5xx) a warning naming it and the
	 * reason, at most one per origin per probe interval; its recovery an
	 * info line. NULL: nothing is logged. */
	const struct logger *log;
	/* Which origins are failing, shared by the checkers of every worker so
	 * that they warn once between them. NULL: the checker keeps its own. */
	struct mirror_health *health;
	/* Where the checker counts (zeroed by the caller, owned by it and
	 * outliving the checker). NULL: nothing is counted. */
	struct mirror_check_stats *stats;
};

#define MIRROR_CHECK_DEFAULT_TIMEOUT_MS ((uint32_t)2000)
#define MIRROR_CHECK_DEFAULT_PROBE_INTERVAL_MS 5000u
#define MIRROR_CHECK_DEFAULT_MAX_IN_FLIGHT ((uint32_t)256)

/* Called exactly once per mirror_checker_check(), possibly before it returns
 * (cache hit). present is false on timeout, error or any status but 200.
 * It may call mirror_checker_check() again, but not mirror_checker_free(). */
typedef void (*mirror_check_fn)(void *arg, bool present);

/* Returns NULL when base is NULL or on allocation/libcurl failure. */
struct mirror_checker *mirror_checker_new(struct event_base *base,
					  const struct mirror_checker_options *options);
/* Pending checks complete with present=false before this returns; checks
 * started from those callbacks are answered false at once. */
void mirror_checker_free(struct mirror_checker *checker);
/* Whether url answers HEAD with 200, cached under key (mirror_cache.h). key,
 * url or checker NULL: fn is called with present=false. fn NULL: nothing is
 * checked. */
void mirror_checker_check_key(struct mirror_checker *checker, const struct mirror_cache_key *key,
			      const char *url, mirror_check_fn fn, void *arg);
/* The cached answer for key without starting a check: 1 present, 0 absent
 * (counted as a cache hit), -1 not known — then mirror_checker_check_key()
 * makes or joins the check. */
int mirror_checker_cached(struct mirror_checker *checker, const struct mirror_cache_key *key);
/* mirror_checker_check_key() with url as its own key. */
void mirror_checker_check(struct mirror_checker *checker, const char *url, mirror_check_fn fn,
			  void *arg);

#endif
