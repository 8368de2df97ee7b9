/* Who the client of a request is and where: its address (the peer, or the
 * trusted X-Forwarded-For entry) and its region (the connection's XDP tag
 * when the client is the tagged peer, else a lookup). Blob requests always
 * need it; other requests only when upstream rules choose their upstream. */
#ifndef ARCHEIO_SERVER_CLIENT_PLACE_H
#define ARCHEIO_SERVER_CLIENT_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "archeio/geo/client_addr.h"
#include "request.h"

struct client_place {
	enum client_addr_result who;
	struct ip_addr addr;
	uint32_t region_id;
};

/* A request with its routing decision. */
struct routed_request {
	const struct http_request *req;
	const struct http_peer *peer;
	const struct route_result *route; /* ROUTE_BLOB for blob_request_handle() */
	const struct client_place *place; /* NULL until resolved */
	bool head;
	bool keep_alive;
};

struct request_log_text;

/* false (and no region) when a trusted proxy's X-Forwarded-For is missing or
 * malformed: the request is answered with client_place_refuse(). */
bool client_place_resolve(const struct request_handler *handler, const struct serve_state *state,
			  const struct routed_request *routed, struct client_place *out);
/* 400 UNSUPPORTED with an OCI error body, logged with the peer as client. */
void client_place_refuse(const struct request_handler *handler, const struct routed_request *routed,
			 struct request_log_text *text, const struct request_reply *reply);

#endif
