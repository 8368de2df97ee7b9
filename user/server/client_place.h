/* Who the client of a request is and where, found once per request and
 * shared by everything that needs it: the per-client limit (--rate-limit,
 * before routing), upstream rules (--upstream-rules, for what goes to
 * --upstream) and the blob rule. Its address is the peer, or the trusted
 * X-Forwarded-For entry; its region the connection's XDP tag when the peer
 * is the client, else a lookup. Each part is worked out on first use only:
 * a request that needs neither costs nothing. */
#ifndef ARCHEIO_SERVER_CLIENT_PLACE_H
#define ARCHEIO_SERVER_CLIENT_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "archeio/geo/client_addr.h"
#include "request.h"

struct client_place {
	bool resolved; /* who and addr are set */
	bool placed;   /* region_id is set */
	/* CLIENT_ADDR_BAD_HEADER: a trusted proxy's X-Forwarded-For is missing
	 * or malformed; addr is then the peer's (whom the limit counts) */
	enum client_addr_result who;
	struct ip_addr addr;
	uint32_t region_id; /* 0: in no range */
};

/* A request with its routing decision. */
struct routed_request {
	const struct http_request *req;
	const struct http_peer *peer;
	const struct route_result *route; /* ROUTE_BLOB for blob_request_handle() */
	struct client_place *place;	  /* never NULL; filled on first use */
	bool head;
	bool keep_alive;
};

struct request_log_text;

/* The client's address, resolved on the first call; false when a trusted
 * proxy's X-Forwarded-For is missing or malformed (answer with
 * client_place_refuse() where the client matters). */
bool client_place_addr(const struct request_handler *handler, const struct routed_request *routed);
/* The client's region id (0: in no range), looked up on the first call;
 * for a bad X-Forwarded-For, the peer's. */
uint32_t client_place_region(const struct request_handler *handler, const struct serve_state *state,
			     const struct routed_request *routed);
/* client_place_addr() then client_place_region(); false as the former. */
bool client_place_resolve(const struct request_handler *handler, const struct serve_state *state,
			  const struct routed_request *routed);
/* 400 UNSUPPORTED with an OCI error body, logged with the peer as client.
 * The caller counts it in the metrics. */
void client_place_refuse(const struct request_handler *handler, const struct routed_request *routed,
			 struct request_log_text *text, const struct request_reply *reply);

#endif
