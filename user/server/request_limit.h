/* The per-client request limit in front of every route (--rate-limit): the
 * client (the address the blob rule would use) takes a token from its bucket
 * in the table every worker shares; exempt clients and clients within their
 * limit go on, the others get 429 TOOMANYREQUESTS with Retry-After, never a
 * redirect. */
#ifndef ARCHEIO_SERVER_REQUEST_LIMIT_H
#define ARCHEIO_SERVER_REQUEST_LIMIT_H

#include <stdbool.h>

#include "request.h"

struct request_log_text;

/* true when the request was answered (refused); false: go on. */
bool request_limit_refuse(const struct request_handler *handler, struct serve_state *state,
			  const struct http_peer *peer, const struct http_request *req,
			  struct request_log_text *text, const struct request_reply *reply);

#endif
