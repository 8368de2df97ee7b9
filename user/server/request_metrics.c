#include "request_metrics.h"

#include "archeio/metrics/request_counters.h"

static enum metrics_route route_label(const struct route_result *route)
{
	if (route->rule == RULE_SIGNATURE)
		return METRICS_ROUTE_SIGNATURE;
	switch (route->endpoint) {
	case ROUTE_ENDPOINT_PING:
		return METRICS_ROUTE_PING;
	case ROUTE_ENDPOINT_MANIFEST:
		return METRICS_ROUTE_MANIFEST;
	case ROUTE_ENDPOINT_BLOB:
		return METRICS_ROUTE_BLOB;
	case ROUTE_ENDPOINT_TAGS:
		return METRICS_ROUTE_TAGS;
	case ROUTE_ENDPOINT_REFERRERS:
		return METRICS_ROUTE_REFERRERS;
	default:
		return METRICS_ROUTE_OTHER;
	}
}

static enum metrics_target redirect_target(const struct route_result *route)
{
	if (route->rule == RULE_OUTSIDE_V2)
		return METRICS_TARGET_PAGE;
	return route->rule == RULE_SIGNATURE ? METRICS_TARGET_SIGNATURE : METRICS_TARGET_UPSTREAM;
}

void request_metrics_routed(const struct request_handler *handler, const struct route_result *route,
			    int status)
{
	struct metrics_requests *m = handler->counters;
	if (!m)
		return;
	metrics_count_request(m, route_label(route), status);
	if (status == 307)
		metrics_count_redirect(m, redirect_target(route));
}

void request_metrics_blob(const struct request_handler *handler, int status, bool redirected,
			  uint32_t region_id, bool mirror)
{
	struct metrics_requests *m = handler->counters;
	if (!m)
		return;
	metrics_count_request(m, METRICS_ROUTE_BLOB, status);
	if (!redirected)
		return;
	metrics_count_redirect(m, mirror ? METRICS_TARGET_MIRROR : METRICS_TARGET_UPSTREAM);
	metrics_count_blob_redirect(m, region_id, mirror);
}

void request_metrics_limited(const struct request_handler *handler, uint32_t region_id)
{
	if (handler->counters)
		metrics_count_limited(handler->counters, region_id);
}
