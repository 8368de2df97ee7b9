/* Request handling: the answer to one parsed request, given what is known of
 * its connection, the serve state and the configuration. The request is
 * routed (contract/route.h); a blob request also gets its client address
 * (trusted X-Forwarded-For), the client's region (the connection's XDP tag,
 * else a lookup), the mirror rule for that region and, when the rule names a
 * mirror, a check whose answer picks mirror or upstream. Every answer gets
 * its access log line.
 *
 * No sockets: the answer goes to a reply callback and the mirror is asked
 * through a function pointer, so tests drive this with fakes. */
#ifndef ARCHEIO_SERVER_REQUEST_H
#define ARCHEIO_SERVER_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "archeio/contract/route.h"
#include "archeio/http/connection.h"
#include "archeio/mirrorcheck/mirror_check.h"

struct config;
struct logger;
struct metrics_requests;
struct serve_state;

/* Whether url answers a HEAD with 200 (its answer cached under key):
 * check() calls done(arg, present) exactly once, before returning when the
 * answer is known (cached), else later from the event loop. */
struct mirror_probe {
	void (*check)(void *ctx, const struct mirror_cache_key *key, const char *url,
		      mirror_check_fn done, void *arg);
	/* The cached answer without a check: 1 present, 0 absent, -1 unknown
	 * (then check() is asked). NULL: always ask check(). Saves a cached
	 * blob the pending record (malloc, copies, free). */
	int (*cached)(void *ctx, const struct mirror_cache_key *key);
	void *ctx;
};

/* Where the answer to one request goes. */
struct request_reply {
	/* Called exactly once per request: before request_handle() returns, or
	 * later when the mirror check answers. resp lives for the call only.
	 * sent (NULL unless the access log wants it) is told the answer's length
	 * during the call, as http_connection_respond() does: not at all when
	 * nobody will read a late answer (the client left meanwhile). */
	void (*send)(void *arg, const struct response *resp, const struct http_sent *sent);
	void *arg;
};

struct rate_limiter;
struct rate_exempt;

/* --rate-limit: the buckets every worker shares and who is exempt. */
struct request_limits {
	struct rate_limiter *buckets;
	const struct rate_exempt *exempt;
	uint64_t (*now_ns)(void); /* monotonic; tests pass a fake */
};

/* What stays the same from request to request (per event loop). */
struct request_handler {
	const struct route_config *route;
	const struct config *config; /* trusted proxies, X-Forwarded-For hops, --access-log */
	const struct logger *log;
	struct mirror_probe mirror;
	const struct request_limits *limits; /* NULL: no per-client limit */
	/* This worker's counters (request_metrics.h); NULL: nothing counted. */
	struct metrics_requests *counters;
};

/* Answers req through reply. state is borrowed; a pending check takes its
 * own reference. handler must outlive every pending check. Keep-alive follows
 * the request (a request with a body closes: bodies are never read). */
void request_handle(const struct request_handler *handler, struct serve_state *state,
		    const struct http_peer *peer, const struct http_request *req,
		    const struct request_reply *reply);

#endif
