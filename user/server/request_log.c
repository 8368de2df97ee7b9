#include "request_log.h"

#include <stdio.h>
#include <string.h>

#include "archeio/core/log.h"
#include "archeio/server/config.h"

static enum log_level access_level(const struct request_handler *handler)
{
	return handler->config->access_log ? LOG_INFO : LOG_DEBUG;
}

bool request_log_enabled(const struct request_handler *handler)
{
	return log_enabled(handler->log, access_level(handler));
}

static void span_copy(char *dst, size_t cap, struct http_span span)
{
	size_t n = span.len < cap - 1 ? span.len : cap - 1;
	memcpy(dst, span.ptr, n);
	dst[n] = '\0';
}

void request_log_describe(struct request_log_text *text, const struct http_request *req)
{
	span_copy(text->method, sizeof(text->method), req->method);
	span_copy(text->path, sizeof(text->path), req->target);
}

void request_log_write(const struct request_handler *handler, const struct request_log_text *text,
		       const char *cloud, const char *region, int status, const char *target)
{
	enum log_level level = access_level(handler);
	if (!log_enabled(handler->log, level))
		return;
	char status_text[8];
	snprintf(status_text, sizeof(status_text), "%d", status);
	const char *keys[] = {"client", "cloud", "region", "method", "path", "status", "target"};
	const char *values[] = {text->client, cloud,	   region, text->method,
				text->path,   status_text, target};
	log_fields(handler->log, level, "request", keys, values, 7);
}
