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
	if (n) /* an absent header is a NULL span: memcpy may not be given NULL */
		memcpy(dst, span.ptr, n);
	dst[n] = '\0';
}

void request_log_begin(struct request_log_text *text, const struct http_request *req)
{
	/* vDSO, no system call; read only for a line that will be written. */
	clock_gettime(CLOCK_MONOTONIC, &text->started);
	text->client[0] = '\0';
	span_copy(text->method, sizeof(text->method), req->method);
	span_copy(text->path, sizeof(text->path), req->target);
	text->has_user_agent = req->user_agent.ptr != NULL;
	span_copy(text->user_agent, sizeof(text->user_agent), req->user_agent);
}

static long long micros_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - start->tv_sec) * 1000000 +
	       (now.tv_nsec - start->tv_nsec) / 1000;
}

/* One line waiting for its answer's length (lives for the send call). */
struct pending_line {
	const struct request_handler *handler;
	const struct request_log_text *text;
	const struct response *resp;
	const char *cloud;
	const char *region;
};

static void write_line(void *arg, size_t bytes)
{
	const struct pending_line *p = arg;
	const struct request_log_text *text = p->text;
	const struct log_field fields[] = {
	    LOG_TEXT("client", text->client),
	    LOG_TEXT("cloud", p->cloud),
	    LOG_TEXT("region", p->region),
	    LOG_TEXT("method", text->method),
	    LOG_TEXT("path", text->path),
	    LOG_NUMBER("status", p->resp->status),
	    LOG_TEXT("target", p->resp->location),
	    LOG_NUMBER("duration_us", micros_since(&text->started)),
	    LOG_NUMBER("bytes", bytes),
	    LOG_TEXT("user_agent", text->has_user_agent ? text->user_agent : NULL),
	};
	log_record(p->handler->log, access_level(p->handler), "request", fields,
		   sizeof(fields) / sizeof(fields[0]));
}

void request_log_reply(const struct request_handler *handler, const struct request_reply *reply,
		       const struct response *resp, const struct request_log_text *text,
		       const char *cloud, const char *region)
{
	if (!text) {
		reply->send(reply->arg, resp, NULL);
		return;
	}
	struct pending_line line = {
	    .handler = handler, .text = text, .resp = resp, .cloud = cloud, .region = region};
	reply->send(reply->arg, resp, &(struct http_sent){write_line, &line});
}
