/* What SIGHUP reloads: ranges (region table + range table) and mirror
 * rules, as one immutable, reference-counted snapshot. Workers notice a new
 * snapshot through a generation counter, so the request path takes no lock. */
#ifndef ARCHEIO_SERVE_STATE_H
#define ARCHEIO_SERVE_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/snapshot.h"
#include "archeio/geo/range_table.h"
#include "archeio/geo/ranges.h"
#include "archeio/mirrorcheck/mirror_ids.h"
#include "archeio/mirrorcheck/mirror_rules.h"
#include "archeio/geo/region.h"

struct config;

struct serve_state {
	atomic_uint refs;
	struct region_table regions;
	struct range_set ranges;
	struct range_table *table;
	struct mirror_rules rules;
	/* --upstream-rules; empty (count 0) when not configured, and then no
	 * request but a blob's needs its client's region */
	struct mirror_rules upstreams;
	int64_t loaded_at; /* Unix seconds, when serve_state_load() made it */
	/* The rule each region's blobs follow, resolved once at load so a
	 * request does no string compares: rule_of_region[id] for ids below
	 * regions.count, [REGION_NONE] for clients in no range (and ids this
	 * snapshot does not know). NULL entries: no rule, upstream. */
	const struct mirror_rule **rule_of_region;
	/* The id of rule_of_region[id]'s base URL (when it names one): what the
	 * workers' mirror caches key answers by. */
	uint32_t *mirror_id_of_region;
	/* Every mirror base URL named since start: copied from the previous
	 * state at each reload, so an id never changes its base URL. */
	struct mirror_ids mirror_ids;
};

/* Loads ranges and mirror rules named by config. `previous` (may be NULL)
 * seeds the region table so ids stay stable across reloads. NULL with err
 * naming the failing file. */
struct serve_state *serve_state_load(const struct config *config,
				     const struct serve_state *previous, char *err, size_t errlen);
void serve_state_release(struct serve_state *state);

/* Where a blob goes for a client in region_id: NULL mirror_url means
 * upstream; otherwise the URL to check (and redirect to when present). */
struct blob_choice {
	const char *cloud;  /* NULL when the client is in no range */
	const char *region; /* NULL when the client is in no range */
	char mirror_url[2048];
	uint32_t mirror_id; /* the mirror base URL's id (mirror_ids.h) */
	bool use_mirror;
};
void serve_state_choose_blob(const struct serve_state *state, uint32_t region_id,
			     const char *digest, struct blob_choice *out);

/* The upstream base URL for a client in region_id by the upstream rules, or
 * NULL when no rule matches (the client gets --upstream). */
const char *serve_state_choose_upstream(const struct serve_state *state, uint32_t region_id);

/* The current serve state (a core snapshot holder of serve_state). */
struct state_holder {
	struct snapshot_holder snap;
};

void state_holder_init(struct state_holder *holder, struct serve_state *initial);
/* Publishes next (taking ownership of its reference) and drops the old one. */
void state_holder_publish(struct state_holder *holder, struct serve_state *next);
/* A new reference to the current state. */
struct serve_state *state_holder_acquire(struct state_holder *holder, unsigned *generation);
void state_holder_destroy(struct state_holder *holder);

#endif
