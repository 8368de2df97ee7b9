#include "http.h"
#include "archeio/core/buf.h"
#include "backoff.h"
#include "interrupt.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define ERROR_BODY_KEEP 512

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ULL),
			      .tv_nsec = (long)(ns % 1000000000ULL)};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

void http_client_init(struct http_client *c, double rps, unsigned retries)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	/* Burst of one second's worth: short spikes are fine, the average holds. */
	token_bucket_init(&c->bucket, rps, rps >= 1 ? rps : 1, monotonic_ns());
	c->jitter_state = monotonic_ns() | 1;
	c->retries = retries;
	c->base_delay_ms = 200;
	c->max_delay_ms = 10000;
	c->connect_timeout_s = 15;
	c->stall_timeout_s = 60;
}

void http_client_destroy(struct http_client *c)
{
	pthread_mutex_destroy(&c->lock);
}

static void wait_for_token(struct http_client *c)
{
	pthread_mutex_lock(&c->lock);
	uint64_t wait = token_bucket_reserve(&c->bucket, monotonic_ns());
	pthread_mutex_unlock(&c->lock);
	if (wait)
		sleep_ns(wait);
}

static double next_jitter(struct http_client *c)
{
	pthread_mutex_lock(&c->lock);
	uint64_t x = c->jitter_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	c->jitter_state = x;
	pthread_mutex_unlock(&c->lock);
	return (double)(x >> 11) / (double)(1ULL << 53);
}

struct transfer {
	const struct http_request *req;
	struct http_response *resp;
	CURL *easy;
	struct buf body; /* kept body, NUL-terminated past len; handed to resp */
	bool sink_failed;
	bool too_large;
	bool header_lost; /* a header kept for the caller could not be copied */
};

static void clear_headers(struct http_response *r)
{
	free(r->content_type);
	free(r->www_authenticate);
	free(r->link);
	free(r->docker_content_digest);
	free(r->retry_after);
	free(r->etag);
	free(r->content_length);
	free(r->checksum_sha256);
	r->content_type = r->www_authenticate = r->link = r->docker_content_digest =
	    r->retry_after = r->etag = r->content_length = r->checksum_sha256 = NULL;
}

static void clear_body(struct http_response *r)
{
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

static char *trimmed_copy(const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	return strndup(s, len);
}

static size_t on_header(char *data, size_t size, size_t count, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * count;
	/* A status line starts a new response (after a redirect or 100). */
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		clear_headers(t->resp);
		return len;
	}
	static const char *const names[] = {"content-type",	     "www-authenticate",     "link",
					    "docker-content-digest", "retry-after",	     "etag",
					    "content-length",	     "x-amz-checksum-sha256"};
	char **slots[] = {&t->resp->content_type,   &t->resp->www_authenticate,
			  &t->resp->link,	    &t->resp->docker_content_digest,
			  &t->resp->retry_after,    &t->resp->etag,
			  &t->resp->content_length, &t->resp->checksum_sha256};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);
		if (len > n && data[n] == ':' && strncasecmp(data, names[i], n) == 0) {
			free(*slots[i]);
			*slots[i] = trimmed_copy(data + n + 1, len - n - 1);
			/* Without it the answer would be misread (a list cut at
			 * its first page, a challenge unanswered): end the transfer. */
			if (!*slots[i]) {
				t->header_lost = true;
				return 0;
			}
		}
	}
	return len;
}

/* Keeps up to limit bytes of body; past it, only what still fits. The text
 * stays NUL-terminated (outside len) because error bodies are printed. */
static bool keep_body(struct transfer *t, const char *data, size_t len, size_t limit)
{
	struct buf *b = &t->body;
	if (b->len + len > limit) {
		if (b->len >= limit)
			return false;
		len = limit - b->len;
	}
	if (!buf_reserve(b, len + 1, 0))
		return false;
	buf_append(b, data, len, 0);
	b->data[b->len] = '\0';
	return true;
}

static size_t on_body(char *data, size_t size, size_t count, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * count;
	long status = 0;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		/* Error bodies are kept short, for the message only. */
		keep_body(t, data, len, ERROR_BODY_KEEP);
		return len;
	}
	if (t->req->sink) {
		if (!t->req->sink->write(t->req->sink->ctx, data, len)) {
			t->sink_failed = true;
			return 0;
		}
		return len;
	}
	if (t->body.len + len > t->req->max_body) {
		t->too_large = true;
		return 0;
	}
	if (!keep_body(t, data, len, t->req->max_body)) {
		t->sink_failed = true;
		return 0;
	}
	return len;
}

/* Ends a transfer soon after SIGINT/SIGTERM unless it must survive it. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	const struct transfer *t = arg;
	return !t->req->survives_interrupt && interrupt_pending();
}

static void setup(CURL *easy, const struct http_request *req, struct transfer *t,
		  const struct http_client *c)
{
	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_URL, req->url);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "archeio-mirror/1");
	curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->resp->error);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, c->connect_timeout_s);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, c->stall_timeout_s);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(easy, CURLOPT_XFERINFODATA, t);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (req->follow_redirects) {
		curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 10L);
	}
	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
	} else if (req->upload) {
		/* An upload is a PUT to curl; POST with a body only renames it. */
		curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(easy, CURLOPT_READDATA, req->upload);
		curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->upload_size);
		if (strcmp(req->method, "PUT") != 0)
			curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (strcmp(req->method, "POST") == 0 && req->post_form) {
		/* A form POST (a token service's refresh-token grant). */
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)strlen(req->post_form));
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->post_form);
	} else if (strcmp(req->method, "GET") != 0) {
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
	}
	if (c->ca_file)
		curl_easy_setopt(easy, CURLOPT_CAINFO, c->ca_file);
}

/* One attempt; true when a response arrived. */
static bool attempt(struct http_client *c, CURL *easy, const struct http_request *req,
		    struct http_response *resp)
{
	struct transfer t = {.req = req, .resp = resp, .easy = easy};
	clear_headers(resp);
	clear_body(resp);
	resp->status = 0;
	resp->error[0] = '\0';
	if (req->sink && req->sink->reset && !req->sink->reset(req->sink->ctx)) {
		snprintf(resp->error, sizeof(resp->error), "cannot reset the download target");
		return false;
	}
	if (req->upload && fseeko(req->upload, 0, SEEK_SET) != 0) {
		snprintf(resp->error, sizeof(resp->error), "cannot rewind the upload: %s",
			 strerror(errno));
		return false;
	}
	setup(easy, req, &t, c);
	CURLcode rc = curl_easy_perform(easy);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = t.body.data;
	resp->body_len = t.body.len;
	if (t.too_large) {
		snprintf(resp->error, sizeof(resp->error), "response larger than %zu bytes",
			 req->max_body);
		return false;
	}
	if (t.sink_failed) {
		snprintf(resp->error, sizeof(resp->error), "cannot store the response body");
		return false;
	}
	if (t.header_lost) {
		snprintf(resp->error, sizeof(resp->error), "out of memory for a response header");
		return false;
	}
	if (rc != CURLE_OK) {
		if (!resp->error[0])
			snprintf(resp->error, sizeof(resp->error), "%s", curl_easy_strerror(rc));
		resp->status = 0;
		return false;
	}
	return true;
}

bool http_perform(struct http_client *c, CURL *easy, const struct http_request *req,
		  struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	for (unsigned n = 0;; n++) {
		if (req->rate_limited)
			wait_for_token(c);
		resp->attempts = n + 1;
		bool got = attempt(c, easy, req, resp);
		bool sink_problem = !got && resp->status != 0;
		bool retry =
		    (!got && !sink_problem) || (got && backoff_status_retryable(resp->status));
		bool interrupted = !req->survives_interrupt && interrupt_pending();
		if (interrupted && !got)
			snprintf(resp->error, sizeof(resp->error), "interrupted");
		if (!retry || n >= c->retries || interrupted)
			return got;
		uint64_t delay =
		    backoff_delay_ms(n, c->base_delay_ms, c->max_delay_ms, next_jitter(c));
		uint64_t asked = backoff_retry_after_ms(resp->retry_after, c->max_delay_ms);
		sleep_ns((asked > delay ? asked : delay) * 1000000ULL);
	}
}

void http_response_free(struct http_response *resp)
{
	clear_headers(resp);
	clear_body(resp);
}
