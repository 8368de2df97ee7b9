/* The access log: one "request" line per answer, with the fields client,
 * cloud, region, method, path, status, target, duration_us (from the request
 * to its answer), bytes (the answer as serialised) and user_agent; at info
 * with --access-log, else at debug. Nothing of it is done when the line will
 * not be written: no text forms, no clock, no length asked of the connection. */
#ifndef ARCHEIO_SERVER_REQUEST_LOG_H
#define ARCHEIO_SERVER_REQUEST_LOG_H

#include <stdbool.h>
#include <time.h>

#include "request.h"

/* What the line says of the request, cut to fit; made by
 * request_log_begin(). */
struct request_log_text {
	char client[64];
	char method[8];
	char path[256];
	char user_agent[256];
	bool has_user_agent;
	struct timespec started; /* CLOCK_MONOTONIC when the request was handed over */
};

bool request_log_enabled(const struct request_handler *handler);
/* Notes the time and fills method, path and user agent from req (client is
 * the caller's: it depends on X-Forwarded-For). Only when logging is enabled. */
void request_log_begin(struct request_log_text *text, const struct http_request *req);
/* Sends resp through reply. With text (NULL when logging is off), the line
 * is written once the connection tells the answer's length; status and
 * target are resp's; cloud and region may be NULL (written as "-"). A late
 * answer nobody reads is sent but not logged. */
void request_log_reply(const struct request_handler *handler, const struct request_reply *reply,
		       const struct response *resp, const struct request_log_text *text,
		       const char *cloud, const char *region);

#endif
