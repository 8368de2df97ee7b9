/* Rule 8 of the contract: a blob goes to the mirror of the client's region
 * when that mirror has it, else upstream. */
#ifndef ARCHEIO_SERVER_BLOB_REQUEST_H
#define ARCHEIO_SERVER_BLOB_REQUEST_H

#include <stdbool.h>

#include "client_place.h"

/* Answers through reply, now or (mirror not yet known) later. The client is
 * routed->place when request_handle() resolved it already. text: the
 * access log's record of the request (its client is filled here), NULL when
 * the access log is off. */
void blob_request_handle(const struct request_handler *handler, struct serve_state *state,
			 const struct routed_request *routed, struct request_log_text *text,
			 const struct request_reply *reply);

#endif
