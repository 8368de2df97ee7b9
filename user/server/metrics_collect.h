/* What /metrics and /readyz read, gathered on the main thread when asked:
 * the workers' counters summed (each worker writes only its own, so this
 * takes no lock the request path takes), the current serve state, TLS and
 * XDP counters, /proc. Internal to server/. */
#ifndef ARCHEIO_SERVER_METRICS_COLLECT_H
#define ARCHEIO_SERVER_METRICS_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "archeio/core/buf.h"
#include "archeio/server/config.h"
#include "archeio/server/serve_state.h"

struct worker;
struct tls_holder;
struct xdp_path;

struct metrics_sources {
	const struct config *config;
	struct state_holder *states;
	struct worker *workers; /* NULL until they start */
	unsigned worker_count;
	struct tls_holder *tls; /* NULL without TLS */
	struct xdp_path *xdp;	/* NULL without XDP */
	/* SIGHUP reloads of ranges and mirror rules (main thread only). */
	uint64_t reloads_ok, reloads_failed;
	/* SIGHUP reloads of --limits-file (server_limits'; NULL before they are
	 * loaded). */
	const uint64_t *limits_reloads_ok, *limits_reloads_failed;
};

/* Appends the exposition text; false when memory ran out. */
bool metrics_collect_render(const struct metrics_sources *src, struct buf *out);
/* /readyz: true, or false with the reason (one line). */
bool metrics_collect_ready(const struct metrics_sources *src, char *reason, size_t cap);

#endif
