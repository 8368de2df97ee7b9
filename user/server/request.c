#include "request.h"

#include <string.h>

#include "blob_request.h"
#include "request_log.h"
#include "route_response.h"

void request_handle(const struct request_handler *handler, struct serve_state *state,
		    const struct http_peer *peer, const struct http_request *req,
		    const struct request_reply *reply)
{
	struct route_result route;
	route_request(handler->route, req->method.ptr, req->method.len, req->target.ptr,
		      req->target.len, &route);
	struct routed_request routed = {
	    .req = req,
	    .peer = peer,
	    .route = &route,
	    .head = req->method.len == 4 && memcmp(req->method.ptr, "HEAD", 4) == 0,
	    /* A request body is never read: close instead of guessing at framing. */
	    .keep_alive = req->keep_alive && !req->has_body,
	};
	if (route.kind == ROUTE_BLOB) {
		blob_request_handle(handler, state, &routed, reply);
		return;
	}
	struct response resp;
	response_from_route(&route, routed.head, routed.keep_alive, &resp);
	if (request_log_enabled(handler)) {
		struct request_log_text text;
		ip_format(&peer->addr, text.client, sizeof(text.client));
		request_log_describe(&text, req);
		request_log_write(handler, &text, NULL, NULL, route.status, resp.location);
	}
	reply->send(reply->arg, &resp);
}
