/* Counting answers into the worker's request counters
 * (metrics/request_counters.h): the route and status of every answer, the
 * target of every 307, the region of every blob redirect. A few increments
 * per request; nothing when the handler has no counters (tests). */
#ifndef ARCHEIO_SERVER_REQUEST_METRICS_H
#define ARCHEIO_SERVER_REQUEST_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "archeio/contract/route.h"
#include "request.h"

/* An answer decided by the route alone (everything but a blob's). */
void request_metrics_routed(const struct request_handler *handler, const struct route_result *route,
			    int status);
/* A blob's answer; redirected: a 307 to the mirror (mirror true) or
 * upstream, for a client in region_id. */
void request_metrics_blob(const struct request_handler *handler, int status, bool redirected,
			  uint32_t region_id, bool mirror);
/* A 429 of --rate-limit for a client in region_id (0: in no range). */
void request_metrics_limited(const struct request_handler *handler, uint32_t region_id);

#endif
