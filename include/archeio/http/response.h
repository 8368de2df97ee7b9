/* Serialising a response (status line, headers, body) into a buffer. Pure. */
#ifndef ARCHEIO_HTTP_RESPONSE_H
#define ARCHEIO_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

/* Longest Location a response carries (the router's ROUTE_LOCATION_MAX must
 * not exceed it; the server checks that at compile time). */
#define RESPONSE_LOCATION_MAX 8192

struct response {
	int status;
	const char *location;	/* 3xx only */
	const char *oci_error;	/* OCI error body code, or NULL */
	const char *message;	/* text for the body */
	bool allow_header;	/* "Allow: GET, HEAD" (405) */
	unsigned retry_after_s; /* "Retry-After: N" (429); 0: none */
	bool api_version;	/* "Docker-Distribution-Api-Version: registry/2.0" */
	bool keep_alive;
	bool head; /* HEAD request: headers only */
};

const char *response_reason(int status);
/* Writes the whole response; date is an IMF-fixdate. Returns the length, or
 * 0 when cap is too small. */
size_t response_write(const struct response *resp, const char *date, char *out, size_t cap);

#endif
