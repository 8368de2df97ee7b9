#include "request.h"

#include <string.h>

#include "archeio/server/serve_state.h"
#include "blob_request.h"
#include "request_limit.h"
#include "request_log.h"
#include "request_metrics.h"
#include "route_response.h"

/* Upstream rules choose the upstream by the client's region for what goes
 * to --upstream (rule 7, and a blob's upstream fallback); the signature
 * upstream and everything else stay as routed. */
static bool wants_regional_upstream(const struct serve_state *state,
				    const struct route_result *route)
{
	return state->upstreams.count > 0 &&
	       (route->rule == RULE_UPSTREAM || route->rule == RULE_BLOB);
}

/* Routes again with the region's upstream as base: the router builds (and
 * bounds) every Location, so the path and query are those of any upstream. */
static void route_to_regional_upstream(const struct request_handler *handler,
				       const struct serve_state *state,
				       const struct http_request *req, uint32_t region_id,
				       struct route_result *route)
{
	const char *base = serve_state_choose_upstream(state, region_id);
	if (!base || strcmp(base, handler->route->upstream) == 0)
		return;
	struct route_config regional = *handler->route;
	regional.upstream = base;
	route_request(&regional, req->method.ptr, req->method.len, req->target.ptr, req->target.len,
		      route);
}

static void answer_routed(const struct request_handler *handler, const struct serve_state *state,
			  const struct routed_request *routed, struct request_log_text *text,
			  const struct request_reply *reply)
{
	struct response resp;
	response_from_route(routed->route, routed->head, routed->keep_alive, &resp);
	request_metrics_routed(handler, routed->route, resp.status);
	/* The client and its region as far as they were found (the limit or
	 * upstream rules); else the peer, in no region. */
	const struct client_place *place = routed->place;
	bool known = place->resolved && place->who != CLIENT_ADDR_BAD_HEADER;
	const struct region_name *name =
	    known && place->placed ? region_table_get(&state->regions, place->region_id) : NULL;
	if (text)
		ip_format(known ? &place->addr : &routed->peer->addr, text->client,
			  sizeof(text->client));
	request_log_reply(handler, reply, &resp, text, name ? name->cloud : NULL,
			  name ? name->region : NULL);
}

void request_handle(const struct request_handler *handler, struct serve_state *state,
		    const struct http_peer *peer, const struct http_request *req,
		    const struct request_reply *reply)
{
	struct route_result route;
	struct client_place place = {.resolved = false, .placed = false};
	struct routed_request routed = {
	    .req = req,
	    .peer = peer,
	    .route = &route,
	    .place = &place,
	    .head = req->method.len == 4 && memcmp(req->method.ptr, "HEAD", 4) == 0,
	    /* A request body is never read: close instead of guessing at framing. */
	    .keep_alive = req->keep_alive && !req->has_body,
	};
	/* The access log's clock starts before routing: the duration is the
	 * whole of the answer's making. */
	struct request_log_text text;
	struct request_log_text *logged = NULL;
	if (request_log_enabled(handler)) {
		request_log_begin(&text, req);
		logged = &text;
	}
	if (request_limit_refuse(handler, state, &routed, logged, reply))
		return;
	route_request(handler->route, req->method.ptr, req->method.len, req->target.ptr,
		      req->target.len, &route);
	/* Without upstream rules (or the limit) only blobs look the client
	 * up: the other requests cost no lookup. The limit's lookup, if any, is
	 * reused here and by the blob rule. */
	if (wants_regional_upstream(state, &route)) {
		if (!client_place_resolve(handler, state, &routed)) {
			/* counted under the route it would have taken */
			if (route.kind == ROUTE_BLOB)
				request_metrics_blob(handler, 400, false, REGION_NONE, false);
			else
				request_metrics_routed(handler, &route, 400);
			client_place_refuse(handler, &routed, logged, reply);
			return;
		}
		route_to_regional_upstream(handler, state, req, place.region_id, &route);
	}
	if (route.kind == ROUTE_BLOB) {
		blob_request_handle(handler, state, &routed, logged, reply);
		return;
	}
	answer_routed(handler, state, &routed, logged, reply);
}
