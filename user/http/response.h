/* Serialising a response (status line, headers, body) into a buffer. Pure. */
#ifndef ARCHEIO_RESPONSE_H
#define ARCHEIO_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "archeio/contract/route.h"

struct response {
	int status;
	const char *location;  /* 3xx only */
	const char *oci_error; /* OCI error body code, or NULL */
	const char *message;   /* text for the body */
	bool allow_header;     /* "Allow: GET, HEAD" (405) */
	bool api_version;      /* "Docker-Distribution-Api-Version: registry/2.0" */
	bool keep_alive;
	bool head; /* HEAD request: headers only */
};

const char *response_reason(int status);
/* The response for a routing decision that needs no further work. */
void response_from_route(const struct route_result *route, bool head, bool keep_alive,
			 struct response *out);
/* Writes the whole response; date is an IMF-fixdate. Returns the length, or
 * 0 when cap is too small. */
size_t response_write(const struct response *resp, const char *date, char *out, size_t cap);

#endif
