#include "request_limit.h"

#include "archeio/core/log.h"
#include "archeio/server/serve_state.h"
#include "client_place.h"
#include "rate_exempt.h"
#include "rate_limit.h"
#include "request_log.h"
#include "request_metrics.h"

struct place_name {
	const char *cloud; /* NULL: in no range */
	const char *region;
	uint32_t region_id; /* for the metrics; 0: in no range */
};

static struct place_name place_of(const struct request_handler *handler,
				  const struct serve_state *state,
				  const struct routed_request *routed)
{
	uint32_t id = client_place_region(handler, state, routed);
	const struct region_name *name = region_table_get(&state->regions, id);
	return name ? (struct place_name){name->cloud, name->region, id}
		    : (struct place_name){NULL, NULL, id};
}

static void answer_too_many(const struct request_handler *handler,
			    const struct routed_request *routed, const struct place_name *place,
			    uint64_t wait_ns, struct request_log_text *text,
			    const struct request_reply *reply)
{
	unsigned retry_s = rate_limit_retry_seconds(wait_ns);
	if (log_enabled(handler->log, LOG_DEBUG)) {
		char addr[64];
		log_msg(handler->log, LOG_DEBUG,
			"rate limited client=%s cloud=%s region=%s retry_after=%us",
			ip_format(&routed->place->addr, addr, sizeof(addr)),
			place->cloud ? place->cloud : "-", place->region ? place->region : "-",
			retry_s);
	}
	struct response resp = {
	    .status = 429,
	    .oci_error = "TOOMANYREQUESTS",
	    .message = "too many requests from this address; retry later",
	    .retry_after_s = retry_s,
	    .api_version = true,
	    .keep_alive = routed->keep_alive,
	    .head = routed->head,
	};
	request_log_reply(handler, reply, &resp, text, place->cloud, place->region);
}

bool request_limit_refuse(const struct request_handler *handler, struct serve_state *state,
			  const struct routed_request *routed, struct request_log_text *text,
			  const struct request_reply *reply)
{
	const struct request_limits *limits = handler->limits;
	if (!limits)
		return false;
	/* A bad X-Forwarded-For names nobody: the proxy (the place's stand-in)
	 * is the one counted (the blob rule answers such a request 400 anyway). */
	client_place_addr(handler, routed);
	const struct ip_addr *client = &routed->place->addr;
	if (rate_exempt_matches_addr(limits->exempt, client))
		return false;
	struct place_name place = {NULL, NULL, 0};
	bool placed = false;
	if (rate_exempt_has_places(limits->exempt)) {
		place = place_of(handler, state, routed);
		placed = true;
		if (rate_exempt_matches_place(limits->exempt, place.cloud, place.region))
			return false;
	}
	uint64_t wait_ns = 0;
	if (rate_limiter_take(limits->buckets, client, limits->now_ns(), &wait_ns))
		return false;
	if (!placed)
		place = place_of(handler, state, routed);
	request_metrics_limited(handler, place.region_id);
	if (text)
		ip_format(client, text->client, sizeof(text->client));
	answer_too_many(handler, routed, &place, wait_ns, text, reply);
	return true;
}
