#include "request.h"

#include <string.h>

#include "blob_request.h"
#include "request_limit.h"
#include "request_log.h"
#include "request_metrics.h"
#include "route_response.h"

void request_handle(const struct request_handler *handler, struct serve_state *state,
		    const struct http_peer *peer, const struct http_request *req,
		    const struct request_reply *reply)
{
	struct route_result route;
	struct routed_request routed = {
	    .req = req,
	    .peer = peer,
	    .route = &route,
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
	if (request_limit_refuse(handler, state, peer, req, logged, reply))
		return;
	route_request(handler->route, req->method.ptr, req->method.len, req->target.ptr,
		      req->target.len, &route);
	if (route.kind == ROUTE_BLOB) {
		blob_request_handle(handler, state, &routed, logged, reply);
		return;
	}
	struct response resp;
	response_from_route(&route, routed.head, routed.keep_alive, &resp);
	request_metrics_routed(handler, &route, resp.status);
	if (logged)
		ip_format(&peer->addr, text.client, sizeof(text.client));
	request_log_reply(handler, reply, &resp, logged, NULL, NULL);
}
