/* The limits in force, as one immutable, reference-counted snapshot that
 * SIGHUP replaces (--limits-file): the flags' values with the file's on top,
 * the per-client request limiter made from them and the exempt set. Workers
 * notice a new snapshot through the holder's generation (one atomic load),
 * so the request path takes no lock. The bucket table is shared from one
 * snapshot to the next while the key shape (--rate-limit-v6-prefix) stays:
 * a reload does not hand every client a fresh burst. */
#ifndef ARCHEIO_SERVER_LIMITS_STATE_H
#define ARCHEIO_SERVER_LIMITS_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/snapshot.h"
#include "limits_file.h"
#include "rate_exempt.h"
#include "rate_limit.h"
#include "request.h"

struct config;

/* The limits in force: every number, and the exempt entries. */
struct limits_values {
	uint32_t value[LIMITS_KEY_COUNT]; /* indexed by enum limits_key */
	char **exempt;			  /* CIDR or CLOUD[:REGION] */
	size_t exempt_count;
};

/* The flags' values (config), then each key the file (may be NULL) gives.
 * out->exempt is a copy; false when out of memory. */
bool limits_values_merge(const struct config *config, const struct limits_file *file,
			 struct limits_values *out);
void limits_values_free(struct limits_values *v);
/* What changed from old to new, as "rate-limit 1 -> 100, rate-limit-exempt
 * +10.0.0.0/8 -lab:ci" ("" when nothing did). Truncated to cap. */
void limits_values_describe_changes(const struct limits_values *old,
				    const struct limits_values *new, char *out, size_t cap);

struct limits_state {
	atomic_uint refs;
	struct limits_values values;
	bool rate_on; /* values[LIMITS_RATE_LIMIT] > 0 */
	struct rate_limiter buckets;
	struct rate_exempt exempt;
	struct request_limits limits; /* points into this snapshot */
};

/* A snapshot of values (taken over: *values is emptied). previous (may be
 * NULL) lends its bucket table when the key shape is the same; entries sizes
 * a new one. NULL with err when out of memory or an exempt entry is bad. */
struct limits_state *limits_state_make(struct limits_values *values,
				       const struct limits_state *previous, size_t entries,
				       uint64_t (*now_ns)(void), char *err, size_t errlen);
void limits_state_release(struct limits_state *state);
/* What a worker's request handler gets: NULL when the request limit is off. */
const struct request_limits *limits_state_request_limits(const struct limits_state *state);

/* The current limits (a core snapshot holder of limits_state). */
struct limits_holder {
	struct snapshot_holder snap;
};

void limits_holder_init(struct limits_holder *holder, struct limits_state *initial);
void limits_holder_publish(struct limits_holder *holder, struct limits_state *next);
struct limits_state *limits_holder_acquire(struct limits_holder *holder, unsigned *generation);
void limits_holder_destroy(struct limits_holder *holder);

#endif
