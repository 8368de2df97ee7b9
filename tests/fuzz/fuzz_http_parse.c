/* The HTTP request-head parser. Properties: spans lie inside the head it
 * consumed; a head cut at any earlier byte is incomplete (never an error,
 * never done: resuming a partial read is safe); the head written back out
 * (request line, X-Forwarded-For lines, Connection) parses to the same
 * method, target, version, persistence and forwarded-for value. */
#include <stdint.h>

#include "archeio/http/http_parse.h"
#include "fuzz_check.h"

#define MAX_HEAD 8192

static void check_span(struct http_span s, const char *buf, size_t consumed)
{
	FUZZ_CHECK(s.ptr >= buf && s.ptr + s.len <= buf + consumed);
}

static void check_prefixes(const char *buf, size_t consumed)
{
	/* All cut points for small heads; a sample for big ones (bounded time). */
	size_t step = consumed <= 1024 ? 1 : consumed / 512;
	for (size_t cut = 0; cut < consumed; cut += step) {
		struct http_request req;
		size_t used = 0;
		int status = 0;
		enum http_parse_result r =
		    http_parse_request(buf, cut, MAX_HEAD, &req, &used, &status);
		FUZZ_CHECK(r == HTTP_PARSE_INCOMPLETE);
	}
}

static void check_round_trip(const struct http_request *req)
{
	char out[MAX_HEAD * 2], xff1[MAX_HEAD], xff2[MAX_HEAD];
	int n =
	    snprintf(out, sizeof(out), "%.*s %.*s HTTP/1.%d\r\n", (int)req->method.len,
		     req->method.ptr, (int)req->target.len, req->target.ptr, req->version_minor);
	size_t len = (size_t)n;
	for (size_t i = 0; i < req->xff_count; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "X-Forwarded-For: %.*s\r\n",
					(int)req->xff[i].len, req->xff[i].ptr);
	len += (size_t)snprintf(out + len, sizeof(out) - len, "Connection: %s\r\n\r\n",
				req->keep_alive ? "keep-alive" : "close");
	struct http_request again;
	size_t used = 0;
	int status = 0;
	enum http_parse_result r =
	    http_parse_request(out, len, sizeof(out), &again, &used, &status);
	FUZZ_CHECK(r == HTTP_PARSE_DONE && used == len);
	FUZZ_CHECK(again.method.len == req->method.len &&
		   memcmp(again.method.ptr, req->method.ptr, req->method.len) == 0);
	FUZZ_CHECK(again.target.len == req->target.len &&
		   memcmp(again.target.ptr, req->target.ptr, req->target.len) == 0);
	FUZZ_CHECK(again.version_minor == req->version_minor);
	FUZZ_CHECK(again.keep_alive == req->keep_alive);
	long a = http_join_xff(req, xff1, sizeof(xff1));
	long b = http_join_xff(&again, xff2, sizeof(xff2));
	FUZZ_CHECK(a == b && (a < 0 || memcmp(xff1, xff2, (size_t)a) == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_HEAD * 2)
		return 0;
	const char *buf = (const char *)data;
	struct http_request req;
	size_t consumed = 0;
	int status = 0;
	enum http_parse_result r =
	    http_parse_request(buf, size, MAX_HEAD, &req, &consumed, &status);
	if (r == HTTP_PARSE_ERROR) {
		FUZZ_CHECK(status == 400 || status == 414 || status == 431 || status == 505);
		return 0;
	}
	if (r == HTTP_PARSE_INCOMPLETE) {
		FUZZ_CHECK(size < MAX_HEAD);
		return 0;
	}
	FUZZ_CHECK(consumed > 0 && consumed <= size && consumed <= MAX_HEAD);
	FUZZ_CHECK(req.method.len > 0 && req.target.len > 0);
	FUZZ_CHECK(req.version_minor == 0 || req.version_minor == 1);
	FUZZ_CHECK(req.xff_count <= HTTP_MAX_XFF_LINES);
	check_span(req.method, buf, consumed);
	check_span(req.target, buf, consumed);
	for (size_t i = 0; i < req.xff_count; i++)
		check_span(req.xff[i], buf, consumed);
	check_prefixes(buf, consumed);
	check_round_trip(&req);
	return 0;
}
