#include "request_client.h"

#include "archeio/server/config.h"
#include "archeio/server/serve_state.h"

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
 * the client. Any other address (a forwarded client, an untagged peer) is
 * looked up in the serve state's table, with or without XDP: it holds the
 * same ranges as the kernel's tries, answers in ~14 ns, and the kernel's
 * trie would cost a bpf() syscall and a lock per request. */
uint32_t request_client_region(const struct serve_state *state, const struct http_peer *peer,
			       enum client_addr_result who, const struct ip_addr *client)
{
	if (who == CLIENT_ADDR_PEER && peer->tagged)
		return peer->tag;
	return range_table_lookup(state->table, client);
}
