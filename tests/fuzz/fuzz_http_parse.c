/* The HTTP request-head parser. Properties: it answers every input as the
 * rescanning parser it replaced did (http_parse_ref.inc: same result,
 * status, length and fields); fed the same bytes a byte at a time, or in
 * chunks the input chooses, one resumable parser ends as the one-shot parse
 * did, and its work stays linear; spans lie inside the head it consumed; a
 * head cut at any earlier byte is incomplete (never an error, never done:
 * resuming a partial read is safe); the head written back out (request line,
 * X-Forwarded-For lines, Connection) parses to the same method, target,
 * version, persistence and forwarded-for value. */
#include <stdint.h>

#include "archeio/http/http_parse.h"
#include "fuzz_check.h"
#include "http_parse_ref.inc"

#define MAX_HEAD 8192

static bool span_same(struct http_span a, struct http_span b)
{
	return a.ptr == b.ptr && a.len == b.len;
}

/* Two parses of the same buffer agree on everything they report. */
static void check_same(enum http_parse_result ra, const struct http_request *a, size_t ua, int sa,
		       enum http_parse_result rb, const struct http_request *b, size_t ub, int sb)
{
	FUZZ_CHECK(ra == rb);
	if (ra == HTTP_PARSE_ERROR)
		FUZZ_CHECK(sa == sb);
	if (ra != HTTP_PARSE_DONE)
		return;
	FUZZ_CHECK(ua == ub);
	FUZZ_CHECK(span_same(a->method, b->method) && span_same(a->target, b->target));
	FUZZ_CHECK(a->version_minor == b->version_minor && a->keep_alive == b->keep_alive);
	FUZZ_CHECK(a->has_body == b->has_body && a->has_host == b->has_host);
	FUZZ_CHECK(a->header_count == b->header_count && a->xff_count == b->xff_count);
	for (size_t i = 0; i < a->xff_count; i++)
		FUZZ_CHECK(span_same(a->xff[i], b->xff[i]));
	FUZZ_CHECK(span_same(a->user_agent, b->user_agent));
}

/* One resumable parser fed buf[0..size) in growing prefixes: chunk sizes
 * from `sizes` (1 each when NULL), until it is done or fails. It ends as a
 * one-shot parse of the bytes it had then, and (below the head limit,
 * where only the limit could differ) as the one-shot parse of all of buf:
 * want. Its work stays linear: at most the bytes scanned plus the byte each
 * call stopped at (a CR that ended a read is looked at again), plus
 * trimmed blanks and versions, which are bytes of the head once each. */
static void check_resume(const char *buf, size_t size, const uint8_t *sizes, size_t nsizes,
			 enum http_parse_result want, const struct http_request *wreq, size_t wused,
			 int wstatus)
{
	struct http_parser p;
	http_parser_reset(&p);
	struct http_request req, once;
	size_t used = 0, once_used = 0, len = 0, calls = 0;
	int status = 0, once_status = 0;
	enum http_parse_result r;
	do {
		size_t step = sizes ? (size_t)sizes[calls % nsizes] % 64 + 1 : 1;
		len = size - len < step ? size : len + step;
		calls++;
		r = http_parser_feed(&p, buf, len, MAX_HEAD, &req, &used, &status);
	} while (r == HTTP_PARSE_INCOMPLETE && len < size);
	enum http_parse_result ro =
	    http_parse_request(buf, len, MAX_HEAD, &once, &once_used, &once_status);
	check_same(r, &req, used, status, ro, &once, once_used, once_status);
	if (len < MAX_HEAD)
		check_same(r, &req, used, status, want, wreq, wused, wstatus);
	FUZZ_CHECK(p.examined <= 3 * len + calls + 8);
}

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
	struct http_request ref;
	size_t ref_used = 0;
	int ref_status = 0;
	enum http_parse_result rr =
	    ref_parse_request(buf, size, MAX_HEAD, &ref, &ref_used, &ref_status);
	check_same(r, &req, consumed, status, rr, &ref, ref_used, ref_status);
	check_resume(buf, size, NULL, 0, r, &req, consumed, status);
	if (size > 0)
		check_resume(buf, size, data, size < 16 ? size : 16, r, &req, consumed, status);
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
