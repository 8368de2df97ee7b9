/* Who a request comes from: the client address (the peer, or the trusted
 * X-Forwarded-For entry) and its region (the connection's XDP tag when the
 * peer is the client, else a lookup in the serve state's userspace range
 * table). Shared by the blob rule and the per-client limit. */
#ifndef ARCHEIO_SERVER_REQUEST_CLIENT_H
#define ARCHEIO_SERVER_REQUEST_CLIENT_H

#include <stdint.h>

#include "archeio/geo/client_addr.h"
#include "request.h"

enum client_addr_result request_client_resolve(const struct request_handler *handler,
					       const struct http_request *req,
					       const struct http_peer *peer,
					       struct ip_addr *client);

uint32_t request_client_region(const struct serve_state *state, const struct http_peer *peer,
			       enum client_addr_result who, const struct ip_addr *client);

#endif
