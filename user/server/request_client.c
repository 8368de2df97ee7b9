#include "request_client.h"

#include "archeio/server/config.h"
#include "archeio/server/serve_state.h"
#include "archeio/xdp/xdp_path.h"

enum client_addr_result request_client_resolve(const struct request_handler *handler,
					       const struct http_request *req,
					       const struct http_peer *peer, struct ip_addr *client)
{
	char xff[2048];
	long xff_len = http_join_xff(req, xff, sizeof(xff));
	return client_addr_resolve(
	    &peer->addr, &handler->config->proxies, handler->config->xff_hops,
	    req->xff_count && xff_len >= 0 ? xff : NULL, xff_len > 0 ? (size_t)xff_len : 0, client);
}

/* The XDP tag names the peer's region, so it counts only when the peer is
 * the client. */
uint32_t request_client_region(const struct request_handler *handler,
			       const struct serve_state *state, const struct http_peer *peer,
			       enum client_addr_result who, const struct ip_addr *client)
{
	if (who == CLIENT_ADDR_PEER && peer->tagged)
		return peer->tag;
	return handler->xdp ? xdp_path_lookup(handler->xdp, client)
			    : range_table_lookup(state->table, client);
}
