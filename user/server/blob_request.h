/* Rule 8 of the contract: a blob goes to the mirror of the client's region
 * when that mirror has it, else upstream. */
#ifndef ARCHEIO_SERVER_BLOB_REQUEST_H
#define ARCHEIO_SERVER_BLOB_REQUEST_H

#include <stdbool.h>

#include "request.h"

/* A request with its routing decision. */
struct routed_request {
	const struct http_request *req;
	const struct http_peer *peer;
	const struct route_result *route; /* ROUTE_BLOB for blob_request_handle() */
	bool head;
	bool keep_alive;
};

struct request_log_text;

/* Answers through reply, now or (mirror not yet known) later. text: the
 * access log's record of the request (its client is filled here), NULL when
 * the access log is off. */
void blob_request_handle(const struct request_handler *handler, struct serve_state *state,
			 const struct routed_request *routed, struct request_log_text *text,
			 const struct request_reply *reply);

#endif
