/* The per-client request limit in front of every route (--rate-limit): the
 * client (the address the blob rule would use) takes a token from its bucket
 * in the table every worker shares; exempt clients and clients within their
 * limit go on, the others get 429 TOOMANYREQUESTS with Retry-After, never a
 * redirect. */
#ifndef ARCHEIO_SERVER_REQUEST_LIMIT_H
#define ARCHEIO_SERVER_REQUEST_LIMIT_H

#include <stdbool.h>

#include "client_place.h"

struct request_log_text;

/* true when the request was answered (refused); false: go on. Runs before
 * routing: routed->route is not yet filled; routed->place is, as needed. */
bool request_limit_refuse(const struct request_handler *handler, struct serve_state *state,
			  const struct routed_request *routed, struct request_log_text *text,
			  const struct request_reply *reply);

#endif
