/* The operator's port: /metrics (Prometheus text), /healthz (200 while the
 * process serves) and /readyz (200 when ready, else 503 with the reason),
 * on a listener of its own on the main thread's event loop: never on the
 * public listeners, and a scrape never runs on a worker. libevent's evhttp
 * serves it (bounded heads, a timeout): a handful of scrapes a minute need
 * nothing of the request path's machinery. Anything else is 404; methods
 * other than GET and HEAD are 405. Internal to server/. */
#ifndef ARCHEIO_SERVER_METRICS_ENDPOINT_H
#define ARCHEIO_SERVER_METRICS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "archeio/core/buf.h"

struct event_base;
struct metrics_endpoint;

struct metrics_endpoint_ops {
	/* Appends the exposition text; false: answer 500. */
	bool (*render)(void *ctx, struct buf *out);
	/* False with a one-line reason: answer 503. */
	bool (*ready)(void *ctx, char *reason, size_t cap);
};

/* addr: HOST:PORT, [V6]:PORT or :PORT (every address). NULL with err when
 * it cannot listen. */
struct metrics_endpoint *metrics_endpoint_open(struct event_base *base, const char *addr,
					       const struct metrics_endpoint_ops *ops, void *ctx,
					       char *err, size_t errlen);
/* "127.0.0.1:9090", "[::]:9090" (the port actually bound). */
void metrics_endpoint_describe(const struct metrics_endpoint *endpoint, char *out, size_t cap);
/* Closes the listener and every open connection. NULL is a no-op. */
void metrics_endpoint_close(struct metrics_endpoint *endpoint);

#endif
