/* One HTTP exchange over libcurl with the mirror's policies: an optional
 * requests-per-second limit (shared by every thread using the client),
 * bounded retries with exponential backoff on transport errors, 408/429 and
 * 5xx (honouring Retry-After), and streaming of successful bodies into a
 * sink. Each thread passes its own CURL easy handle (kept for keep-alive). */
#ifndef ARCHEIO_MIRROR_HTTP_H
#define ARCHEIO_MIRROR_HTTP_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "token_bucket.h"

struct http_client {
	pthread_mutex_t lock; /* guards bucket and jitter */
	struct token_bucket bucket;
	uint64_t jitter_state;
	unsigned retries;
	uint64_t base_delay_ms;
	uint64_t max_delay_ms;
	long connect_timeout_s;
	long stall_timeout_s; /* abort when under 1 byte/s for this long */
	const char *ca_file;  /* CA bundle to verify https peers against; NULL: the system's */
};

/* Receives the body of a 2xx response. write returns false to abort (e.g.
 * disk full); reset discards what was written, before a retry. */
struct http_sink {
	bool (*write)(void *ctx, const char *data, size_t len);
	bool (*reset)(void *ctx);
	void *ctx;
};

struct http_request {
	const char *method; /* "GET", "HEAD", "PUT", "POST", "DELETE" */
	const char *url;
	struct curl_slist *headers;
	const struct http_sink *sink; /* NULL: a 2xx body is kept in the response */
	FILE *upload;		      /* body (any method), rewound before each attempt */
	int64_t upload_size;
	const char *post_form; /* POST body, application/x-www-form-urlencoded */
	bool rate_limited;     /* counts toward the client's requests-per-second */
	bool follow_redirects;
	size_t max_body; /* cap on a kept body; larger is an error */
	/* Finish even after SIGINT/SIGTERM (the clean-up of an interrupted run);
	 * any other request stops at once and is not retried. */
	bool survives_interrupt;
};

struct http_response {
	long status; /* 0 when no response was received */
	char *body;  /* kept body (2xx without sink) or the start of an error body */
	size_t body_len;
	char *content_type;
	char *www_authenticate;
	char *link;
	char *docker_content_digest;
	char *retry_after;
	char *etag;
	char *content_length;  /* as sent (HEAD answers carry the object's size) */
	char *checksum_sha256; /* S3's stored x-amz-checksum-sha256 (base64) */
	unsigned attempts;
	char error[CURL_ERROR_SIZE + 64]; /* transport or sink error, "" if none */
};

/* rps <= 0: no limit. */
void http_client_init(struct http_client *c, double rps, unsigned retries);
void http_client_destroy(struct http_client *c);

/* Performs req, retrying as described. Returns true when a final response
 * was received (any status; the caller judges it), false when the transport
 * failed every attempt or the sink refused data (resp->error says why). */
bool http_perform(struct http_client *c, CURL *easy, const struct http_request *req,
		  struct http_response *resp);
void http_response_free(struct http_response *resp);

#endif
