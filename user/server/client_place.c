#include "client_place.h"

#include "archeio/server/config.h"
#include "archeio/server/serve_state.h"
#include "request_log.h"

bool client_place_addr(const struct request_handler *handler, const struct routed_request *routed)
{
	struct client_place *p = routed->place;
	if (!p->resolved) {
		const struct http_request *req = routed->req;
		char joined[2048];
		const char *xff = joined;
		long xff_len;
		/* One line (the usual case) is used where it lies: joining copies
		 * it. The same bound applies as to a joined header. */
		if (req->xff_count == 1) {
			xff = req->xff[0].ptr;
			xff_len = req->xff[0].len < sizeof(joined) ? (long)req->xff[0].len : -1;
		} else {
			xff_len = http_join_xff(req, joined, sizeof(joined));
		}
		p->who = client_addr_resolve(&routed->peer->addr, &handler->config->proxies,
					     handler->config->xff_hops,
					     req->xff_count && xff_len >= 0 ? xff : NULL,
					     xff_len > 0 ? (size_t)xff_len : 0, &p->addr);
		/* A bad header names nobody: the peer stands in for it. */
		if (p->who == CLIENT_ADDR_BAD_HEADER)
			p->addr = routed->peer->addr;
		p->resolved = true;
	}
	return p->who != CLIENT_ADDR_BAD_HEADER;
}

/* The XDP tag names the peer's region, so it counts only when the peer is
 * the client (or stands in for it). Any other address (a forwarded client,
 * an untagged peer) is looked up in the serve state's range table, with or
 * without XDP: it holds the same ranges as the kernel's tries (tested
 * against each other), answers in ~14 ns, and a lookup in the kernel's trie
 * would cost a bpf() syscall and a lock per request. */
uint32_t client_place_region(const struct request_handler *handler, const struct serve_state *state,
			     const struct routed_request *routed)
{
	struct client_place *p = routed->place;
	if (p->placed)
		return p->region_id;
	client_place_addr(handler, routed);
	const struct http_peer *peer = routed->peer;
	if (p->who != CLIENT_ADDR_FORWARDED && peer->tagged)
		p->region_id = peer->tag;
	else
		p->region_id = range_table_lookup(state->table, &p->addr);
	p->placed = true;
	return p->region_id;
}

bool client_place_resolve(const struct request_handler *handler, const struct serve_state *state,
			  const struct routed_request *routed)
{
	if (!client_place_addr(handler, routed))
		return false;
	client_place_region(handler, state, routed);
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
