#include "client_place.h"

#include "archeio/server/config.h"
#include "archeio/server/serve_state.h"
#include "archeio/xdp/xdp_path.h"
#include "request_log.h"

static enum client_addr_result resolve_client(const struct request_handler *handler,
					      const struct routed_request *routed,
					      struct ip_addr *client)
{
	const struct http_request *req = routed->req;
	char xff[2048];
	long xff_len = http_join_xff(req, xff, sizeof(xff));
	return client_addr_resolve(
	    &routed->peer->addr, &handler->config->proxies, handler->config->xff_hops,
	    req->xff_count && xff_len >= 0 ? xff : NULL, xff_len > 0 ? (size_t)xff_len : 0, client);
}

/* The XDP tag names the peer's region, so it counts only when the peer is
 * the client. */
static uint32_t region_of(const struct request_handler *handler, const struct serve_state *state,
			  const struct http_peer *peer, enum client_addr_result who,
			  const struct ip_addr *client)
{
	if (who == CLIENT_ADDR_PEER && peer->tagged)
		return peer->tag;
	return handler->xdp ? xdp_path_lookup(handler->xdp, client)
			    : range_table_lookup(state->table, client);
}

bool client_place_resolve(const struct request_handler *handler, const struct serve_state *state,
			  const struct routed_request *routed, struct client_place *out)
{
	out->who = resolve_client(handler, routed, &out->addr);
	out->region_id = 0;
	if (out->who == CLIENT_ADDR_BAD_HEADER)
		return false;
	out->region_id = region_of(handler, state, routed->peer, out->who, &out->addr);
	return true;
}

void client_place_refuse(const struct request_handler *handler, const struct routed_request *routed,
			 struct request_log_text *text, const struct request_reply *reply)
{
	/* A /v2/ error like every other: an OCI error body, the API version. */
	struct response resp = {.status = 400,
				.oci_error = "UNSUPPORTED",
				.message = "missing or malformed X-Forwarded-For",
				.api_version = true,
				.keep_alive = routed->keep_alive,
				.head = routed->head};
	if (text)
		ip_format(&routed->peer->addr, text->client, sizeof(text->client));
	request_log_reply(handler, reply, &resp, text, NULL, NULL);
}
