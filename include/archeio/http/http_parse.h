/* HTTP/1.x request-head parser (RFC 9112), pure: bytes in, spans out.
 * Only what a redirector needs: method, target, version, connection
 * persistence, body framing (so the connection can be closed when a body is
 * sent), X-Forwarded-For and User-Agent (for the access log). A body, chunked or not, is never
 * refused (no 501): it is left unread and the connection closes after the answer. Spans point into
 * the caller's buffer. */
#ifndef ARCHEIO_HTTP_HTTP_PARSE_H
#define ARCHEIO_HTTP_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_HEADERS 100 /* besides the first Host */
#define HTTP_MAX_XFF_LINES 8

struct http_span {
	const char *ptr;
	size_t len;
};

struct http_request {
	struct http_span method;
	struct http_span target;
	int version_minor; /* HTTP/1.0 or HTTP/1.1 */
	bool keep_alive;
	bool has_body; /* Content-Length > 0 or Transfer-Encoding: not read, conn closes */
	struct http_span xff[HTTP_MAX_XFF_LINES];
	size_t xff_count;
	struct http_span user_agent; /* the first User-Agent line; empty when none */
	size_t header_count;	     /* every header line, Host included */
	bool has_host; /* a Host line was seen (it is not counted against the limit) */
};

enum http_parse_result {
	HTTP_PARSE_DONE,       /* *consumed = bytes of the request head */
	HTTP_PARSE_INCOMPLETE, /* need more bytes (and len < max) */
	HTTP_PARSE_ERROR,      /* *status = 400, 414, 431 or 505 */
};

/* Parses one request head from buf[0..len). max_head bounds the head size:
 * an incomplete head at or beyond it is 431 (or 414 while still in the
 * request line). */
enum http_parse_result http_parse_request(const char *buf, size_t len, size_t max_head,
					  struct http_request *req, size_t *consumed, int *status);

/* Joins the X-Forwarded-For lines with ", " into out (NUL-terminated).
 * Returns the length, or -1 when it does not fit. */
long http_join_xff(const struct http_request *req, char *out, size_t cap);

#endif
