/* The access log: one "request" line per answer, with the fields client,
 * cloud, region, method, path, status and target; at info with --access-log,
 * else at debug. Text forms are made only when the line will be written:
 * formatting addresses costs more than routing. */
#ifndef ARCHEIO_SERVER_REQUEST_LOG_H
#define ARCHEIO_SERVER_REQUEST_LOG_H

#include <stdbool.h>

#include "request.h"

/* The request's text fields, cut to fit; "" until filled. */
struct request_log_text {
	char client[64];
	char method[8];
	char path[256];
};

bool request_log_enabled(const struct request_handler *handler);
/* Fills method and path from req (client is the caller's: it depends on
 * X-Forwarded-For). */
void request_log_describe(struct request_log_text *text, const struct http_request *req);
/* cloud, region and target may be NULL (written as "-"). */
void request_log_write(const struct request_handler *handler, const struct request_log_text *text,
		       const char *cloud, const char *region, int status, const char *target);

#endif
